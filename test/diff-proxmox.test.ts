// The Proxmox refusals and engine dangers of the offline diff (issue 17, findings/diff-workflows.md
// rows 1-6, 22): each edit planned before and after with test/scenario.ts, the exact verdict, and
// the upstream line that decides it.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { StackDiff } from "../src/plan/diff";
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
});
