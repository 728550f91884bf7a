// Re-planning an unchanged stack changes nothing: for every stack file of the repository, two
// plans of it diff to all `same` (the property `--base-ref` relies on when it reuses a plan). The
// first plan is the one the other test files use (under `npm test` often planned by another process,
// src/plan/planCache.ts), so each file's stack name is theirs; the second always runs the program
// (in the plan worker, src/plan/planWorker.ts, as the first did where this process planned it).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { diffPlans } from "../src/plan/diff";
import { toPlanJson } from "../src/plan/format";
import { planInWorkerValue } from "../src/plan/planWorker";
import { parseStackFile, runPlan, type PlanResult } from "../src/plan/run";
import { ROOT, STACK_FILES, stackOf } from "./harness";

describe("the diff of a plan against itself", () => {
  test("covers every stack file", () => {
    assert.ok(STACK_FILES.length >= 8, STACK_FILES.join(", "));
  });
  for (const file of STACK_FILES) {
    test(`${file}: two plans diff to nothing`, async () => {
      const stackFile = parseStackFile(readFileSync(join(ROOT, file), "utf8"));
      const a = toPlanJson(await runPlan({ stack: stackOf(file), stackFile }));
      const b = toPlanJson(await planInWorkerValue<PlanResult>({ stack: stackOf(file), stackFile }));
      const d = diffPlans(a, b);
      assert.deepEqual(
        d.changes.filter((c) => c.op !== "same").map((c) => `${c.op} ${c.name}`),
        [],
      );
      assert.deepEqual([d.blockers, d.warnings], [[], []]);
      assert.equal(d.summary.same, a.resources.length);
    });
  }
});
