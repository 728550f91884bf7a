// Re-planning an unchanged stack changes nothing: for every stack file of the repository, two
// plans of it diff to all `same` (the property `--base-ref` relies on when it reuses a plan).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { diffPlans } from "../src/plan/diff";
import { toPlanJson } from "../src/plan/format";
import { parseStackFile, runPlan } from "../src/plan/run";

const ROOT = join(__dirname, "..");
const FILES = [
  ...readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)),
  ...readdirSync(join(ROOT, "stacks")).filter((f) => f.endsWith(".yaml")).map((f) => `stacks/${f}`),
  "docs/config-reference.yaml",
].sort();

describe("the diff of a plan against itself", () => {
  test("covers every stack file", () => {
    assert.ok(FILES.length >= 8, FILES.join(", "));
  });
  for (const file of FILES) {
    test(`${file}: two plans diff to nothing`, async () => {
      const stackFile = parseStackFile(readFileSync(join(ROOT, file), "utf8"));
      const a = toPlanJson(await runPlan({ stack: "self", stackFile }));
      const b = toPlanJson(await runPlan({ stack: "self", stackFile }));
      const d = diffPlans(a, b);
      assert.deepEqual(d.changes.filter((c) => c.op !== "same").map((c) => `${c.op} ${c.name}`), []);
      assert.deepEqual([d.blockers, d.warnings], [[], []]);
      assert.equal(d.summary.same, a.resources.length);
    });
  }
});
