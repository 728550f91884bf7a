// Build 6's migration: GPU VMs moved from the cluster layer's GpuNode into the metal layer. The
// plan of the program before the move (test/fixtures/plans/lab-gpu-before-move.json: the GPU node
// only) diffed against today's lab plan: through the aliases, every resource of the GPU node keeps
// its identity; nothing is created, deleted or replaced.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { diffPlans } from "../src/plan/diff";
import { toPlanJson, type PlanJson } from "../src/plan/format";
import { planFile, ROOT } from "./harness";

const before = (JSON.parse(readFileSync(join(ROOT, "test/fixtures/plans/lab-gpu-before-move.json"), "utf8")) as { plan: PlanJson }).plan;

describe("the GPU VM's move to the metal layer", () => {
  test("every resource of the old GpuNode maps to one of today's through aliases; none is created, deleted or replaced", async () => {
    const head = toPlanJson((await planFile("Pulumi.lab.yaml", "lab")).result);
    const d = diffPlans(before, head);
    const gpu = d.changes.filter((c) => c.name.startsWith("k3s-gpu-01"));
    const moved = gpu.filter((c) => c.oldUrn !== undefined).map((c) => [c.name, c.oldUrn, c.urn]);
    assert.deepEqual(moved.map(([n]) => n).sort(), ["k3s-gpu-01", "k3s-gpu-01-authorized-keys", "k3s-gpu-01-pci", "k3s-gpu-01-ready", "k3s-gpu-01-user-data", "k3s-gpu-01-vm"]);
    const vm = gpu.find((c) => c.name === "k3s-gpu-01-vm")!;
    assert.equal(vm.oldUrn, "urn:pulumi:lab::homelab::homelab:cluster:GpuNode$homelab:metal:ProxmoxVm$proxmoxve:index/vmLegacy:VmLegacy::k3s-gpu-01-vm");
    assert.equal(vm.urn, "urn:pulumi:lab::homelab::homelab:metal:ProxmoxVm$proxmoxve:index/vmLegacy:VmLegacy::k3s-gpu-01-vm");
    // Every resource of the old plan is found again, kept (same or updated in place).
    // (Not the smoke Job: it is the device plugin's, and re-runs when its pod template changes.)
    for (const b of before.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.urn.includes("NvidiaDevicePlugin"))) {
      const c = d.changes.filter((x) => x.urn === b.urn || x.oldUrn === b.urn);
      assert.equal(c.length, 1, b.urn);
      assert.ok(c[0].op === "same" || c[0].op === "update", `${c[0].name}: ${c[0].op} (${c[0].reasons.join("; ")})`);
    }
    assert.deepEqual(
      d.changes.filter((c) => c.op === "delete").map((c) => c.name),
      [],
      "nothing of the old GPU node is left over to delete",
    );
    // The VM's inputs: only this change set's own edits, none force-new: the agent wait, rebootAfterUpdate,
    // and the image file's new name in importFrom (read only at creation: a no-op on a running VM).
    assert.deepEqual(
      vm.properties.filter((p) => p.forcesReplacement),
      [],
    );
    assert.deepEqual(
      vm.properties.map((p) => p.path).filter((p) => !/^(agent|rebootAfterUpdate)\b/.test(p)),
      ["disks[0].importFrom"],
    );
    assert.equal(gpu.find((c) => c.name === "k3s-gpu-01-pci")!.op, "same", "the PCI mapping is untouched");
    assert.deepEqual(d.blockers, []);
  });
});
