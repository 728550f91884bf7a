// The diff engine on synthetic plans: identity through aliases (the engine's alias rules),
// retainOnDelete, protect, the delete-first cascade, provider replacement, secret inputs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { diffPlans, normalizePlan, type Notice } from "../src/plan/diff";
import { lineDiff, toDiffText } from "../src/plan/diffFormat";
import { toPlanJson, type PlanJson, type PlanJsonResource } from "../src/plan/format";
import { defaultProviderName } from "../src/plan/recorder";
import { parseStackFile, runPlan } from "../src/plan/run";

const STACK = "urn:pulumi:t::homelab::pulumi:pulumi:Stack::homelab-t";

function res(urn: string, extra: Partial<PlanJsonResource> = {}): PlanJsonResource {
  const parts = urn.split("::");
  return {
    urn,
    type: parts[2].split("$").pop()!,
    name: parts.slice(3).join("::"),
    parent: STACK,
    dependencies: [],
    protect: false,
    deleteBeforeReplace: false,
    ignoreChanges: [],
    inputs: {},
    custom: true,
    provider: "",
    propertyDependencies: {},
    aliases: [],
    replaceOnChanges: [],
    retainOnDelete: false,
    deletedWith: "",
    replaceWith: [],
    hideDiffs: [],
    additionalSecretOutputs: [],
    secretPaths: [],
    secretDigests: {},
    secretConfig: [],
    ...extra,
  };
}
const plan = (...resources: PlanJsonResource[]): PlanJson => ({
  stack: "t",
  resources: [res(STACK, { parent: null, custom: false }), ...resources],
  outputs: {},
  secureConfig: {},
});
const op = (d: ReturnType<typeof diffPlans>, name: string) => d.changes.find((c) => c.name === name)?.op;
const messages = (ns: readonly Notice[]) => ns.map((n) => n.message);

const U = (qt: string, name: string) => `urn:pulumi:t::homelab::${qt}::${name}`;
const NS = "kubernetes:core/v1:Namespace";

describe("diff: identity", () => {
  test("a plan against itself is all same", () => {
    const p = plan(res(U(NS, "a"), { inputs: { metadata: { name: "a" } } }));
    const d = diffPlans(p, p);
    assert.deepEqual(d.summary, { create: 0, update: 0, replace: 0, delete: 0, same: 2 });
    assert.deepEqual([d.blockers, d.warnings], [[], []]);
  });
  test("a resource moved under a component with an alias { parent: stack } is the same resource", () => {
    const comp = res(U("homelab:x:C", "c"), { custom: false });
    const moved = res(U(`homelab:x:C$${NS}`, "a"), {
      parent: comp.urn,
      inputs: { metadata: { name: "a" } },
      aliases: [{ name: "", type: "", stack: "", project: "", parentUrn: STACK, noParent: false }],
    });
    const d = diffPlans(plan(res(U(NS, "a"), { inputs: { metadata: { name: "a" } } })), plan(comp, moved));
    assert.equal(op(d, "a"), "same");
    assert.equal(d.changes.find((c) => c.name === "a")!.oldUrn, U(NS, "a"));
    assert.deepEqual(d.summary, { create: 1, update: 0, replace: 0, delete: 0, same: 2 });
  });
  test("children of a renamed, aliased component inherit its alias (name prefix rewritten)", () => {
    const oldComp = res(U("homelab:x:C", "old"), { custom: false });
    const oldChild = res(U(`homelab:x:C$${NS}`, "old-ns"), { parent: oldComp.urn, inputs: { metadata: { name: "n" } } });
    const newComp = res(U("homelab:x:C", "new"), { custom: false, aliases: [{ name: "old", type: "", stack: "", project: "", parentUrn: "", noParent: false }] });
    const newChild = res(U(`homelab:x:C$${NS}`, "new-ns"), { parent: newComp.urn, inputs: { metadata: { name: "n" } } });
    const d = diffPlans(plan(oldComp, oldChild), plan(newComp, newChild));
    assert.deepEqual([op(d, "new"), op(d, "new-ns")], ["same", "same"]);
    assert.equal(d.summary.delete, 0);
  });
  test("without an alias a moved resource is a delete and a create; a retained one is only dropped from the state", () => {
    const kept = res(U("kubernetes:core/v1:PersistentVolumeClaim", "data"), { retainOnDelete: true, inputs: { metadata: { name: "data", namespace: "a" } } });
    const d = diffPlans(plan(kept), plan());
    assert.equal(op(d, "data"), "delete");
    assert.deepEqual(d.changes.find((c) => c.name === "data")!.reasons, ["removed from state, kept: retainOnDelete leaves the object where it is"]);
    assert.match(d.warnings[0].message, /^claim a\/data leaves the Pulumi state but stays in the cluster with its data \(retainOnDelete\)/);
  });
});

