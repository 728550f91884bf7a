// The Proxmox refusals and engine dangers of the offline diff (issue 17, findings/diff-workflows.md
// rows 1-6, 22): each edit planned before and after with test/scenario.ts, the exact verdict, and
// the upstream line that decides it.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { diffPlans, type StackDiff } from "../src/plan/diff";
import { toPlanJson, type PlanJsonResource } from "../src/plan/format";
import { readFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import { parseStackFile, runPlan } from "../src/plan/run";
import { planFile } from "./harness";
import { scenario } from "./scenario";

const LAB = "Pulumi.lab.yaml";
const SEED2 = "stacks/seed-002-homelab.yaml";
const notSame = (d: StackDiff) => Object.fromEntries(d.changes.filter((c) => c.op !== "same").map((c) => [c.name, c.op]));
const change = (d: StackDiff, name: string) => {
  const c = d.changes.find((x) => x.name === name);
  assert.ok(c, `no change for ${name}`);
  return c;
};
const messages = (xs: { message: string }[]) => xs.map((x) => x.message);
const node = (doc: { config: Record<string, any> }, name: string) => doc.config["homelab:nodes"].find((n: { name: string }) => n.name === name);

describe("the offline diff on Proxmox refusals and engine dangers", () => {
  test("row 4: a replaced VM's firewall rules and options are replaced with it, delete-first (replaceWith)", async () => {
    const d = await scenario(SEED2, (doc) => {
      node(doc, "k3s-node-1").vmid = 111;
    });
    for (const n of ["k3s-node-1-firewall-rules", "k3s-node-1-firewall-options"]) {
      const c = change(d, n);
      assert.equal(c.op, "replace", n);
      assert.equal(c.deleteBeforeReplace, true, n);
      assert.equal(c.confidence, "exact", n);
      assert.equal(c.reasons[0], "replaceWith: k3s-node-1-vm is replaced", n);
    }
    // Before the fix both were an `update` (node_name and vm_id are not ForceNew): the rules'
    // update failed on the new VM's empty list (bpg proxmoxtf/resource/firewall/rules.go:379-470)
    // and the options never ran.
    const steps = ["ready", "authorized-keys", "k3s-join", "k3s-member", "k3s-drain", "k3s-upgrade", "k3s-uncordon", "reboot-drain", "reboot-vm", "reboot-wait"];
    assert.deepEqual(notSame(d), Object.fromEntries(["vm", "firewall-rules", "firewall-options", ...steps].map((s) => [`k3s-node-1-${s}`, "replace"])));
    assert.deepEqual(messages(d.blockers), []);
    assert.deepEqual(messages(d.warnings), [
      "VM k3s-node-1 (VMID 111) is deleted and re-created (vmId changed (the provider's CustomizeDiff replaces a VM whose vm_id changes)): its disks and everything on them are lost; back it up first, or undo the change",
    ]);
  });

  test('row 1: a disk shrink is a blocker (bpg vm.go:7299 vmPlanDiskLocationAndSizeChanges: "Cannot shrink"), not a silent update', async () => {
    const d = await scenario(LAB, (doc) => {
      node(doc, "k3s-agent-01").diskSize = 80;
    });
    assert.deepEqual(notSame(d), { "k3s-agent-01-vm": "update" });
    assert.deepEqual(messages(d.blockers), [
      'VM k3s-agent-01 would shrink disk scsi0 from 100 to 80 GiB: the provider refuses ("Cannot shrink ... it is not supported!", bpg vm.go:7299 vmPlanDiskLocationAndSizeChanges) and pulumi up fails at this VM; keep 100 GiB (a smaller disk needs a rebuilt VM: pulumi up --replace its URN, which loses its disks)',
    ]);
    assert.deepEqual(d.warnings, []);
  });

  test("row 2: a disk grows alone live (no notice); with a change that needs a reboot it is a blocker with the two-step way out (bpg vm.go:7044-7093)", async () => {
    const alone = await scenario(LAB, (doc) => {
      node(doc, "k3s-agent-01").diskSize = 120;
    });
    assert.deepEqual(notSame(alone), { "k3s-agent-01-vm": "update" });
    assert.deepEqual([alone.blockers, alone.warnings], [[], []]);
    const d = await scenario(LAB, (doc) => {
      node(doc, "k3s-agent-01").diskSize = 120;
      node(doc, "k3s-agent-01").cores = 6;
    });
    assert.deepEqual(notSame(d), { "k3s-agent-01-vm": "update", "k3s-agent-01-reboot-drain": "update" });
    // rebootAfterUpdateDisabledError("resize disks"): the resize is refused once the cpu change needs a power-off the program forbids.
    assert.deepEqual(messages(d.blockers), [
      "VM k3s-agent-01 grows disk scsi0 (100 to 120 GiB) in the same update as cpu, which needs a reboot: with rebootAfterUpdate off the provider sends the cpu change, then refuses the resize on the running VM (\"cannot resize disks while the VM is running ... disabled by 'reboot_after_update = false'\", bpg vm.go:7044-7093) and pulumi up fails at this VM, before the reboot that would apply it; grow the disk in one pulumi up and make the other change in the next (or the reverse)",
    ]);
    // The rolling-reboot notice is gone: that reboot never runs.
    assert.deepEqual(d.warnings, []);
  });

  test("row 3 / edit 11: a datastore move of a node's VMs (disks and the Cloud-Init drive) is a blocker per VM (bpg vm.go:7028, vm.go:6646)", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:proxmox"].nodes[1].vmDatastore = "fast-zfs";
    });
    const vms = ["k3s-server-02", "k3s-agent-01", "vault"];
    assert.deepEqual(notSame(d), Object.fromEntries(vms.map((v) => [`${v}-vm`, "update"])));
    assert.deepEqual(
      messages(d.blockers),
      vms.map(
        (v) =>
          `VM ${v} moves disk scsi0 from local-lvm to fast-zfs and the Cloud-Init drive from local-lvm to fast-zfs: that needs the VM powered off, which rebootAfterUpdate off forbids, so the provider refuses on the running VM ("cannot move disks between datastores while the VM is running ... disabled by 'reboot_after_update = false'", bpg vm.go:7028, vm.go:6646) and pulumi up fails at this VM; shut the VM down first (a k3s node: drain it first, uncordon it after) and pulumi up, which moves a stopped VM's disks and starts it again (vmPowerOffForPendingChanges handles a stopped VM offline), or keep the old datastore, or rebuild the VM there (pulumi up --replace its URN; its disks are lost)`,
      ),
    );
    // Before: "keeps running with its old initialization until its next reboot", a run that does not happen.
    assert.deepEqual(d.warnings, []);
  });

  test("row 12 / edit 12: an address change is a blocker, since the VM's steps dial the new address before the reboot; the way out by role", async () => {
    const agent = await scenario(LAB, (doc) => {
      node(doc, "k3s-agent-01").ip = "10.0.20.25";
    });
    const steps = ["ready", "authorized-keys", "k3s-join", "k3s-upgrade"].map((s) => `k3s-agent-01-${s}`);
    assert.deepEqual(notSame(agent), Object.fromEntries(["k3s-agent-01-vm", ...steps, "k3s-agent-01-reboot-drain", "k3s-agent-01-reboot-wait"].map((n) => [n, "update"])));
    const queued = (vm: string, from: string, to: string, dialing: string[]) =>
      `VM ${vm} changes its address from ${from} to ${to}: the VM update only queues it (rebootAfterUpdate is off; cloud-init applies it at the next boot), but ${dialing.join(", ")} dial ${to} right after the update, before the reboot that comes after them: they fail after their dial budget (about 12 to 25 minutes) and pulumi up stops there; `;
    assert.deepEqual(messages(agent.blockers), [
      `${queued("k3s-agent-01", "10.0.20.21", "10.0.20.25", steps)}rebuild it on the new address in this run instead: pulumi up --replace its VM's URN (the steps' deletes drain it and uninstall k3s over the old address kept in state; the new VM boots on 10.0.20.25 and rejoins; its disks are lost), or remove it in one run and add it back in the next`,
    ]);
    // Before: "applies its new initialization at a Proxmox reboot later in this run", which never comes.
    assert.deepEqual(agent.warnings, []);
    // With a rotated key every SSH step's connection changes: the blocker still names the VM's own steps only.
    const rotated = await scenario(LAB, (doc) => {
      node(doc, "k3s-agent-01").ip = "10.0.20.25";
      doc.config["homelab:sshPrivateKey"] = { secure: "v1:AAAArotatedCiphertextBBBB" };
    });
    assert.deepEqual(messages(rotated.blockers), messages(agent.blockers));

    // A server: the steps that use it as their control server dial it too; no in-place way out.
    const server = await scenario(LAB, (doc) => {
      node(doc, "k3s-server-02").ip = "10.0.20.15";
    });
    assert.deepEqual(messages(server.blockers), [
      `${queued("k3s-server-02", "10.0.20.12", "10.0.20.15", [
        "k3s-server-02-ready",
        "k3s-server-02-authorized-keys",
        "k3s-server-02-k3s-join",
        "k3s-server-01-k3s-member",
        "k3s-server-02-k3s-upgrade",
        "k3s-server-01-reboot-drain",
        "k3s-server-01-reboot-wait",
      ])}a k3s server cannot change its address in place (its etcd member's peer URL, node-ip and the other nodes' join targets name 10.0.20.12): remove it in one run (protect: false first if it is protected) and add it back with the new address in the next, one server at a time`,
    ]);

    const standalone = await scenario(LAB, (doc) => {
      doc.config["homelab:vms"][0].ip = "10.0.20.51";
    });
    assert.deepEqual(notSame(standalone), { "vault-vm": "update", "vault-ready": "update", "vault-authorized-keys": "update", "vault-reboot-check": "update" });
    assert.deepEqual(messages(standalone.blockers), [
      `${queued("vault", "10.0.20.50", "10.0.20.51", ["vault-ready", "vault-authorized-keys", "vault-reboot-check"])}change it in two runs: pulumi up --target its VM's URN (only the VM update: the address waits in Proxmox), qm reboot 301 on pve-02, then pulumi up; or rebuild it (pulumi up --replace its URN; its disks are lost)`,
    ]);
  });

  test("row 5 / edit 17: two VMs swapping VMIDs is a blocker for each (a delete-first replacement deletes only its own old VM: pulumi v3.248.0 step_generator.go:1926-2029 continueStepsFromDiff)", async () => {
    const d = await scenario(LAB, (doc) => {
      node(doc, "k3s-agent-01").vmid = 222;
      node(doc, "k3s-agent-02").vmid = 221;
    });
    assert.equal(change(d, "k3s-agent-01-vm").op, "replace");
    // Row 22: a changed vm_id always replaces (ForceNewIf(vm_id): new value != the VM's id, bpg vm.go:1765-1790).
    assert.equal(change(d, "k3s-agent-01-vm").confidence, "table");
    assert.equal(change(d, "k3s-agent-02-vm").op, "replace");
    const swap = (vm: string, other: string, id: number) =>
      `replacing ${vm}-vm deletes only its own old object (and its dependents) before it creates the new one, while the old ${other}-vm (replaced in the same run) still holds VMID ${id}: the create fails unless that one is deleted first, which nothing orders (in a swap, whichever goes first fails); change one VMID per run, each to one that nothing holds at the time (a swap takes three runs, through a free VMID)`;
    assert.deepEqual(messages(d.blockers), [swap("k3s-agent-01", "k3s-agent-02", 222), swap("k3s-agent-02", "k3s-agent-01", 221)]);
    // The VMID of a VM removed in the same run: the delete comes at the end, after the replacement's create.
    const removed = await scenario(LAB, (doc) => {
      doc.config["homelab:nodes"] = doc.config["homelab:nodes"].filter((n: { name: string }) => n.name !== "k3s-agent-02");
      node(doc, "k3s-agent-01").vmid = 222;
    });
    assert.deepEqual(messages(removed.blockers), [
      "replacing k3s-agent-01-vm deletes only its own old object (and its dependents) before it creates the new one, while k3s-agent-02-vm, deleted only at the end of the run, still holds VMID 222: the create fails; change one VMID per run, each to one that nothing holds at the time (a swap takes three runs, through a free VMID)",
    ]);
    // One VM moved to a free VMID: no blocker.
    const free = await scenario(LAB, (doc) => {
      node(doc, "k3s-agent-01").vmid = 225;
    });
    assert.deepEqual(messages(free.blockers), []);
  });

  test("row 6: two resources claiming one old URN through aliases is a blocker, as the engine fails the preview (pulumi v3.248.0 step_generator.go:614-668 getOldResource)", async () => {
    const base = toPlanJson((await planFile(LAB, "lab")).result);
    const old = base.resources.find((r) => r.name === "image-ubuntu-noble-pve-01")!;
    const alias = { name: old.name, type: "", stack: "", project: "", parentUrn: "", noParent: false };
    const renamed = (name: string): PlanJsonResource => ({ ...old, urn: old.urn.replace(/::[^:]+$/, `::${name}`), name, aliases: [alias] });
    const others = base.resources.filter((r) => r !== old);
    // Two new names alias the one old image: GetDuplicateResourceAliasError (diag/errors.go:56).
    const two = diffPlans(base, { ...base, resources: [...others, renamed("image-a"), renamed("image-b")] });
    assert.deepEqual(
      two.changes.filter((c) => c.op !== "same").map((c) => [c.name, c.op]),
      [["image-b", "create"]],
    );
    assert.equal(change(two, "image-a").oldUrn, old.urn);
    assert.deepEqual(messages(two.blockers), [
      `image-b claims the old image-ubuntu-noble-pve-01 (${old.urn}) through an alias, which image-a already holds: pulumi preview and up fail ("Duplicate resource alias ... conflicting with resource with URN ...", the engine's getOldResource); keep the alias on one resource only`,
    ]);
    // An alias onto a URN a later resource registers: GetDuplicateResourceAliasedError (diag/errors.go:88).
    const taken = diffPlans(base, { ...base, resources: [...others, renamed("image-a"), old] });
    assert.deepEqual(messages(taken.blockers), [
      `image-ubuntu-noble-pve-01 registers ${old.urn}, which image-a already claims through an alias: pulumi preview and up fail ("Duplicate resource URN ... conflicting with alias on resource with URN ...", the engine's getOldResource); drop that alias, or rename one of them`,
    ]);
    // One alias, one claimant: no blocker.
    assert.deepEqual(diffPlans(base, { ...base, resources: [...others, renamed("image-a")] }).blockers, []);
  });

  test("row 4, on a stack whose firewall state predates replaceWith: a VMID change is a blocker until one run records it (step_generator.go:3154 findResourcesReplacedWith reads the old state)", async () => {
    const doc = parse(readFileSync(SEED2, "utf8"));
    const plan = async (d: unknown) => toPlanJson(await runPlan({ stack: "seed-002-homelab", stackFile: parseStackFile(stringify(d)) }));
    const recorded = await plan(doc);
    // The state as the previous version wrote it: no replaceWith on the rules and options.
    const before = { ...recorded, resources: recorded.resources.map((r) => (r.type.startsWith("proxmoxve:firewall/") ? { ...r, replaceWith: [] } : r)) };
    doc.config["homelab:nodes"].find((n: { name: string }) => n.name === "k3s-node-1").vmid = 111;
    const head = await plan(doc);
    const stale = diffPlans(before, head);
    assert.deepEqual(
      messages(stale.blockers),
      ["k3s-node-1-firewall-rules", "k3s-node-1-firewall-options"].map(
        (n) =>
          `${n} was recorded before a VM's firewall was replaced with its VM: pulumi up replaces it only after the new k3s-node-1-vm exists, and its delete asks the old VM, which is gone, for its rules, so it fails (bpg firewall/rules.go RulesDelete); run one pulumi up with this version first (it records replaceWith in the state), then change the VM`,
      ),
    );
    // Recorded (any run of this version writes it, a `same` included): no blocker.
    assert.deepEqual(diffPlans(recorded, head).blockers, []);
  });

  test("row 3: a TPM moved to another datastore on a running VM is a blocker (bpg vm.go:6554)", async () => {
    const base = toPlanJson((await planFile(LAB, "lab")).result);
    const vm = base.resources.find((r) => r.name === "vault-vm")!;
    const tpm = (datastoreId: string) => ({ ...vm, inputs: { ...vm.inputs, tpmState: { datastoreId, version: "v2.0" } } });
    const withTpm = (ds: string) => ({ ...base, resources: base.resources.map((r) => (r === vm ? tpm(ds) : r)) });
    const d = diffPlans(withTpm("local-lvm"), withTpm("fast-zfs"));
    assert.deepEqual(notSame(d), { "vault-vm": "update" });
    assert.deepEqual(messages(d.blockers), [
      `VM vault adds, removes or changes its TPM: with rebootAfterUpdate off the provider refuses on the running VM ("cannot add, remove, or update the TPM device while the VM is running ... disabled by 'reboot_after_update = false'", bpg vm.go:6554) and pulumi up fails at this VM; shut the VM down first (a k3s node: drain it first, uncordon it after) and pulumi up, which changes a stopped VM and starts it again (vmPowerOffForPendingChanges handles a stopped VM offline), or undo the change`,
    ]);
  });
});
