// docs/diff-fidelity.md names, for every resource type the program registers, the rule that
// decides a replace, its upstream source and its confidence label. Planned here: every stack file
// (Pulumi.*.yaml, stacks/*.yaml, docs/config-reference.yaml); each registered type has exactly one
// row, no row names a type nothing registers, and the label agrees with the replace tables.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tableFor } from "../src/plan/replaceRules";
import { parseStackFile, runPlan } from "../src/plan/run";
import { ROOT, STACK_FILES, stackOf } from "./harness";

/** The rows of the "Per type" table: type (first cell, in backticks) -> label (last cell). */
function rows(): Map<string, string> {
  const doc = readFileSync(join(ROOT, "docs", "diff-fidelity.md"), "utf8");
  const section = doc.slice(doc.indexOf("\n## Per type\n"), doc.indexOf("\n## ", doc.indexOf("\n## Per type\n") + 1));
  const out = new Map<string, string>();
  for (const line of section.split("\n")) {
    const m = /^\| `([^`]+)` \|.*\| ([^|]+) \|$/.exec(line);
    if (!m) continue;
    assert.ok(!out.has(m[1]), `${m[1]} has two rows`);
    out.set(m[1], m[2].trim());
  }
  return out;
}

describe("docs/diff-fidelity.md", () => {
  test("a row for every type the stack files register, and none for a type nothing registers", async () => {
    const custom = new Map<string, boolean>();
    for (const file of STACK_FILES) {
      const plan = await runPlan({ stack: stackOf(file), stackFile: parseStackFile(readFileSync(join(ROOT, file), "utf8")) });
      for (const r of plan.resources) custom.set(r.type, r.custom);
    }
    assert.ok(STACK_FILES.length >= 8 && custom.size > 50, `${STACK_FILES.length} files, ${custom.size} types`);
    const documented = rows();
    assert.deepEqual([...custom.keys()].filter((t) => !documented.has(t)).sort(), [], "registered types without a row");
    assert.deepEqual([...documented.keys()].filter((t) => !custom.has(t)).sort(), [], "rows for types nothing registers");
    // The label is the one the diff prints: a component is exact, a type without a table advisory,
    // a type with one table (or exact, for options).
    for (const [type, label] of documented) {
      if (!custom.get(type)) assert.equal(label, "exact", type);
      else if (type === "pulumi:providers:kubernetes") assert.match(label, /^table/, type);
      else if (tableFor(type) === undefined) assert.equal(label, "advisory", type);
      else assert.match(label, /^(table|exact)/, type);
    }
  });
});