describe("diff: replacements", () => {
  const pvc = (sc: string, extra: Partial<PlanJsonResource> = {}) =>
    res(U("kubernetes:core/v1:PersistentVolumeClaim", "claim"), { inputs: { metadata: { name: "claim", namespace: "a" }, spec: { storageClassName: sc } }, ...extra });
  test("a force-new input of the Kubernetes table replaces, named objects delete first", () => {
    const d = diffPlans(plan(pvc("local-path")), plan(pvc("nfs-client")));
    const c = d.changes.find((x) => x.name === "claim")!;
    assert.equal(c.op, "replace");
    assert.equal(c.confidence, "table");
    assert.equal(c.deleteBeforeReplace, true);
    assert.deepEqual(c.properties, [{ path: "spec.storageClassName", old: "local-path", new: "nfs-client", forcesReplacement: true }]);
  });
  test("replacing or deleting a protected resource is a blocker; ignoreChanges hides a change", () => {
    const d = diffPlans(plan(pvc("a", { protect: true })), plan(pvc("b", { protect: true })));
    assert.match(d.blockers[0].message, /^claim is protected and would be replaced \(spec\.storageClassName changed\): pulumi up will refuse/);
    const ignored = diffPlans(plan(pvc("a")), plan(pvc("b", { ignoreChanges: ["spec"] })));
    assert.equal(op(ignored, "claim"), "same");
  });
  test("a delete-first replacement of a kept (retainOnDelete) object under the same name is a blocker", () => {
    const d = diffPlans(plan(pvc("local-path", { retainOnDelete: true })), plan(pvc("nfs-client", { retainOnDelete: true })));
    assert.deepEqual(
      d.blockers.map((b) => b.message),
      [
        "replacing claim deletes the old one first, but retainOnDelete keeps it, still holding core/v1:PersistentVolumeClaim a/claim: the create fails (AlreadyExists); undo the change (or ignore it with ignoreChanges), or move the data and delete the old object by hand first",
      ],
    );
  });
  test("a delete-first replacement cascades to dependents whose force-new input it feeds", () => {
    const vm = (id: number) => res(U("proxmoxve:index/vmLegacy:VmLegacy", "vm"), { deleteBeforeReplace: true, inputs: { vmId: id } });
    const cmd = res(U("command:remote:Command", "ready"), {
      inputs: { triggers: ["mac"], create: "x" },
      replaceOnChanges: ["triggers[*]"],
      propertyDependencies: { triggers: [U("proxmoxve:index/vmLegacy:VmLegacy", "vm")], create: [] },
    });
    const other = res(U("command:remote:Command", "other"), { inputs: { create: "vm" }, propertyDependencies: { create: [U("proxmoxve:index/vmLegacy:VmLegacy", "vm")] } });
    const d = diffPlans(plan(vm(1), cmd, other), plan(vm(2), cmd, other));
    assert.equal(op(d, "vm"), "replace");
    assert.equal(op(d, "ready"), "replace");
    assert.match(d.changes.find((c) => c.name === "ready")!.reasons[0], /^vm is replaced delete-first and its outputs feed triggers, an input that forces replacement/);
    assert.equal(op(d, "other"), "update", "a non-force-new input fed by it may change");
    assert.equal(d.changes.find((c) => c.name === "other")!.confidence, "advisory");
  });
  test("a replaced provider replaces every resource it manages", () => {
    const prov = (id: string) => res(U("pulumi:providers:kubernetes", "k8s"), { inputs: { clusterIdentifier: id } });
    const ns = res(U(NS, "a"), { provider: `${U("pulumi:providers:kubernetes", "k8s")}::id`, inputs: { metadata: { name: "a" } } });
    const d = diffPlans(plan(prov("one"), ns), plan(prov("two"), ns));
    assert.deepEqual([op(d, "k8s"), op(d, "a")], ["replace", "replace"]);
    assert.equal(d.changes.find((c) => c.name === "a")!.confidence, "exact");
    assert.match(d.warnings.map((w) => w.message).join("\n"), /the Kubernetes provider k8s is replaced .*: all 1 objects it manages are replaced with it/);
  });
  test("a base plan from before providers were recorded infers no provider change; a recorded one still does", () => {
    const PROV = U("pulumi:providers:kubernetes", "k8s");
    const prov = res(PROV, { inputs: { clusterIdentifier: "one" } });
    const ns = (provider: string | undefined) => res(U(NS, "a"), { provider, inputs: { metadata: { name: "a" } } });
    // A plan JSON written by an older version has no `provider` field at all.
    const legacy = normalizePlan(plan(prov, ns(undefined)));
    const head = normalizePlan(plan(prov, ns(`${PROV}::id`)));
    const d = diffPlans(legacy, head);
    assert.equal(op(d, "a"), "same");
    assert.deepEqual(
      d.changes.filter((c) => c.op !== "same").map((c) => c.name),
      [],
    );
    // The default provider recorded as "" is a real record: moving to k8s is a provider change.
    const recorded = diffPlans(normalizePlan(plan(prov, ns(""))), head);
    assert.equal(op(recorded, "a"), "replace");
    assert.deepEqual(recorded.changes.find((c) => c.name === "a")!.reasons, [
      "its provider changed from the default to k8s: the new provider's DiffConfig compares their configurations, and the default provider's is not in the plan (replaced unless they match)",
    ]);
  });
  test("a deleted StorageClass whose driver goes too names the claims that stay on it", () => {
    const nfs = U("homelab:system:NfsStorage", "nfs");
    const inNfs = (qt: string, name: string, inputs: Record<string, unknown>) => res(`urn:pulumi:t::homelab::homelab:system:NfsStorage$${qt}::${name}`, { parent: nfs, inputs });
    const component = res(nfs, { custom: false });
    const release = inNfs("kubernetes:helm.sh/v3:Release", "nfs-release", { name: "csi-driver-nfs" });
    const cls = inNfs("kubernetes:storage.k8s.io/v1:StorageClass", "nfs-storage-class", { metadata: { name: "nfs-client" } });
    const claim = (name: string, storageClassName: string, extra: Partial<PlanJsonResource> = {}) =>
      res(U("kubernetes:core/v1:PersistentVolumeClaimPatch", name), { inputs: { metadata: { name, namespace: "media" }, spec: { storageClassName } }, ...extra });
    const kept = { retainOnDelete: true, ignoreChanges: ["spec.storageClassName"] };
    const base = plan(component, release, cls, claim("library", "nfs-client", kept), claim("gone", "nfs-client", { retainOnDelete: true }), claim("fast", "local-path", kept));
    // The head moves data to another class: the claim keeps nfs-client (immutable, ignored), the other kept one leaves the state.
    const d = diffPlans(base, plan(claim("library", "freenas-nfs-csi", kept), claim("fast", "local-path", kept)));
    assert.equal(
      d.warnings.find((w) => w.urn === cls.urn)!.message,
      "StorageClass nfs-client is deleted: claims made while it is gone fail, and volumes it provisions later follow the new settings; existing volumes stay, but 2 claims media/library, media/gone still use it and its driver (nfs-release) is deleted in this change: a pod that starts again cannot mount those volumes; keep the storage backend until the data is moved",
    );
    // The class alone (its driver stays, e.g. a parameter change elsewhere): no claim list.
    const d2 = diffPlans(
      base,
      plan(component, release, claim("library", "nfs-client", kept), claim("gone", "nfs-client", { retainOnDelete: true }), claim("fast", "local-path", kept)),
    );
    assert.equal(
      d2.warnings.find((w) => w.urn === cls.urn)!.message,
      "StorageClass nfs-client is deleted: claims made while it is gone fail, and volumes it provisions later follow the new settings; existing volumes stay",
    );
  });
  test("a changed secret input is shown only as changed", () => {
    const cmd = (digest: string) => res(U("command:remote:Command", "join"), { inputs: { stdin: "[secret]" }, secretPaths: ["stdin"], secretDigests: { stdin: digest } });
    const d = diffPlans(plan(cmd("aaaa")), plan(cmd("bbbb")));
    assert.deepEqual(d.changes.find((c) => c.name === "join")!.properties, [{ path: "stdin", old: "[secret]", new: "[secret]", forcesReplacement: false, secret: true }]);
  });
});

