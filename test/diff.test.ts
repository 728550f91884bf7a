// The diff engine on synthetic plans: identity through aliases (the engine's alias rules),
// retainOnDelete, protect, the delete-first cascade, provider replacement, secret inputs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { diffPlans, normalizePlan } from "../src/plan/diff";
import { lineDiff } from "../src/plan/diffFormat";
import type { PlanJson, PlanJsonResource } from "../src/plan/format";

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
    assert.deepEqual(recorded.changes.find((c) => c.name === "a")!.reasons, ["its provider changed from the default to k8s"]);
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
