// Realistic pull-request edits of the lab stack, each with what the offline diff says it does.
// Built with test/scenario.ts: the base is Pulumi.lab.yaml as committed. Where a verdict shows a
// real problem of the program today, the comment says so: the helpers fixing it update the test.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { StackDiff } from "../src/plan/diff";
import { toDiffMarkdown, toDiffText } from "../src/plan/diffFormat";
import { planFile } from "./harness";
import { scenario } from "./scenario";

/** Names of the resources a `secure:` key's value reaches, from the plan itself. */
async function usersOf(file: string, key: string): Promise<string[]> {
  return (await planFile(file, "lab")).resources.filter((r) => r.secretConfig.includes(key)).map((r) => r.name);
}

const LAB = "Pulumi.lab.yaml";
/** name -> op for every resource that is not `same`. */
const notSame = (d: StackDiff) => Object.fromEntries(d.changes.filter((c) => c.op !== "same").map((c) => [c.name, c.op]));
const change = (d: StackDiff, name: string) => {
  const c = d.changes.find((x) => x.name === name);
  assert.ok(c, `no change for ${name}`);
  return c;
};
const node = (doc: { config: Record<string, any> }, name: string) => doc.config["homelab:nodes"].find((n: { name: string }) => n.name === name);
const messages = (xs: { message: string }[]) => xs.map((x) => x.message);
const NODE_PARTS = [
  "-k3s",
  "",
  "-user-data",
  "-vm",
  "-reboot-drain",
  "-reboot-vm",
  "-reboot-wait",
  "-ready",
  "-authorized-keys",
  "-k3s-join",
  "-k3s-member",
  "-k3s-drain",
  "-k3s-upgrade",
  "-k3s-uncordon",
];
const nodeResources = (name: string, op: string) => Object.fromEntries(NODE_PARTS.map((p) => [`${name}${p}`, op]));

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
    // The VM update never reboots; the server's rolling-reboot decision changes (drain, reboot, wait).
    assert.deepEqual(notSame(d), { "k3s-server-01-reboot-drain": "update", "k3s-server-01-vm": "update" });
    const vm = change(d, "k3s-server-01-vm");
    assert.deepEqual(
      vm.properties.map((p) => [p.path, p.old, p.new]),
      [
        ["memory.dedicated", 8192, 16384],
        ["memory.floating", 8192, 16384],
      ],
    );
    assert.equal(vm.confidence, "table");
    assert.deepEqual(messages(d.warnings), [
      "VM k3s-server-01 applies its new memory at a Proxmox reboot later in this run (rebootAfterUpdate is off): a k3s node is drained first and rebooted one server at a time, then a bounded number of agents; expect it down for a few minutes",
    ]);
  });

  test("k3s version bump: the install and upgrade steps update in place, nothing is replaced", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:versions"].k3s = "v1.34.3+k3s1";
    });
    const expected: Record<string, string> = { "k3s-kubeconfig": "update" };
    for (const n of ["k3s-server-01", "k3s-server-02", "k3s-server-03"]) Object.assign(expected, { [`${n}-k3s-join`]: "update", [`${n}-k3s-upgrade`]: "update" });
    // Agents upgrade in drained batches: drain, upgrade, uncordon.
    for (const n of ["k3s-agent-01", "k3s-agent-02", "k3s-gpu-01"])
      Object.assign(expected, { [`${n}-k3s-join`]: "update", [`${n}-k3s-drain`]: "update", [`${n}-k3s-upgrade`]: "update", [`${n}-k3s-uncordon`]: "update" });
    assert.deepEqual(notSame(d), expected);
    assert.equal(change(d, "k3s-server-01-k3s-upgrade").confidence, "table");
    assert.ok(change(d, "k3s-server-01-k3s-upgrade").properties.some((p) => p.path === "create" && typeof p.new === "string" && p.new.includes("v1.34.3+k3s1")));
    assert.deepEqual([d.blockers, d.warnings], [[], []]);
  });

  test("add an agent: creates only", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:nodes"].splice(5, 0, { name: "k3s-agent-03", role: "agent", host: "pve-01", vmid: 223, ip: "10.0.20.23", cores: 4, memory: 16384, diskSize: 100 });
    });
    assert.deepEqual(notSame(d), nodeResources("k3s-agent-03", "create"));
    assert.ok(d.changes.filter((c) => c.op === "create").every((c) => c.confidence === "exact"));
    assert.deepEqual([d.blockers, d.warnings], [[], []]);
  });

  test("remove an agent: its VM and steps are deleted, with a data warning", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:nodes"] = doc.config["homelab:nodes"].filter((n: { name: string }) => n.name !== "k3s-agent-02");
    });
    assert.deepEqual(notSame(d), nodeResources("k3s-agent-02", "delete"));
    assert.deepEqual(d.blockers, []);
    assert.deepEqual(messages(d.warnings), ["VM k3s-agent-02 (VMID 222) is deleted: its disks and everything on them are lost; back it up first, or undo the change"]);
  });

  test("change a protected server's VMID: a blocker; the VM and its steps are replaced, the cluster's identity is not", async () => {
    const d = await scenario(LAB, (doc) => {
      node(doc, "k3s-server-01").vmid = 219;
    });
    const vm = change(d, "k3s-server-01-vm");
    assert.equal(vm.confidence, "table", "vm_id is replaced by the provider's CustomizeDiff whenever it changes: ForceNewIf(vm_id), bpg vm.go:1765-1790");
    assert.equal(vm.deleteBeforeReplace, true);
    // The steps keyed on the VM (its MAC in their triggers) follow it through the engine's cascade.
    const steps = ["ready", "authorized-keys", "k3s-join", "k3s-member", "k3s-upgrade", "reboot-drain", "reboot-vm", "reboot-wait"].map((s) => `k3s-server-01-${s}`);
    assert.deepEqual(notSame(d), Object.fromEntries(["k3s-server-01-vm", ...steps].map((n) => [n, "replace"])));
    assert.match(change(d, "k3s-server-01-ready").reasons[0], /^k3s-server-01-vm is replaced delete-first and its outputs feed triggers, an input that forces replacement/);
    assert.deepEqual(messages(d.blockers), [
      "k3s-server-01-vm is protected and would be replaced (vmId changed (the provider's CustomizeDiff replaces a VM whose vm_id changes)): pulumi up will refuse; undo the change, or set protect: false in one run and replace it in the next",
    ]);
    assert.deepEqual(messages(d.warnings), [
      "VM k3s-server-01 (VMID 219) is deleted and re-created (vmId changed (the provider's CustomizeDiff replaces a VM whose vm_id changes)): its disks and everything on them are lost; back it up first, or undo the change",
    ]);
    // The comment's first lines after the table name the blocker.
    const md = toDiffMarkdown({ stacks: [d] }).split("\n");
    const at = md.indexOf("### ⛔ Blockers: `pulumi up` would fail");
    assert.ok(at > 0 && at < 10, "blockers come right after the counts");
    assert.match(md[at + 2], /^- \*\*lab\*\*: k3s-server-01-vm is protected and would be replaced/);
  });

  test("rename a node: delete and create, and the new VM collides on the VMID and address the old one holds", async () => {
    const d = await scenario(LAB, (doc) => {
      node(doc, "k3s-agent-01").name = "k3s-agent-09";
    });
    assert.deepEqual(notSame(d), { ...nodeResources("k3s-agent-09", "create"), ...nodeResources("k3s-agent-01", "delete") });
    assert.deepEqual(messages(d.warnings), ["VM k3s-agent-01 (VMID 221) is deleted: its disks and everything on them are lost; back it up first, or undo the change"]);
    assert.deepEqual(messages(d.blockers), [
      "creating k3s-agent-09-vm takes VMID 221, which k3s-agent-01-vm holds until it is deleted at the end of the same run: the create fails; give it another VMID, or remove k3s-agent-01-vm in an earlier run",
      "creating k3s-agent-09-vm takes IP 10.0.20.21, which k3s-agent-01-vm holds until it is deleted at the end of the same run: two VMs answer on one address until the old one is gone; give it another address, or remove k3s-agent-01-vm in an earlier run",
    ]);
  });

  test("image bump: new image files, the VMs only update (the new image reaches new VMs only)", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:images"]["ubuntu-noble"] = {
        url: "https://cloud-images.ubuntu.com/releases/noble/release-20260115/ubuntu-24.04-server-cloudimg-amd64.img",
        checksum: "a".repeat(64),
        fileName: "ubuntu-24.04-server-cloudimg-amd64-20260115.qcow2",
      };
    });
    const vms = ["k3s-server-01", "k3s-server-02", "k3s-server-03", "k3s-agent-01", "k3s-agent-02", "k3s-gpu-01", "vault"];
    assert.deepEqual(notSame(d), {
      "image-ubuntu-noble-pve-01": "replace",
      "image-ubuntu-noble-pve-02": "replace",
      "image-ubuntu-noble-pve-03": "replace",
      ...Object.fromEntries(vms.map((v) => [`${v}-vm`, "update"])),
    });
    assert.equal(change(d, "image-ubuntu-noble-pve-01").confidence, "table");
    const vm = change(d, "k3s-server-01-vm");
    assert.ok(
      vm.properties.some(
        (p) => p.path === "disks[0].importFrom" && p.new === "local:import/lab-ubuntu-24.04-server-cloudimg-amd64-20260115-aaaaaaaaaaaa.qcow2" && !p.forcesReplacement,
      ),
    );
    assert.deepEqual(d.blockers, []);
    assert.deepEqual(
      messages(d.warnings).sort(),
      vms
        .sort()
        .map(
          (v) =>
            `VM ${v} keeps its disk: a new image reaches only VMs created from now on (importFrom is read only at creation); rebuild it deliberately (pulumi up --replace) if it must run the new image`,
        ),
    );
  });

  test("enable NFS on a stack that had none: no claim is replaced (each keeps its class), and the diff says how to migrate", async () => {
    const d = await scenario(LAB, () => {}, {
      base: (doc) => {
        doc.config["homelab:storage"].nfs.enabled = false;
        delete doc.config["homelab:storage"].nfs.backupShare;
      },
    });
    // The claims' class is immutable: the program ignores the class it now computes (issue 10).
    assert.deepEqual(notSame(d), { nfs: "create", "nfs-release": "create", "nfs-storage-class": "create", "postgresql-backup": "create" });
    assert.equal(change(d, "jupyter-work").op, "same");
    assert.deepEqual(messages(d.warnings), [
      "claim ai/jupyter-work stays on local-path with its data: the program now computes nfs-client for it, but a claim's class is immutable, so the change is ignored; to move the data, disable the app, copy the data out of the kept claim, delete it with kubectl and enable the app again (or pin apps.<name>.storageClass: local-path to say it stays)",
      "claim ai/ollama-models stays on local-path with its data: the program now computes nfs-client for it, but a claim's class is immutable, so the change is ignored; to move the data, disable the app, copy the data out of the kept claim, delete it with kubectl and enable the app again (or pin apps.<name>.storageClass: local-path to say it stays)",
    ]);
  });

  test("move an app to another namespace: its objects are replaced; the old claim stays with its data (retainOnDelete) and the diff says to copy it", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:apps"].n8n.namespace = "ai";
    });
    assert.deepEqual(notSame(d), { "n8n-source": "replace", "n8n-data": "replace", "n8n-secrets": "replace", "n8n-release": "replace", "n8n-ingress": "replace" });
    // Another namespace: created first, the old one deleted at the end (pulumi-kubernetes provider.go:1647).
    assert.ok(d.changes.filter((c) => c.op === "replace").every((c) => c.deleteBeforeReplace === false && c.reasons[0] === "metadata.namespace changed"));
    const coexist = (name: string, kind: string) =>
      `${name} moves from applications/${kind} to ai/${kind}: the new object is created first and the old one deleted at the end of the run, so both exist until then (two Ingresses for one host, two releases of one chart); check that they can coexist, or remove the old one in an earlier run`;
    assert.deepEqual(messages(d.warnings), [
      "claim applications/n8n-data stays where it is with its data (retainOnDelete) and a new, empty claim ai/n8n-data is created (metadata.namespace changed): copy the data into the new claim, then delete the old one by hand",
      coexist("n8n-source", "n8n"),
      coexist("n8n-secrets", "n8n-secrets"),
      coexist("n8n-release", "n8n"),
      coexist("n8n-ingress", "n8n"),
    ]);
  });

  test("bump a chart version: the Helm release updates in place", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:versions"].certManager = "v1.19.2";
    });
    assert.deepEqual(notSame(d), { "cert-manager-release": "update" });
    assert.deepEqual(change(d, "cert-manager-release").properties, [{ path: "version", old: "v1.19.1", new: "v1.19.2", forcesReplacement: false }]);
    const app = await scenario(LAB, (doc) => {
      doc.config["homelab:apps"]["home-assistant"].version = "0.3.23";
    });
    assert.deepEqual(notSame(app), { "home-assistant-release": "update" });
    assert.deepEqual(
      change(app, "home-assistant-release").properties.map((p) => [p.path, p.new]),
      [["spec.chart.spec.version", "0.3.23"]],
    );
  });

  test("disable an app: its objects are deleted, its claim is only dropped from the state", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:apps"].n8n.enabled = false;
    });
    assert.deepEqual(notSame(d), {
      n8n: "delete",
      "n8n-encryption-key": "delete",
      "n8n-source": "delete",
      "n8n-data": "delete",
      "n8n-secrets": "delete",
      "n8n-release": "delete",
      "n8n-ingress": "delete",
    });
    assert.deepEqual(change(d, "n8n-data").reasons, ["removed from state, kept: retainOnDelete leaves the object where it is"]);
    assert.deepEqual(messages(d.warnings), [
      "claim applications/n8n-data leaves the Pulumi state but stays in the cluster with its data (retainOnDelete); delete it by hand when it is no longer needed",
      "n8n-encryption-key is deleted: whatever was encrypted or secured with the old value (an app's data, a database login, a deploy key) no longer opens with it; keep its arguments unchanged",
    ]);
  });

  test("rotate a secure: value: what uses it may update (advisory), said once, and nothing of the secret is shown", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:sshPrivateKey"] = { secure: "v1:AAAArotatedCiphertextBBBB" };
    });
    const updated = d.changes.filter((c) => c.op === "update");
    // Exactly the resources the key reaches (the Proxmox provider's SSH block, every SSH step).
    // k3s-bootstrap's only secret input (connection) is in its ignoreChanges: processIgnoreChanges
    // keeps the old value, so it is same (step_generator.go:2838).
    const users = (await usersOf(LAB, "homelab:sshPrivateKey")).filter((n) => n !== "k3s-bootstrap").sort();
    assert.equal(change(d, "k3s-bootstrap").op, "same");
    assert.deepEqual(updated.map((c) => c.name).sort(), users);
    assert.deepEqual(d.summary, { create: 0, update: users.length, replace: 0, delete: 0, same: d.changes.length - users.length });
    assert.ok(updated.every((c) => c.confidence === "advisory" && c.reasons[0] === "homelab:sshPrivateKey: ciphertext changed (possibly rotated)"));
    assert.ok(
      updated.some((c) => c.name === "proxmox"),
      "the Proxmox provider's SSH block",
    );
    assert.deepEqual(change(d, "k3s-server-01-ready").properties, [{ path: "connection", old: "[secret]", new: "[secret]", forcesReplacement: false, secret: true }]);
    assert.deepEqual(messages(d.warnings), [
      `homelab:sshPrivateKey: its ciphertext changed (possibly rotated; re-encrypting the same value changes it too): ${users.length} resources that use it are updated with the value it now holds; a new SSH key or token must already be accepted where it is used`,
    ]);
    for (const text of [toDiffText({ stacks: [d] }), toDiffMarkdown({ stacks: [d] }), JSON.stringify(d)]) {
      assert.doesNotMatch(text, /plan-placeholder-|plan-random-|AAAArotated|BEGIN OPENSSH PRIVATE KEY|BEGIN PRIVATE KEY/);
      assert.match(text, /connection/);
    }
  });
});