describe("diff: renderings", () => {
  test("a multi-line value is shown as a line diff with context", () => {
    assert.deepEqual(lineDiff("a\nb\nc\nd\ne\nf\ng", "a\nb\nc\nD\ne\nf\ng", 1), ["…", " c", "-d", "+D", " e", "…"]);
  });
});

// The Kubernetes and provider rows of the fidelity audit (shared/findings/diff-workflows.md, rows
// 7-15, 20, 26): each verdict is the one the engine (pulumi/pulumi v3.248.0) or pulumi-kubernetes
// (provider/pkg at 94977969, after v4.32.0) reaches; the comment names the line.
describe("diff: provider references (engine providerChanged, step_generator.go:2613-2690)", () => {
  const labPlan = async (): Promise<PlanJson> =>
    toPlanJson(await runPlan({ stack: "lab", stackFile: parseStackFile(readFileSync(join(__dirname, "..", "Pulumi.lab.yaml"), "utf8")) }));
  const OLD = "homelab:cluster:K3sCluster$pulumi:providers:kubernetes::k3s-k8s";
  const NEW = "homelab:cluster:K3sCluster$pulumi:providers:kubernetes::k3s-kube";
  /** The program with its provider renamed k3s-k8s -> k3s-kube (audit edit 16), as its plan would record it. */
  const renamed = (p: PlanJson, edit: (r: PlanJsonResource) => PlanJsonResource = (r) => r): PlanJson =>
    JSON.parse(JSON.stringify(p).replaceAll(OLD, NEW).replaceAll("k3s-k8s-id", "k3s-kube-id").replaceAll('"name":"k3s-k8s"', '"name":"k3s-kube"'), (_key, v) =>
      v && typeof v === "object" && v.type === "pulumi:providers:kubernetes" ? edit(v) : v,
    );

  test("renaming the Kubernetes provider: the provider is created and deleted, its 50 objects stay (DiffConfig: same clusterIdentifier), no blocker", async () => {
    const base = await labPlan();
    const d = diffPlans(base, renamed(base));
    const notSame = d.changes.filter((c) => c.op !== "same").map((c) => `${c.op} ${c.name}`);
    assert.deepEqual(notSame, ["create k3s-kube", "delete k3s-k8s"]);
    assert.equal(base.resources.filter((r) => r.provider.includes(OLD)).length, 50);
    assert.deepEqual(d.blockers, []);
    // The real exception: the program ignores changes to clusterIdentifier (stacks made before the
    // identity existed keep the old one in their state), so the state may hold another one.
    assert.deepEqual(messages(d.warnings), [
      "50 objects move from the Kubernetes provider k3s-k8s to k3s-kube without a replacement, because both compute the same clusterIdentifier; k3s-k8s ignores changes to it, so a stack made before the identity existed keeps an older one in its state: there the new provider's DiffConfig sees it changed and replaces all 50; check `pulumi stack export` (the clusterIdentifier of k3s-k8s) before running up",
    ]);
  });
  test("a renamed provider with another clusterIdentifier replaces what it manages (provider.go:490 diff.Updated)", async () => {
    const base = await labPlan();
    const d = diffPlans(
      base,
      renamed(base, (r) => ({ ...r, inputs: { ...r.inputs, clusterIdentifier: "another-cluster" } })),
    );
    assert.equal(d.summary.replace, 50);
    assert.equal(
      d.changes.find((c) => c.name === "namespace-ai")!.reasons[0],
      "its provider changed from k3s-k8s to k3s-kube, and the new provider's DiffConfig replaces: clusterIdentifier differs (a new clusterIdentifier means another cluster)",
    );
  });
  test("from the default provider to an explicit one: advisory, the default provider's configuration is not in the plan", () => {
    const PROV = U("pulumi:providers:kubernetes", "k8s");
    const ns = (provider: string) => res(U(NS, "a"), { provider, inputs: { metadata: { name: "a" } } });
    const prov = res(PROV, { inputs: { clusterIdentifier: "one" } });
    const c = diffPlans(plan(prov, ns("")), plan(prov, ns(`${PROV}::id`))).changes.find((x) => x.name === "a")!;
    assert.deepEqual([c.op, c.confidence], ["replace", "advisory"]);
  });
  test("a bridged provider renamed (proxmoxve: no ForcesProviderReplace field) moves its resources without a replacement", () => {
    const prov = (name: string, endpoint: string) => res(U("pulumi:providers:proxmoxve", name), { inputs: { endpoint } });
    const vm = (p: string) => res(U("proxmoxve:index/vmLegacy:VmLegacy", "vm"), { provider: `${U("pulumi:providers:proxmoxve", p)}::id`, inputs: { vmId: 1 } });
    const d = diffPlans(plan(prov("a", "https://x:8006/"), vm("a")), plan(prov("b", "https://y:8006/"), vm("b")));
    assert.deepEqual(
      d.changes.map((c) => `${c.op} ${c.name}`),
      ["same homelab-t", "create b", "same vm", "delete a"],
    );
  });
});

