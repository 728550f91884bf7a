// Day-two edits of the metal layer on the lab stack, through the offline diff (test/scenario.ts):
// a resize of every node, an image bump with and without a new file name.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { StackDiff } from "../src/plan/diff";
import { scenario } from "./scenario";

const LAB = "Pulumi.lab.yaml";
const NODES = ["k3s-server-01", "k3s-server-02", "k3s-server-03", "k3s-agent-01", "k3s-agent-02", "k3s-gpu-01"];
const ops = (d: StackDiff) => Object.fromEntries(d.changes.filter((c) => c.op !== "same").map((c) => [c.name, c.op]));
const BUMP = {
  url: "https://cloud-images.ubuntu.com/releases/noble/release-20260110/ubuntu-24.04-server-cloudimg-amd64.img",
  checksum: "7d1e6c1b1c8f4bb0a6a3b0c5e2f6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4",
};

describe("day two on the metal layer (scenarios)", () => {
  test("more memory on every node: VM updates and one rolling-reboot decision per node; nothing replaced", async () => {
    const d = await scenario(LAB, (doc) => {
      for (const n of doc.config["homelab:nodes"]) n.memory = 49152;
    });
    assert.deepEqual(
      ops(d),
      Object.fromEntries(
        NODES.flatMap((n) => [
          [`${n}-reboot-drain`, "update"],
          [`${n}-vm`, "update"],
        ]),
      ),
    );
    for (const n of NODES) {
      const vm = d.changes.find((c) => c.name === `${n}-vm`)!;
      assert.deepEqual(
        vm.properties.map((p) => p.path),
        ["memory.dedicated", ...(n === "k3s-gpu-01" ? [] : ["memory.floating"])],
      );
      assert.ok(vm.properties.every((p) => !p.forcesReplacement));
    }
    assert.deepEqual(d.blockers, []);
    assert.equal(d.warnings.length, NODES.length);
    for (const w of d.warnings)
      assert.match(
        w.message,
        /applies its new memory at a Proxmox reboot later in this run \(rebootAfterUpdate is off\): a k3s node is drained first and rebooted one server at a time/,
      );
  });

  test("an image bump with a new file name: each node's image replaced create-first, no VM replaced, no collision", async () => {
    const d = await scenario(LAB, (doc) => {
      Object.assign(doc.config["homelab:images"]["ubuntu-noble"], { ...BUMP, fileName: "ubuntu-24.04-server-cloudimg-amd64-20260110.qcow2" });
    });
    const o = ops(d);
    assert.deepEqual(
      Object.entries(o)
        .filter(([, op]) => op === "replace")
        .map(([n]) => n)
        .sort(),
      ["image-ubuntu-noble-pve-01", "image-ubuntu-noble-pve-02", "image-ubuntu-noble-pve-03"],
    );
    assert.ok(
      Object.values(o).every((op) => op === "replace" || op === "update"),
      JSON.stringify(o),
    );
    for (const vm of [...NODES, "vault"]) assert.equal(o[`${vm}-vm`], "update", vm);
    assert.deepEqual(d.blockers, []);
    // An image reaches new VMs only: the diff says so for every VM.
    assert.equal(d.warnings.filter((w) => /keeps its disk: a new image reaches only VMs created from now on/.test(w.message)).length, NODES.length + 1);
  });

  test("an image bump that keeps the file name (or fixes only the checksum): the stored name follows the checksum, so no 'File already exists'", async () => {
    const d = await scenario(LAB, (doc) => {
      Object.assign(doc.config["homelab:images"]["ubuntu-noble"], BUMP);
    });
    const images = d.changes.filter((c) => c.name.startsWith("image-"));
    assert.equal(images.length, 3);
    for (const i of images) {
      assert.equal(i.op, "replace");
      assert.deepEqual(i.properties.find((p) => p.path === "fileName")?.new, "lab-ubuntu-24.04-server-cloudimg-amd64-20251213-7d1e6c1b1c8f.qcow2");
    }
    assert.deepEqual(d.blockers, []);
    assert.ok(!d.changes.some((c) => c.name.endsWith("-vm") && c.op === "replace"));
  });
});
