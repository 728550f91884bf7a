// Realistic pull-request edits of the lab stack, each with what the offline diff says it does.
// Built with test/scenario.ts: the base is Pulumi.lab.yaml as committed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { StackDiff } from "../src/plan/diff";
import { scenario } from "./scenario";

const LAB = "Pulumi.lab.yaml";
/** name -> op for every resource that is not `same`. */
const notSame = (d: StackDiff) => Object.fromEntries(d.changes.filter((c) => c.op !== "same").map((c) => [c.name, c.op]));
const node = (doc: { config: Record<string, any> }, name: string) => doc.config["homelab:nodes"].find((n: { name: string }) => n.name === name);

describe("scenarios on the lab stack", () => {
  test("no change: every resource is same", async () => {
    const d = await scenario(LAB, () => {});
    assert.deepEqual(notSame(d), {});
    assert.equal(d.summary.same, d.changes.length);
    assert.deepEqual([d.blockers, d.warnings], [[], []]);
  });
  test("more memory for a server: one VM update, applied at its next reboot", async () => {
    const d = await scenario(LAB, (doc) => {
      node(doc, "k3s-server-01").memory = 16384;
    });
    assert.deepEqual(notSame(d), { "k3s-server-01-vm": "update" });
    const vm = d.changes.find((c) => c.name === "k3s-server-01-vm")!;
    assert.deepEqual(vm.properties.map((p) => [p.path, p.old, p.new]), [["memory.dedicated", 8192, 16384], ["memory.floating", 8192, 16384]]);
    assert.equal(vm.confidence, "table");
    assert.deepEqual(d.warnings.map((w) => w.message), ["VM k3s-server-01 keeps running with its old memory until its next reboot (rebootAfterUpdate is off): reboot it when convenient (drain it first if it runs k3s)"]);
  });
});