describe("diff: the Kubernetes provider's own configuration (DiffConfig, provider.go:454-560)", () => {
  const PROV = U("pulumi:providers:kubernetes", "k8s");
  const prov = (inputs: Record<string, unknown>, digest = "aaaa") =>
    res(PROV, { inputs: { ...inputs, kubeconfig: "[secret]" }, secretPaths: ["kubeconfig"], secretDigests: { kubeconfig: digest } });
  const ns = res(U(NS, "a"), { provider: `${PROV}::id`, inputs: { metadata: { name: "a" } } });
  const verdict = (a: PlanJsonResource, b: PlanJsonResource) => {
    const d = diffPlans(plan(a, ns), plan(b, ns));
    return [op(d, "k8s"), op(d, "a")];
  };
  test("a clusterIdentifier added or removed replaces nothing (on- and off-boarding)", () => {
    assert.deepEqual(verdict(prov({}), prov({ clusterIdentifier: "x" })), ["update", "same"]);
    assert.deepEqual(verdict(prov({ clusterIdentifier: "x" }), prov({})), ["update", "same"]);
  });
  test("an unchanged clusterIdentifier clears every replacement: a new kubeconfig is an update", () => {
    assert.deepEqual(verdict(prov({ clusterIdentifier: "x" }), prov({ clusterIdentifier: "x" }, "bbbb")), ["update", "same"]);
    assert.deepEqual(verdict(prov({ clusterIdentifier: "x", renderYamlToDirectory: "a" }), prov({ clusterIdentifier: "x", renderYamlToDirectory: "b" })), ["update", "same"]);
  });
  test("without one, a new kubeconfig may point at another cluster (advisory replace); an updated identifier replaces", () => {
    const d = diffPlans(plan(prov({}), ns), plan(prov({}, "bbbb"), ns));
    assert.deepEqual([op(d, "k8s"), d.changes.find((c) => c.name === "k8s")!.confidence, op(d, "a")], ["replace", "advisory", "replace"]);
    assert.deepEqual(verdict(prov({ clusterIdentifier: "x" }), prov({ clusterIdentifier: "y" })), ["replace", "replace"]);
  });
});

