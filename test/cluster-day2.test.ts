// Day two on the cluster layer, through the offline diff (test/scenario.ts): removing, reordering
// and rebuilding servers never replaces the Kubernetes provider, never re-initialises etcd and
// never touches the cluster's identity; and the lab plan's URNs are pinned, so a rename without an
// alias (a delete and a create on a real stack) fails here first.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { StackDiff } from "../src/plan/diff";
import { planFile, ROOT } from "./harness";
import { scenario, type StackDoc } from "./scenario";

/** Resources that name the cluster: none may ever be replaced or deleted by a node change. */
const IDENTITY = ["k3s-cluster-id", "k3s-token", "k3s-agent-token", "k3s-bootstrap", "k3s-k8s"];

/** The lab's servers are protected VMs; a scenario that removes or rebuilds one lifts that first. */
const unprotect = (doc: StackDoc) => {
  for (const n of doc.config["homelab:nodes"]) delete n.protect;
};

function op(d: StackDiff, name: string): string {
  const found = d.changes.filter((c) => c.name === name);
  assert.equal(found.length, 1, `one change named ${name}`);
  return found[0].op;
}

function assertIdentityKept(d: StackDiff) {
  for (const name of IDENTITY) assert.ok(["same", "update"].includes(op(d, name)), `${name}: ${op(d, name)}`);
  for (const name of IDENTITY.slice(0, 4)) assert.equal(op(d, name), "same", name);
  assert.equal(d.changes.filter((c) => c.op === "replace" && !c.name.startsWith("k3s-server-01")).length, 0, "nothing else is replaced");
}

describe("day two: servers", () => {
  test("remove the first server and add another: no provider replacement, no etcd re-init, removal runs from a surviving server", async () => {
    const d = await scenario(
      "Pulumi.lab.yaml",
      (doc) => {
        const nodes = doc.config["homelab:nodes"];
        nodes.splice(0, 1);
        nodes.push({ name: "k3s-server-04", role: "server", host: "pve-01", vmid: 214, ip: "10.0.20.14", cores: 4, memory: 8192 });
      },
      { base: unprotect },
    );
    assertIdentityKept(d);
    assert.equal(op(d, "k3s-k8s"), "update", "a re-read kubeconfig through another control server is an update");
    assert.equal(d.summary.replace, 0);
    assert.deepEqual(d.blockers, []);
    assert.deepEqual(
      d.changes
        .filter((c) => c.op === "delete")
        .map((c) => c.name)
        .sort(),
      [
        "k3s-server-01",
        "k3s-server-01-authorized-keys",
        "k3s-server-01-k3s",
        "k3s-server-01-k3s-join",
        "k3s-server-01-k3s-member",
        "k3s-server-01-k3s-upgrade",
        "k3s-server-01-ready",
        "k3s-server-01-reboot-drain",
        "k3s-server-01-reboot-vm",
        "k3s-server-01-reboot-wait",
        "k3s-server-01-user-data",
        "k3s-server-01-vm",
      ],
    );
    // The other servers' config.yaml changes only by tls-san (the server addresses); nothing else
    // of theirs is replaced, and the new server's join goes through the others.
    for (const s of ["k3s-server-02", "k3s-server-03"]) assert.equal(op(d, `${s}-k3s-join`), "update");
    const join = d.changes.find((c) => c.name === "k3s-server-04-k3s-join")!;
    assert.equal(join.op, "create");
  });

  test("reorder the servers in the stack file: nothing changes at all", async () => {
    const d = await scenario("Pulumi.lab.yaml", (doc) => {
      const n = doc.config["homelab:nodes"];
      [n[0], n[2]] = [n[2], n[0]];
    });
    assert.deepEqual(d.summary, { create: 0, update: 0, replace: 0, delete: 0, same: d.changes.length });
  });

  test("rebuild the first server's VM: only its VM and its steps are replaced; it joins the existing cluster", async () => {
    const d = await scenario("Pulumi.lab.yaml", (doc) => void (doc.config["homelab:nodes"][0].vmid = 219), { base: unprotect });
    assertIdentityKept(d);
    assert.equal(op(d, "k3s-k8s"), "same");
    assert.deepEqual(
      d.changes
        .filter((c) => c.op !== "same")
        .map((c) => `${c.op} ${c.name}`)
        .sort(),
      // The rolling reboot's steps restart with the new VM too (their create only records its settings).
      [
        "k3s-server-01-authorized-keys",
        "k3s-server-01-k3s-join",
        "k3s-server-01-k3s-member",
        "k3s-server-01-k3s-upgrade",
        "k3s-server-01-ready",
        "k3s-server-01-reboot-drain",
        "k3s-server-01-reboot-vm",
        "k3s-server-01-reboot-wait",
        "k3s-server-01-vm",
      ].map((n) => `replace ${n}`),
    );
  });
});

