// The offline plan: the JSON contract, the tree and Mermaid renderings, the critical path, and the
// guarantee that no secret value is printed in any format.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { assertNoSecrets, secretValues, toCriticalPath, toMermaid, toPlanJson, toTree, TREE_LEGEND } from "../src/plan/format";
import { Exit, runGuarded } from "../src/plan/cli";
import { criticalPath, effectiveDependencies } from "../src/plan/graph";
import type { RecordedResource } from "../src/plan/recorder";
import { cli, planFile, type Graph } from "./harness";

let lab: Graph | undefined;
async function labPlan(): Promise<Graph> {
  lab ??= await planFile("Pulumi.lab.yaml", "lab");
  return lab;
}

const RESOURCE_KEYS = [
  "urn",
  "type",
  "name",
  "parent",
  "dependencies",
  "protect",
  "deleteBeforeReplace",
  "ignoreChanges",
  "inputs",
  "custom",
  "provider",
  "propertyDependencies",
  "aliases",
  "replaceOnChanges",
  "retainOnDelete",
  "deletedWith",
  "replaceWith",
  "hideDiffs",
  "additionalSecretOutputs",
  "secretPaths",
  "secretDigests",
  "secretConfig",
];

describe("plan --format json", () => {
  test("has exactly the documented shape", async () => {
    const plan = (await labPlan()).result;
    const doc = JSON.parse(JSON.stringify(toPlanJson(plan))) as {
      stack: string;
      resources: Record<string, unknown>[];
      outputs: Record<string, unknown>;
      secureConfig: Record<string, string>;
    };
    assert.deepEqual(Object.keys(doc), ["stack", "resources", "outputs", "secureConfig", "defaultProviders"]);
    // A digest of each `secure:` ciphertext, never the ciphertext or its placeholder.
    assert.deepEqual(Object.keys(doc.secureConfig).sort(), ["homelab:cloudflareApiToken", "homelab:proxmoxApiToken", "homelab:sshPrivateKey"]);
    for (const v of Object.values(doc.secureConfig)) assert.match(v, /^[0-9a-f]{16}$/);
    assert.equal(doc.stack, "lab");
    const urns = new Set(doc.resources.map((r) => r.urn));
    assert.equal(urns.size, doc.resources.length, "URNs are unique");
    for (const r of doc.resources) {
      assert.deepEqual(Object.keys(r), RESOURCE_KEYS);
      assert.equal(typeof r.urn, "string");
      assert.ok(r.parent === null || urns.has(r.parent as string), `parent of ${r.urn} is a resource of the plan`);
      for (const d of r.dependencies as string[]) assert.ok(urns.has(d), `dependency ${d} of ${r.urn} is a resource of the plan`);
      assert.equal(typeof r.protect, "boolean");
      assert.equal(typeof r.deleteBeforeReplace, "boolean");
      assert.ok(Array.isArray(r.ignoreChanges));
      assert.equal(typeof r.inputs, "object");
    }
    assert.equal(doc.resources.filter((r) => r.parent === null).length, 1, "one root: the stack");
    // Engine URNs: the whole ancestor chain of types, the stack left out.
    assert.ok(urns.has("urn:pulumi:lab::homelab::homelab:cluster:K3sCluster$homelab:cluster:K3sNode$command:remote:Command::k3s-server-01-k3s-join"));
    assert.ok(urns.has("urn:pulumi:lab::homelab::pulumi:providers:proxmoxve::proxmox"));
    assert.ok(![...urns].some((u) => (u as string).includes("pulumi:pulumi:Stack$")), "no stack prefix");
    for (const r of doc.resources) {
      if (r.parent === null) continue;
      const parentType = (r.parent as string).split("::")[2];
      const type = (r.urn as string).split("::")[2];
      assert.equal(type, parentType === "pulumi:pulumi:Stack" ? r.type : `${parentType}$${r.type}`, `${r.urn} extends its parent's qualified type`);
    }
    // The options that change what a diff means are recorded.
    const ready = doc.resources.find((r) => r.name === "k3s-server-01-ready")!;
    assert.deepEqual(ready.replaceOnChanges, ["triggers[*]"], "remote.Command's own replaceOnChanges");
    assert.equal(doc.resources.find((r) => r.name === "postgresql-data")!.retainOnDelete, true);
    assert.deepEqual(doc.resources.find((r) => r.name === "k3s-server-01-k3s-join")!.secretConfig, ["homelab:sshPrivateKey"]);
    assert.deepEqual(Object.keys(doc.resources.find((r) => r.name === "k3s-server-01-k3s-join")!.secretDigests as object), ["connection", "stdin"]);
    const provider = doc.resources.find((r) => r.type === "pulumi:providers:proxmoxve")!;
    assert.equal((provider.inputs as Record<string, unknown>).apiToken, "[secret]");
  });

  test("the CLI prints it, and the lab plan prints nothing secret in any format", async () => {
    for (const args of [["--format", "json"], ["--format", "tree"], ["--format", "mermaid"], ["--critical-path"]]) {
      const r = await cli("--stack", "lab", ...args);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /plan-placeholder-|plan-random-|BEGIN OPENSSH PRIVATE KEY|BEGIN PRIVATE KEY/, args.join(" "));
      if (args[1] === "json") assert.equal((JSON.parse(r.stdout) as { stack: string }).stack, "lab");
    }
  });
});

