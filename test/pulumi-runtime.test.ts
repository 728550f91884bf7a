// The program as `pulumi up` loads it: Pulumi's own TypeScript path (its vendored ts-node 7 with the
// project's typescript and tsconfig) must compile src/index.ts and register the same graph as the
// plan does through scripts/load-ts.cjs. Catches tsconfig or module-format breakage esbuild would
// hide. ts-node runs transpile-only (PULUMI_NODEJS_TRANSPILE_ONLY, as Pulumi supports): its type
// check would repeat typecheck.test.ts's (same compiler and tsconfig, tsc checks a superset of files).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { planFile, ROOT } from "./harness";

test("src/index.ts runs under Pulumi's TypeScript loader and registers the plan's graph", async () => {
  const r = spawnSync(process.execPath, [join(ROOT, "test", "support", "pulumi-loader.js"), "lab"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const last = r.stdout.trim().split("\n").pop()!;
  const run = JSON.parse(last) as { tsNode: string; resources: string[]; outputs: string[] };
  assert.equal(run.tsNode, "7.0.1", "Pulumi's vendored ts-node (the project does not ship its own)");
  const plan = await planFile("Pulumi.lab.yaml", "lab");
  assert.deepEqual([...run.resources].sort(), plan.resources.map((x) => x.urn).sort());
  assert.deepEqual(run.outputs, Object.keys(plan.result.outputs).sort());
});