describe("day two: the GPU driver", () => {
  test("a driver branch change (the lab from 570 to its default 580): the driver steps update in place, drain first; only the smoke Job is replaced", async () => {
    const GPU = "k3s-gpu-01";
    const gpuOf = (doc: StackDoc) => doc.config["homelab:nodes"].find((n: { name: string }) => n.name === GPU).gpu;
    // The base is the lab as it was pinned; the head is the file as committed (no driverBranch: 580).
    const d = await scenario("Pulumi.lab.yaml", (doc) => assert.equal(gpuOf(doc).driverBranch, undefined), { base: (doc) => void (gpuOf(doc).driverBranch = "570") });
    assert.deepEqual(d.blockers, []);
    assert.deepEqual(d.warnings, []);
    assert.deepEqual(d.summary, { create: 0, update: 4, replace: 1, delete: 0, same: d.changes.length - 5 });
    const changed = d.changes.filter((c) => c.op !== "same");
    // The four driver steps: their scripts name the new package, so each runs its update: the drain
    // (on the control server) finds another package recorded on the Node and cordons and drains it,
    // the install installs and reboots, the check re-checks, the uncordon waits for the new boot.
    assert.deepEqual(
      changed.filter((c) => c.op === "update").map((c) => [c.name, c.properties.map((p) => p.path), c.properties.some((p) => p.forcesReplacement)]),
      [`${GPU}-nvidia-drain`, `${GPU}-nvidia`, `${GPU}-nvidia-check`, `${GPU}-nvidia-uncordon`].map((n) => [n, ["create", "update"], false]),
    );
    const drain = changed.find((c) => c.name === `${GPU}-nvidia-drain`)!;
    assert.match(String(drain.properties[1].old), /\nfingerprint='nvidia-driver-570-server-open'\n/);
    assert.match(String(drain.properties[1].new), /\nfingerprint='nvidia-driver-580-server-open'\n/);
    // Replaced by design: the smoke Job's pod template records what it proves (the VM and the
    // driver), and a Job's template is immutable, so the test runs again against the new driver.
    const job = changed.filter((c) => c.op === "replace");
    assert.deepEqual(
      job.map((c) => [c.name, c.type, c.properties.map((p) => [p.path, p.forcesReplacement])]),
      [[`nvidia-device-plugin-smoke-${GPU}`, "kubernetes:batch/v1:Job", [['spec.template.metadata.annotations["homelab-infra/gpu-fingerprint"]', true]]]],
    );
    assert.match(String(job[0].properties[0].new), /\/nvidia-driver-580-server-open/);
    // Nothing that holds data or runs the node is touched: the VM, its k3s steps, the device plugin,
    // the rolling reboot (a driver change needs no power cycle from Proxmox).
    for (const n of [`${GPU}-vm`, `${GPU}-k3s-join`, `${GPU}-k3s-member`, `${GPU}-k3s-upgrade`, `${GPU}-reboot-drain`, "nvidia-device-plugin-release", "k3s-k8s"])
      assert.equal(op(d, n), "same", n);
  });
});

describe("the lab plan's URNs", () => {
  // Regenerate after a deliberate change with: UPDATE_URNS=1 node --import tsx --test test/cluster-day2.test.ts
  const SNAPSHOT = join(ROOT, "test", "fixtures", "lab-urns.txt");
  test("are the recorded ones (a renamed resource needs an alias)", async () => {
    const g = await planFile("Pulumi.lab.yaml", "lab");
    const urns = g.resources.map((r) => r.urn).sort();
    assert.equal(new Set(urns).size, urns.length, "no URN twice");
    if (process.env.UPDATE_URNS === "1" || !existsSync(SNAPSHOT)) writeFileSync(SNAPSHOT, `${urns.join("\n")}\n`);
    const pinned = readFileSync(SNAPSHOT, "utf8").trim().split("\n");
    const gone = pinned.filter((u) => !urns.includes(u));
    const added = urns.filter((u) => !pinned.includes(u));
    assert.deepEqual(
      { gone, added },
      { gone: [], added: [] },
      "the lab plan's URNs changed: a renamed resource needs an alias (aliases: [{ name, parent }] with the old URN's parts), or, for a deliberate new or removed resource, regenerate test/fixtures/lab-urns.txt with UPDATE_URNS=1",
    );
  });
});