describe("plan CLI usage", () => {
  const plan = (...args: string[]) => cli(...args);
  test("--output writes exactly what stdout would carry, and prints nothing (pipe-safe without npm run -s)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "homelab-plan-"));
    const printed = await plan("--stack", "lab", "--format", "mermaid");
    const written = await plan("--stack", "lab", "--format", "mermaid", "--output", join(dir, "lab.mmd"));
    assert.equal(written.status, 0, written.stderr);
    assert.equal(written.stdout, "");
    assert.equal(readFileSync(join(dir, "lab.mmd"), "utf8"), printed.stdout);
    assert.match(printed.stdout, /^flowchart /);
    const bad = await plan("--stack", "lab", "--format", "json", "--output", join(dir, "missing", "lab.json"));
    assert.equal(bad.status, 2);
    assert.equal(bad.stdout, "");
    assert.equal(bad.stderr, `--output ${join(dir, "missing", "lab.json")}: cannot write the file (ENOENT); give a path in an existing, writable directory\n`);
  });
  test("--critical-path does not silently drop a --format", async () => {
    const r = await plan("--stack", "lab", "--critical-path", "--format", "json");
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^--critical-path prints its own text report; leave out --format\n/);
  });
  test("exactly one of --stack and --config; an unknown stack names where stacks are looked for", async () => {
    const both = await plan("--stack", "lab", "--config", "Pulumi.lab.yaml");
    assert.equal(both.status, 2);
    assert.match(both.stderr, /^give exactly one of --stack and --config\n/);
    const missing = await plan("--stack", "nope");
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^no stack file .*Pulumi\.nope\.yaml; stacks here: Pulumi\.<name>\.yaml in /);
  });
});

describe("secret guard", () => {
  test("knows the stack's secret values and refuses text that contains one", async () => {
    const plan = (await labPlan()).result;
    const secrets = secretValues(plan, ["plan-placeholder-homelab-sshPrivateKey"]);
    assert.ok(secrets.includes("plan-placeholder-homelab-proxmoxApiToken"), "the API token (a secret string input)");
    assert.ok(secrets.includes("plan-placeholder-homelab-sshPrivateKey"));
    assert.ok(!secrets.includes("ubuntu"), "values of a secret object (an SSH connection) are not all secrets");
    assert.throws(() => assertNoSecrets(plan, "token: plan-placeholder-homelab-proxmoxApiToken"), /refusing to print the plan: 1 secret value/);
    assert.doesNotThrow(() => assertNoSecrets(plan, toTree(plan)));
    assert.doesNotThrow(() => assertNoSecrets(plan, JSON.stringify(toPlanJson(plan))));
    assert.doesNotThrow(() => assertNoSecrets(plan, toMermaid(plan)));
  });
});

