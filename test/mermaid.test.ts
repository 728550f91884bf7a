// `--format mermaid` on a graph too large for common renderers (mermaid's default maxEdges 500 and
// maxTextSize 50,000): the 150-VM stack the diff comment test plans (scripts/generatedStack.ts,
// the same plan, shared under npm test) collapses to component types, or to components when those
// fit, and says so on the line under the header; the lab stack stays whole.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { stringify } from "yaml";
import { generatedStackDoc } from "../scripts/generatedStack";
import { MERMAID_LIMITS, toMermaid } from "../src/plan/format";
import type { RecordedResource } from "../src/plan/recorder";
import { parseStackFile, runPlan, type PlanResult } from "../src/plan/run";
import { planFile } from "./harness";

let big: PlanResult | undefined;
/** As test/diff-cli.test.ts plans it (stack "big"), so one run plans it once. */
const bigPlan = async () => (big ??= await runPlan({ stack: "big", stackFile: parseStackFile(stringify({ config: generatedStackDoc(150).config })) }));

/** The holder of each custom resource directly under the stack, and the dependency pairs between holders, computed here from the plan. */
function holders(plan: PlanResult) {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r] as const));
  const root = plan.resources.find((r) => r.parent === null)!.urn;
  const top = (r: RecordedResource): RecordedResource => (r.parent === root || r.parent === null ? r : top(byUrn.get(r.parent)!));
  const customs = plan.resources.filter((r) => r.custom && r.parent !== null);
  return { customs, top, byUrn };
}

const nodeLines = (m: string) => m.split("\n").filter((l) => /^ {2}c\d+\["/.test(l));
const edgeLines = (m: string) => m.split("\n").filter((l) => l.includes(" --> "));

describe("mermaid on the 150-VM stack", () => {
  test("collapses to component types within the renderers' limits, and says so", async () => {
    const plan = await bigPlan();
    const { customs, top, byUrn } = holders(plan);
    const m = toMermaid(plan);
    const lines = m.trimEnd().split("\n");
    assert.ok(m.length <= MERMAID_LIMITS.maxTextSize, `${m.length} characters`);
    assert.equal(lines[0], "flowchart LR");
    const full = toMermaid(plan, { maxEdges: Infinity, maxTextSize: Infinity });
    assert.equal(
      lines[1],
      `%% collapsed to component types: the full graph (${customs.length} custom resources, ${edgeLines(full).length} dependencies, ${full.length} characters) is over common renderers' limits (500 edges, 50000 characters); --format json lists every resource`,
    );
    assert.ok(edgeLines(full).length > 500 && full.length > 50_000, "the whole graph is over both limits");

    // One node per type of holder, with how many holders and resources it stands for.
    const types = new Map<string, { holders: Set<string>; resources: number }>();
    for (const r of customs) {
      const t = types.get(top(r).type) ?? { holders: new Set<string>(), resources: 0 };
      t.holders.add(top(r).urn);
      t.resources++;
      types.set(top(r).type, t);
    }
    const nodes = nodeLines(m);
    assert.equal(nodes.length, types.size);
    const idOf = new Map<string, string>();
    for (const [type, t] of types) {
      const short = type.split(":").pop();
      const line = nodes.filter((l) => l.includes(`<small>${type}</small>`));
      assert.equal(line.length, 1, type);
      assert.match(
        line[0],
        new RegExp(`^  (c\\d+)\\["${short} ×${t.holders.size}<br/><small>${type.replace(/[$/.]/g, "\\$&")}</small><br/><small>${t.resources} resources?</small>"\\]$`),
      );
      idOf.set(type, /^ {2}(c\d+)/.exec(line[0])![1]);
    }
    assert.match(m, /ProxmoxVm ×150</);

    // One edge per pair of types with a dependency between their resources, no other.
    const pairs = new Set<string>();
    for (const r of customs) {
      for (const d of r.dependencies) {
        const dep = byUrn.get(d);
        if (!dep || !dep.custom || dep.parent === null) continue;
        if (top(dep).type !== top(r).type) pairs.add(`  ${idOf.get(top(dep).type)} --> ${idOf.get(top(r).type)}`);
      }
    }
    assert.deepEqual(edgeLines(m), [...pairs].sort());
    assert.ok(pairs.size <= MERMAID_LIMITS.maxEdges);
  });

  test("collapses to components when those fit", async () => {
    const plan = await bigPlan();
    const { customs, top } = holders(plan);
    const m = toMermaid(plan, { maxEdges: 5000, maxTextSize: 500_000 });
    assert.match(
      m.split("\n")[1],
      /^%% collapsed to components: the full graph \(\d+ custom resources, \d+ dependencies, \d+ characters\) is over common renderers' limits \(5000 edges, 500000 characters\)/,
    );
    const tops = new Set(customs.map((r) => top(r).urn));
    assert.equal(nodeLines(m).length, tops.size);
    assert.equal(nodeLines(m).filter((l) => /<small>ProxmoxVm<\/small>/.test(l)).length, 150);
    assert.ok(edgeLines(m).length <= 5000);
  });

  test("the lab stack fits and stays whole: no collapse line", async () => {
    const m = toMermaid((await planFile("Pulumi.lab.yaml", "lab")).result);
    assert.doesNotMatch(m, /^%%/m);
    assert.ok(m.length <= MERMAID_LIMITS.maxTextSize && edgeLines(m).length <= MERMAID_LIMITS.maxEdges);
  });
});