describe("diff: Kubernetes objects (pulumi-kubernetes diff.go, provider.go:1647, await.go:190-215)", () => {
  const obj = (type: string, name: string, inputs: Record<string, unknown>, extra: Partial<PlanJsonResource> = {}) => res(U(type, name), { inputs, ...extra });
  const ING = "kubernetes:networking.k8s.io/v1:Ingress";
  test("delete-first only when the name and the namespace stay; a move is created first and both coexist until the end", () => {
    const ing = (namespace: string, name = "web", spec: unknown = { rules: [{ host: "a.example.com" }] }) => obj(ING, "ing", { metadata: { name, namespace }, spec });
    // Same name and namespace, a force-new field: delete-first. (A CRD-less example: a Secret's type.)
    const sec = (type: string) => obj("kubernetes:core/v1:Secret", "sec", { metadata: { name: "s", namespace: "a" }, type });
    assert.equal(diffPlans(plan(sec("Opaque")), plan(sec("kubernetes.io/tls"))).changes.find((c) => c.name === "sec")!.deleteBeforeReplace, true);
    for (const [from, to] of [
      [ing("a"), ing("b")],
      [ing("a"), ing("a", "web2")],
    ]) {
      const d = diffPlans(plan(from), plan(to));
      const c = d.changes.find((x) => x.name === "ing")!;
      assert.deepEqual([c.op, c.deleteBeforeReplace], ["replace", false]);
      assert.match(
        d.warnings[0].message,
        /^ing moves from a\/web to (b\/web|a\/web2): the new object is created first and the old one deleted at the end of the run, so both exist until then \(two Ingresses for one host/,
      );
    }
    // generateName: never delete-first.
    const gen = (ns: string) => obj(ING, "gen", { metadata: { generateName: "web-", namespace: ns } });
    assert.equal(diffPlans(plan(gen("a")), plan(gen("b"))).changes.find((c) => c.name === "gen")!.deleteBeforeReplace, false);
  });
  test("a Patch kind is an upsert: no AlreadyExists blocker where a plain object has one", () => {
    const move = (type: string) => diffPlans(plan(obj(type, "old", { metadata: { name: "apps" } })), plan(obj(type, "new", { metadata: { name: "apps" } })));
    assert.deepEqual(move("kubernetes:core/v1:NamespacePatch").blockers, []);
    assert.deepEqual(move("kubernetes:core/v1:PersistentVolumeClaimPatch").blockers, []);
    assert.deepEqual(messages(move(NS).blockers), [
      "creating new takes core/v1:Namespace apps, which old holds until it is deleted at the end of the same run: the create fails (AlreadyExists); give it another name, or remove old in an earlier run",
    ]);
  });
  test("a DaemonSet's selector forces replacement (diff.go:50,54 spell it DaemonSet)", () => {
    const ds = (app: string) => obj("kubernetes:apps/v1:DaemonSet", "ds", { metadata: { name: "ds", namespace: "a" }, spec: { selector: { matchLabels: { app } } } });
    const c = diffPlans(plan(ds("x")), plan(ds("y"))).changes.find((x) => x.name === "ds")!;
    assert.deepEqual([c.op, c.confidence, c.properties[0].path], ["replace", "table", "spec.selector.matchLabels.app"]);
  });
  test("a claim: a resize is an update, a shrink a blocker; only accessModes, selector, storageClassName, volumeName replace (diff.go:111)", () => {
    for (const type of ["kubernetes:core/v1:PersistentVolumeClaim", "kubernetes:core/v1:PersistentVolumeClaimPatch"]) {
      const pvc = (storage: string, accessModes = ["ReadWriteOnce"]) =>
        obj(type, "data", { metadata: { name: "data", namespace: "a" }, spec: { accessModes, storageClassName: "nfs-client", resources: { requests: { storage } } } });
      const grow = diffPlans(plan(pvc("10Gi")), plan(pvc("20Gi")));
      assert.deepEqual([op(grow, "data"), grow.blockers, grow.warnings], ["update", [], []]);
      const shrink = diffPlans(plan(pvc("20Gi")), plan(pvc("10Gi")));
      assert.equal(op(shrink, "data"), "update");
      assert.deepEqual(messages(shrink.blockers), ["claim a/data would shrink from 20Gi to 10Gi: the API refuses to shrink a claim and pulumi up fails; keep 20Gi"]);
      assert.deepEqual(shrink.warnings, []);
      assert.equal(op(diffPlans(plan(pvc("10Gi")), plan(pvc("10Gi", ["ReadWriteMany"]))), "data"), "replace");
    }
  });
});

describe("diff: the delete-first cascade (calculateDependentReplacements, step_generator.go:3009-3116)", () => {
  const VM = "proxmoxve:index/vmLegacy:VmLegacy";
  const vm = (id: number) => res(U(VM, "vm"), { deleteBeforeReplace: true, inputs: { vmId: id } });
  const cmd = (name: string, dep: string, extra: Partial<PlanJsonResource> = {}) =>
    res(U("command:remote:Command", name), { inputs: { triggers: [dep], create: name }, replaceOnChanges: ["triggers[*]"], propertyDependencies: { triggers: [dep] }, ...extra });
  test("transitive within one pass; every dependent it replaces is deleted before the root, and labelled so", () => {
    const p = (id: number) => plan(vm(id), cmd("ready", U(VM, "vm")), cmd("join", U("command:remote:Command", "ready")));
    const d = diffPlans(p(1), p(2));
    const c = (n: string) => d.changes.find((x) => x.name === n)!;
    assert.deepEqual(
      ["vm", "ready", "join"].map((n) => [c(n).op, c(n).deleteBeforeReplace]),
      [
        ["replace", true],
        ["replace", true],
        ["replace", true],
      ],
    );
    assert.equal(
      c("join").reasons[0],
      "ready is replaced delete-first and its outputs feed triggers, an input that forces replacement: the engine's cascade deletes this one before ready",
    );
    assert.match(toDiffText({ stacks: [d] }), /\+- replace join {2}command:remote:Command {2}\[table, delete first\]/);
  });
  test("it walks the OLD state's dependencies and options: a dependency the head drops still cascades, one the head adds does not", () => {
    const old = cmd("ready", U(VM, "vm"));
    const dropped = { ...old, propertyDependencies: { triggers: [] }, replaceOnChanges: [] };
    assert.equal(op(diffPlans(plan(vm(1), old), plan(vm(2), dropped)), "ready"), "replace");
    const none = { ...old, propertyDependencies: { triggers: [] } };
    assert.equal(op(diffPlans(plan(vm(1), none), plan(vm(2), old)), "ready"), "same");
  });
  test("a dependent protected in the state is a blocker: the engine bails (step_generator.go:1990)", () => {
    const d = diffPlans(plan(vm(1), cmd("ready", U(VM, "vm"), { protect: true })), plan(vm(2), cmd("ready", U(VM, "vm"))));
    assert.deepEqual(messages(d.blockers), [
      "ready is protected in the state and would be replaced as part of replacing vm (delete-first): pulumi up will refuse; undo the change, or set protect: false in one run and replace it in the next",
    ]);
  });
  test("a create-first root: a dependent's force-new input is unknown in preview (preview shows replace; up re-decides)", () => {
    const file = (n: string) => res(U("proxmoxve:download/file:File", "img"), { inputs: { fileName: n } });
    const d = diffPlans(plan(file("a.img"), cmd("ready", U("proxmoxve:download/file:File", "img"))), plan(file("b.img"), cmd("ready", U("proxmoxve:download/file:File", "img"))));
    const c = d.changes.find((x) => x.name === "ready")!;
    assert.deepEqual([op(d, "img"), c.op, c.confidence], ["replace", "update", "advisory"]);
    assert.deepEqual(c.reasons, [
      "triggers comes from img, which is replaced (created first), and forces replacement: preview shows replace (the new outputs are unknown there); up re-decides with the known values and replaces this one only if they differ",
    ]);
  });
});

describe("diff: rotated secure: values (processIgnoreChanges, step_generator.go:2838)", () => {
  test("a secret input in ignoreChanges keeps its old value: same", () => {
    const cmd = (ignoreChanges: string[]) =>
      res(U("command:remote:Command", "boot"), { inputs: { connection: "[secret]", create: "x" }, secretPaths: ["connection"], secretConfig: ["homelab:key"], ignoreChanges });
    const withKey = (p: PlanJson, c: string): PlanJson => ({ ...p, secureConfig: { "homelab:key": c } });
    assert.equal(op(diffPlans(withKey(plan(cmd(["connection"])), "a"), withKey(plan(cmd(["connection"])), "b")), "boot"), "same");
    assert.equal(op(diffPlans(withKey(plan(cmd([])), "a"), withKey(plan(cmd([])), "b")), "boot"), "update");
  });
});

describe("diff: default providers (providers/provider.go DefaultName)", () => {
  test("the engine's names: version parts, then the plugin download URL as a QName", () => {
    assert.equal(defaultProviderName("1.2.1", ""), "default_1_2_1");
    assert.equal(defaultProviderName("4.0.0-alpha.1+build.7", ""), "default_4_0_0_alpha_1_build_7");
    assert.equal(defaultProviderName("0.1.1", "github://api.github.com/pulumiverse/pulumi-time"), "default_0_1_1_github_/api.github.com/pulumiverse/pulumi-time");
    assert.equal(defaultProviderName("", ""), "default");
  });
  test("the lab plan records the default provider of each package it uses without an explicit provider", async () => {
    const p = toPlanJson(await runPlan({ stack: "lab", stackFile: parseStackFile(readFileSync(join(__dirname, "..", "Pulumi.lab.yaml"), "utf8")) }));
    assert.deepEqual(p.defaultProviders, {
      command: ["default_1_2_1"],
      random: ["default_4_21_2"],
      time: ["default_0_1_1_github_/api.github.com/pulumiverse/pulumi-time"],
      tls: ["default_5_6_1"],
    });
  });
  test("a package bump: the new default provider created, the old deleted, its resources same; a plan without the record infers nothing", () => {
    const cmd = res(U("command:remote:Command", "join"), { inputs: { create: "x" } });
    const withProviders = (defaultProviders: Record<string, string[]> | undefined): PlanJson => ({ ...plan(cmd), ...(defaultProviders ? { defaultProviders } : {}) });
    const d = diffPlans(withProviders({ command: ["default_1_2_1"] }), withProviders({ command: ["default_1_2_2"] }));
    assert.deepEqual(
      d.changes.filter((c) => c.op !== "same").map((c) => [c.op, c.urn, c.reasons[0]]),
      [
        [
          "create",
          "urn:pulumi:t::homelab::pulumi:providers:command::default_1_2_2",
          "the default provider of the new command package (was default_1_2_1): its resources move to it; its configuration is the old one's, so its DiffConfig replaces none of them",
        ],
        ["delete", "urn:pulumi:t::homelab::pulumi:providers:command::default_1_2_1", "replaced by default_1_2_2 (a command package bump)"],
      ],
    );
    assert.equal(op(d, "join"), "same");
    assert.deepEqual(d.summary, { create: 1, update: 0, replace: 0, delete: 1, same: 2 });
    const legacy = diffPlans(normalizePlan(withProviders(undefined)), normalizePlan(withProviders({ command: ["default_1_2_2"] })));
    assert.deepEqual(legacy.summary, { create: 0, update: 0, replace: 0, delete: 0, same: 2 });
  });
});

describe("diff: a PCI mapping renamed in place (bpg resource_pci.go Update writes to the new name)", () => {
  test("an update of `name` is a blocker with the way out; another field is a plain update", () => {
    const pci = (name: string, comment = "gpu") => res(U("proxmoxve:hardware/mapping/pci:Pci", "gpu-pci"), { inputs: { name, comment } });
    const d = diffPlans(plan(pci("gpu-a")), plan(pci("gpu-b")));
    assert.equal(op(d, "gpu-pci"), "update");
    assert.deepEqual(messages(d.blockers), [
      "PCI mapping gpu-a is renamed to gpu-b in place: the provider updates the mapping under the new name, which does not exist, so pulumi up fails; replace it instead (pulumi up --replace 'urn:pulumi:t::homelab::proxmoxve:hardware/mapping/pci:Pci::gpu-pci'): the new mapping is created, then the old one deleted",
    ]);
    assert.deepEqual(diffPlans(plan(pci("gpu-a")), plan(pci("gpu-a", "other"))).blockers, []);
  });
});

describe("diff: tls SelfSignedCert (terraform-provider-tls resource_self_signed_cert.go: RequiresReplace but early_renewal_hours)", () => {
  test("a new validity replaces the certificate (table); the early renewal window is an update", () => {
    const cert = (validityPeriodHours: number, earlyRenewalHours: number) =>
      res(U("tls:index/selfSignedCert:SelfSignedCert", "ca"), { inputs: { validityPeriodHours, earlyRenewalHours, isCaCertificate: true } });
    const replaced = diffPlans(plan(cert(87600, 0)), plan(cert(175200, 0))).changes.find((c) => c.name === "ca")!;
    assert.deepEqual([replaced.op, replaced.confidence], ["replace", "table"]);
    const updated = diffPlans(plan(cert(87600, 0)), plan(cert(87600, 720))).changes.find((c) => c.name === "ca")!;
    assert.deepEqual([updated.op, updated.confidence], ["update", "table"]);
  });
});

describe("diff: old plan files", () => {
  test("a command of a plan written before replaceOnChanges was recorded gets the SDK's triggers[*], local and remote (audit row 19)", () => {
    const legacy = (type: string) => {
      const { replaceOnChanges: _r, ...r } = res(U(type, "c"), { inputs: { create: "x", triggers: ["a"] } });
      return normalizePlan({ ...plan(), resources: [r as PlanJsonResource] }).resources[0].replaceOnChanges;
    };
    assert.deepEqual(legacy("command:remote:Command"), ["triggers[*]"]);
    assert.deepEqual(legacy("command:local:Command"), ["triggers[*]"]);
    assert.deepEqual(legacy("random:index/randomId:RandomId"), []);
  });
});
