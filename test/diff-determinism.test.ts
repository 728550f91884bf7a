// Re-planning an unchanged stack changes nothing: for every stack file of the repository, two
// plans of it diff to all `same` (the property `--base-ref` relies on when it reuses a plan). The
// first plan is the one the other test files use (under `npm test` often planned by another process,
// src/plan/planCache.ts), so each file's stack name is theirs; the second always runs the program
// (in the plan worker, src/plan/planWorker.ts, as the first did where this process planned it).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { diffPlans } from "../src/plan/diff";
import { toPlanJson } from "../src/plan/format";
import { planInWorkerValue } from "../src/plan/planWorker";
import { parseStackFile, runPlan, type PlanResult } from "../src/plan/run";

const ROOT = join(__dirname, "..");
const FILES = [
  ...readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)),
  ...readdirSync(join(ROOT, "stacks"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => `stacks/${f}`),
  "docs/config-reference.yaml",
].sort();

/** The stack name the other test files plan each file under (stacks.test.ts, reference.test.ts, plan.test.ts, ...). */
const stackOf = (file: string) => (file === "docs/config-reference.yaml" ? "reference" : file.replace(/^(stacks\/|Pulumi\.)/, "").replace(/\.yaml$/, ""));

describe("the diff of a plan against itself", () => {
  test("covers every stack file", () => {
    assert.ok(FILES.length >= 8, FILES.join(", "));
  });
  for (const file of FILES) {
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