describe("tree and mermaid", () => {
  test("the tree shows every resource once, under its parent, with safety flags", async () => {
    const plan = (await labPlan()).result;
    const tree = toTree(plan);
    const lines = tree.trimEnd().split("\n");
    assert.match(lines[0], /^stack lab: \d+ resources \(\d+ to create\)$/);
    // The marks are explained under the tree.
    assert.deepEqual(lines.slice(-TREE_LEGEND.length), [...TREE_LEGEND]);
    for (const mark of ["to create", "(after N)", "[protect]", "[delete-before-replace]", "[ignore-changes: p]", "[secret: p]"])
      assert.ok(
        TREE_LEGEND.some((l) => l.includes(mark)),
        mark,
      );
    // The stand-in deploy key reads as one.
    assert.match(String(plan.outputs.fluxDeployKey), /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPLANxSTANDxINxNOTxAxREALxKEY[0-9a-f]{15} plan-stand-in-NOT-A-REAL-KEY$/);
    for (const r of plan.resources.filter((x) => x.parent !== null)) {
      assert.equal(lines.filter((l) => new RegExp(`[└├]─ ${r.name}  ${r.type.replace(/[$/.]/g, "\\$&")}`).test(l)).length, 1, r.name);
    }
    assert.ok(lines.some((l) => /k3s-server-01-user-data  \S+  \[delete-before-replace; ignore-changes: datastoreId, sourceRaw\.fileName\]$/.test(l)));
    assert.ok(lines.some((l) => /k3s-server-01-vm  \S+  \(after \d+\)  \[protect; delete-before-replace; ignore-changes: initialization\.userDataFileId\]$/.test(l)));
  });
  test("mermaid: one node per custom resource, one edge per dependency between them", async () => {
    const plan = (await labPlan()).result;
    const m = toMermaid(plan);
    assert.ok(m.startsWith("flowchart LR\n"));
    const customs = plan.resources.filter((r) => r.custom);
    assert.equal((m.match(/^\s+r\d+\["/gm) ?? []).length, customs.length);
    const urns = new Set(plan.resources.map((r) => r.urn));
    const edges = customs.reduce((n, r) => n + r.dependencies.filter((d) => urns.has(d)).length, 0);
    assert.equal((m.match(/ --> /g) ?? []).length, edges);
    assert.equal((m.match(/\bsubgraph\b/g) ?? []).length, (m.match(/^\s+end$/gm) ?? []).length);
  });
});

const rec = (name: string, deps: string[] = [], extra: Partial<RecordedResource> = {}): RecordedResource => ({
  urn: `urn:${name}`,
  type: "command:remote:Command",
  name,
  parent: null,
  custom: true,
  dependencies: deps.map((d) => `urn:${d}`),
  propertyDependencies: {},
  protect: false,
  deleteBeforeReplace: false,
  ignoreChanges: [],
  aliases: [],
  replaceOnChanges: [],
  retainOnDelete: false,
  deletedWith: "",
  replaceWith: [],
  hideDiffs: [],
  additionalSecretOutputs: [],
  provider: "",
  inputs: {},
  rawInputs: {},
  secretPaths: [],
  secretDigests: {},
  secretConfig: [],
  secretOutputValues: [],
  ...extra,
});

describe("critical path", () => {
  test("follows the heaviest chain and names its steps in order", () => {
    const rs = [rec("a"), rec("b", ["a"]), rec("c", ["b"]), rec("d", ["a"]), rec("e", ["c", "d"])];
    const p = criticalPath(rs);
    assert.deepEqual(
      p.steps.map((s) => s.name),
      ["a", "b", "c", "e"],
    );
    assert.equal(p.seconds, 4 * 45);
  });
  test("a dependency on a component means its custom children", () => {
    const rs = [rec("comp", [], { custom: false, type: "homelab:x:C" }), rec("c1", [], { parent: "urn:comp" }), rec("c2", ["c1"], { parent: "urn:comp" }), rec("after", ["comp"])];
    assert.deepEqual(effectiveDependencies(rs).get("urn:after"), ["urn:c1", "urn:c2"]);
    assert.deepEqual(
      criticalPath(rs).steps.map((s) => s.name),
      ["c1", "c2", "after"],
    );
  });
  test("stops at the requested targets", () => {
    const rs = [rec("a"), rec("b", ["a"]), rec("k", ["a"], { type: "pulumi:providers:kubernetes" }), rec("z", ["b"])];
    assert.deepEqual(
      criticalPath(rs, (r) => r.type === "pulumi:providers:kubernetes").steps.map((s) => s.name),
      ["a", "k"],
    );
  });
  test("reports a cycle instead of looping", () => {
    assert.throws(() => criticalPath([rec("a", ["b"]), rec("b", ["a"])]), /dependency cycle/);
  });
  test("the lab's critical path is printed with estimates", async () => {
    const text = toCriticalPath((await labPlan()).result);
    assert.match(text, /^critical path to (a ready cluster|everything ready): \d+ steps, ~\d+ min \(estimated\)$/m);
    assert.match(text, /image-ubuntu-noble-pve-0\d  proxmoxve:download\/file:File  ~120s/);
  });
});

describe("the exit codes plan and diff share (runGuarded)", () => {
  const run = async (body: () => Promise<void>, env?: string) => {
    const err: string[] = [];
    const saved = process.env.HOMELAB_PLAN_DEBUG;
    if (env === undefined) delete process.env.HOMELAB_PLAN_DEBUG;
    else process.env.HOMELAB_PLAN_DEBUG = env;
    try {
      const code = await runGuarded("diff", { cwd: process.cwd(), stdout: () => {}, stderr: (t) => void err.push(t) }, body);
      return { code, stderr: err.join("") };
    } finally {
      if (saved === undefined) delete process.env.HOMELAB_PLAN_DEBUG;
      else process.env.HOMELAB_PLAN_DEBUG = saved;
    }
  };
  test("0 when done, an Exit's own code and message, 3 for a bug (a stack trace only with HOMELAB_PLAN_DEBUG=1)", async () => {
    assert.deepEqual(await run(async () => {}), { code: 0, stderr: "" });
    assert.deepEqual(
      await run(async () => {
        throw new Exit(1, "Pulumi.lab.yaml: nodes[0].ip: not an address");
      }),
      { code: 1, stderr: "Pulumi.lab.yaml: nodes[0].ip: not an address\n" },
    );
    assert.deepEqual(
      await run(async () => {
        throw new Error("boom");
      }),
      { code: 3, stderr: "diff failed: boom\n(run with HOMELAB_PLAN_DEBUG=1 for a stack trace)\n" },
    );
    const debug = await run(async () => {
      throw new Error("boom");
    }, "1");
    assert.equal(debug.code, 3);
    assert.match(debug.stderr, /^diff failed: Error: boom\n {4}at /);
  });
});
