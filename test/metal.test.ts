// The metal layer under the recording monitor: ProxmoxVm's children, inputs and options, images,
// lanes, and what a change of keys or k3s settings does (and does not) touch.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { VmSpec } from "../src/config/model";
import { BASE_PACKAGES, renderUserData, SYNC_AUTHORIZED_KEYS, WAIT_FOR_CLOUD_INIT } from "../src/metal/cloudInit";
import { imageFileName } from "../src/metal";
import { createAfter } from "../src/metal/lanes";
import { fingerprint, rebootInputs, SSH_DIAL, SSH_DIAL_UP, type ProxmoxVmArgs } from "../src/metal/proxmoxVm";
import { DEFAULT_SYNTH } from "../src/plan/recorder";
import { planConfig, stackDoc, type Graph } from "./harness";
import { cloudInitSchema, requireTool, shellcheck } from "./validators";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const SNIPPET = "proxmoxve:index/fileLegacy:FileLegacy";
const IMAGE = "proxmoxve:download/file:File";
const CMD = "command:remote:Command";
const FIXTURE = "test/fixtures/valid/ha-gpu.yaml";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureKeyFixtureKeyFixtureKeyFixtureKey01 test@fixture";

let base: Graph | undefined;
async function fixture(): Promise<Graph> {
  base ??= await planConfig(stackDoc(FIXTURE));
  return base;
}

describe("ProxmoxVm", () => {
  test("has exactly its snippet, VM, readiness gate and key sync as children", async () => {
    const g = await fixture();
    assert.deepEqual(
      g.children("k3s-a").map((r) => [r.type, r.name]),
      [
        [SNIPPET, "k3s-a-user-data"],
        [VM, "k3s-a-vm"],
        [CMD, "k3s-a-ready"],
        [CMD, "k3s-a-authorized-keys"],
      ],
    );
    assert.equal(g.get("k3s-a").type, "homelab:metal:ProxmoxVm");
    assert.deepEqual(g.get("k3s-a").inputs, {}, "component inputs are never stored");
  });

  test("the VM: cloud image import, static address on the VLAN, sizes, sorted tags", async () => {
    const g = await fixture();
    const vm = g.get("k3s-agent-vm", VM).inputs;
    // Fixed VMID and static address: a replacement must delete the old VM first.
    assert.equal(g.get("k3s-agent-vm", VM).deleteBeforeReplace, true);
    assert.equal(vm.name, "k3s-agent");
    assert.equal(vm.nodeName, "pve-b");
    assert.equal(vm.vmId, 211);
    assert.deepEqual(vm.tags, ["k3s", "k3s-agent"]);
    assert.equal(vm.onBoot, true);
    assert.equal(vm.started, true);
    assert.equal(vm.bios, "seabios");
    assert.equal(vm.machine, undefined);
    assert.equal(vm.hostpcis, undefined);
    assert.deepEqual(vm.cpu, { cores: 2, sockets: 1, type: "x86-64-v2-AES" });
    assert.deepEqual(vm.memory, { dedicated: 4096, floating: 4096 });
    // Nothing reads the agent's addresses: no wait for them, a short timeout for the rest.
    assert.deepEqual(vm.agent, { enabled: true, timeout: "5m", trim: true, waitForIp: { disabled: true } });
    // Proxmox never power-cycles the VM on an update: the rolling reboot chain does (finding 6).
    assert.equal(vm.rebootAfterUpdate, false);
    // The snippet path is fixed at creation: userDataFileId is force-new.
    assert.deepEqual(g.get("k3s-agent-vm", VM).ignoreChanges, ["initialization.userDataFileId"]);
    assert.deepEqual(vm.disks, [
      { interface: "scsi0", datastoreId: "local-lvm", importFrom: "local:import/test-noble-20251213-2b5f90ffe818.qcow2", size: 32, iothread: true, discard: "on", ssd: true },
    ]);
    assert.deepEqual(vm.networkDevices, [{ bridge: "vmbr0", model: "virtio", vlanId: 10 }]);
    assert.deepEqual(vm.initialization, {
      datastoreId: "local-lvm",
      ipConfigs: [{ ipv4: { address: "10.1.10.21/24", gateway: "10.1.10.1" } }],
      dns: { servers: ["10.1.10.1"] },
      userDataFileId: "local:snippets/test-k3s-agent-user-data.yaml",
    });
    assert.equal(vm.clone, undefined, "no template clone: the image is imported");
  });

  test("the user-data snippet is replaced delete-first (same path), named after the stack, and holds the rendered cloud-config", async () => {
    const g = await fixture();
    const s = g.get("k3s-agent-user-data");
    assert.equal(s.deleteBeforeReplace, true);
    // Its path is kept from creation, like the VM's userDataFileId (a snippet made before names
    // carried the stack keeps its name, and its VM is not replaced).
    assert.deepEqual(s.ignoreChanges, ["datastoreId", "sourceRaw.fileName"]);
    assert.equal(s.inputs.contentType, "snippets");
    assert.equal(s.inputs.datastoreId, "local");
    assert.equal(s.inputs.nodeName, "pve-b");
    assert.deepEqual(s.inputs.sourceRaw, {
      fileName: "test-k3s-agent-user-data.yaml",
      data: renderUserData({ hostname: "k3s-agent", user: "ubuntu", authorizedKeys: [KEY], packages: [] }),
    });
    assert.deepEqual(
      g.depNames("k3s-agent-vm").filter((n) => n.endsWith("user-data")),
      ["k3s-agent-user-data"],
    );
  });

  test("the VM names its snippet by path: replacing the snippet never makes a force-new VM input unknown", async () => {
    const g = await fixture();
    const vm = g.get("k3s-agent-vm");
    const snippet = g.get("k3s-agent-user-data");
    const image = g.get("image-noble-pve-b");
    assert.ok(vm.dependencies.includes(snippet.urn), "the VM is created after its snippet");
    // The recorder sees which inputs an output feeds: the boot disk is fed by the image download...
    assert.deepEqual(vm.propertyDependencies.disks, [image.urn]);
    // ...but no input is fed by the snippet (userDataFileId is force-new in the provider).
    assert.deepEqual(
      Object.keys(vm.propertyDependencies).filter((k) => vm.propertyDependencies[k].includes(snippet.urn)),
      [],
    );
    const sourceRaw = snippet.inputs.sourceRaw as { fileName: string };
    assert.equal((vm.rawInputs.initialization as { userDataFileId: string }).userDataFileId, `local:snippets/${sourceRaw.fileName}`);
  });

  test("the readiness gate waits for the VM over SSH with a long dial budget; the key sync runs after it, with a short one", async () => {
    const g = await fixture();
    const ready = g.get("k3s-agent-ready");
    assert.deepEqual(g.depNames("k3s-agent-ready"), ["k3s-agent-vm"]);
    assert.equal(ready.inputs.create, WAIT_FOR_CLOUD_INIT);
    assert.equal(ready.inputs.logging, "stderr");
    assert.equal(ready.inputs.addPreviousOutputInEnv, false);
    assert.deepEqual(ready.secretPaths, ["connection"]);
    assert.equal(ready.inputs.connection, "[secret]");
    const conn = ready.rawInputs.connection as Record<string, unknown>;
    assert.equal(conn.host, "10.1.10.21");
    assert.equal(conn.user, "ubuntu");
    assert.equal(conn.dialErrorLimit, SSH_DIAL.dialErrorLimit);
    assert.equal(conn.perDialTimeout, SSH_DIAL.perDialTimeout);
    assert.equal(conn.privateKey, "plan-placeholder-homelab-sshPrivateKey");
    // A recreated VM has new MAC addresses: the gate (and everything after it) runs again.
    assert.equal((ready.inputs.triggers as string[]).length, 1);
    assert.match((ready.inputs.triggers as string[])[0], /^BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2}$/);
    const keys = g.get("k3s-agent-authorized-keys");
    assert.deepEqual(g.depNames("k3s-agent-authorized-keys"), ["k3s-agent-ready", "k3s-agent-vm"]);
    assert.equal(keys.inputs.stdin, `${KEY}\n`);
    assert.equal(keys.inputs.create, SYNC_AUTHORIZED_KEYS);
    // Once the VM is up, a dead VM fails a step in minutes, not after the boot budget.
    assert.equal((keys.rawInputs.connection as Record<string, unknown>).dialErrorLimit, SSH_DIAL_UP.dialErrorLimit);
    assert.ok(SSH_DIAL_UP.dialErrorLimit < SSH_DIAL.dialErrorLimit);
  });

  test("the instance key is the NIC's MAC from the VM's config, whatever the guest agent reports", async () => {
    // The agent lists every guest interface (lo, cni0, flannel.1, a veth per pod) and nothing when
    // it is slow to answer: none of that may re-trigger the steps keyed on the VM's identity.
    const agentReports = (macs: string[]) => ({
      [VM]: (a: Parameters<(typeof DEFAULT_SYNTH)[string]>[0]) => ({ ...DEFAULT_SYNTH[VM](a), macAddresses: macs }),
    });
    const base = (await fixture()).get("k3s-agent-ready").rawInputs.triggers as string[];
    assert.match(base[0], /^BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2}$/);
    const silent = await planConfig(stackDoc(FIXTURE), { synth: agentReports([]) });
    const busy = await planConfig(stackDoc(FIXTURE), { synth: agentReports(["00:00:00:00:00:00", base[0], "0A:58:0A:2A:00:01", "D2:5C:9E:11:22:33"]) });
    for (const g of [silent, busy]) {
      assert.deepEqual(g.get("k3s-agent-ready").rawInputs.triggers, base);
      assert.deepEqual(g.get("k3s-agent-authorized-keys").rawInputs.triggers, base);
    }
  });

  test("one cloud image download per Proxmox node in use, never overwritten, its file named after the stack and the checksum", async () => {
    const g = await fixture();
    const images = g.ofType(IMAGE);
    // Created before the old one goes (delete-first would re-diff every VM with its disks unknown);
    // a bump that keeps the configured file name, or fixes only the checksum, still gets a new file.
    for (const i of images) assert.equal(i.deleteBeforeReplace, false, i.name);
    assert.equal(imageFileName("lab", "noble-20251213.qcow2", "2b5f90ffe8180def"), "lab-noble-20251213-2b5f90ffe818.qcow2");
    assert.equal(imageFileName("home", "a.b.raw", "0123456789abcdef"), "home-a.b-0123456789ab.raw");
    assert.deepEqual(images.map((i) => i.name).sort(), ["image-noble-pve-a", "image-noble-pve-b"]);
    assert.deepEqual(g.get("image-noble-pve-a").inputs, {
      nodeName: "pve-a",
      datastoreId: "local",
      contentType: "import",
      url: "https://cloud-images.ubuntu.com/releases/noble/release-20251213/ubuntu-24.04-server-cloudimg-amd64.img",
      fileName: "test-noble-20251213-2b5f90ffe818.qcow2",
      checksum: "2b5f90ffe8180def601c021c874e55d8303e8bcbfc66fee2b94414f43ac5eb1f",
      checksumAlgorithm: "sha256",
      overwrite: false,
      overwriteUnmanaged: false,
      uploadTimeout: 1800,
    });
  });

  test("the Proxmox provider gets the token and SSH key as secrets", async () => {
    const g = await fixture();
    const p = g.get("proxmox", "pulumi:providers:proxmoxve");
    assert.deepEqual(p.secretPaths.sort(), ["apiToken", "ssh"]);
    assert.equal(p.inputs.endpoint, "https://10.1.0.2:8006/");
  });

  test("protect comes from config, per VM, and covers the VM only", async () => {
    const doc = stackDoc(FIXTURE);
    doc["homelab:nodes"][0].protect = true;
    const g = await planConfig(doc);
    assert.equal(g.get("k3s-a-vm").protect, true);
    // The snippet and SSH steps stay replaceable, so a key change still applies to a protected VM.
    for (const n of ["k3s-a", "k3s-a-user-data", "k3s-a-ready", "k3s-a-authorized-keys"]) assert.equal(g.get(n).protect, false, n);
    assert.equal(g.get("k3s-b-vm").protect, false);
  });

  test("a new SSH key or k3s version changes the snippet or SSH steps, never the VM's inputs", async () => {
    const g1 = await fixture();
    const doc = stackDoc(FIXTURE);
    doc["homelab:ssh"].authorizedKeys.push("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISecondKeySecondKeySecondKeySecondKey000002 second@fixture");
    doc["homelab:versions"].k3s = "v1.35.0+k3s1";
    const g2 = await planConfig(doc);
    for (const name of ["k3s-a-vm", "k3s-agent-vm"]) assert.deepEqual(g2.get(name).rawInputs, g1.get(name).rawInputs, name);
    assert.notDeepEqual(g2.get("k3s-a-user-data").inputs.sourceRaw, g1.get("k3s-a-user-data").inputs.sourceRaw);
    assert.notEqual(g2.get("k3s-a-authorized-keys").inputs.stdin, g1.get("k3s-a-authorized-keys").inputs.stdin);
  });

  test("planning the same config twice gives the same graph (no perpetual diffs)", async () => {
    const g1 = await fixture();
    const g2 = await planConfig(stackDoc(FIXTURE));
    assert.deepEqual(
      g2.resources.map((r) => [r.urn, r.rawInputs, r.dependencies]),
      g1.resources.map((r) => [r.urn, r.rawInputs, r.dependencies]),
    );
  });
});

describe("lanes: bounded parallel creates per Proxmox node", () => {
  const spec = (name: string, host: string, role: VmSpec["role"]): VmSpec => ({ name, host, role }) as unknown as VmSpec;

  test("servers first, then each VM waits for the one `concurrency` places earlier on its node", () => {
    const vms = [spec("a1", "h1", "agent"), spec("s1", "h1", "server"), spec("a2", "h1", "agent"), spec("s2", "h2", "server"), spec("x", "h1", "standalone")];
    assert.deepEqual(Object.fromEntries(createAfter(vms, 1)), { s1: undefined, a1: "s1", a2: "a1", x: "a2", s2: undefined });
    assert.deepEqual(Object.fromEntries(createAfter(vms, 2)), { s1: undefined, a1: undefined, a2: "s1", x: "a1", s2: undefined });
  });

  test("property: never more than `concurrency` VMs of a node start unchained, chains stay on their node, no cycles", () => {
    const roles: VmSpec["role"][] = ["server", "agent", "standalone"];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(...roles)), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 5 }), (entries, c) => {
        const vms = entries.map(([h, role], i) => spec(`vm${i}`, `h${h}`, role));
        const after = createAfter(vms, c);
        const host = new Map(vms.map((v) => [v.name, v.host]));
        for (const h of new Set(vms.map((v) => v.host))) {
          const roots = vms.filter((v) => v.host === h && after.get(v.name) === undefined);
          if (roots.length > c) return false;
        }
        for (const [name, prev] of after) {
          if (prev !== undefined && host.get(prev) !== host.get(name)) return false;
          const seen = new Set<string>();
          for (let cur: string | undefined = name; cur !== undefined; cur = after.get(cur)) {
            if (seen.has(cur)) return false;
            seen.add(cur);
          }
        }
        // No server ever waits for a non-server.
        return vms.every((v) => v.role !== "server" || after.get(v.name) === undefined || vms.find((x) => x.name === after.get(v.name))!.role === "server");
      }),
    );
  });

  test("with concurrency 1 the VMs of one node are created one after another", async () => {
    const doc = stackDoc(FIXTURE);
    doc["homelab:proxmox"].createConcurrency = 1;
    const g = await planConfig(doc);
    // pve-a holds k3s-a and k3s-c (servers); pve-b holds k3s-b (server) and k3s-agent.
    assert.ok(g.depNames("k3s-c-vm").includes("k3s-a-vm"));
    assert.ok(g.depNames("k3s-agent-vm").includes("k3s-b-vm"));
    assert.ok(!g.depNames("k3s-a-vm").some((n) => n.endsWith("-vm")));
    assert.ok(!g.depNames("k3s-b-vm").some((n) => n.endsWith("-vm")));
  });

  test("GPU VMs are in the lanes too: with concurrency 1 the lab's GPU VM waits for the server on its node", async () => {
    const doc = stackDoc();
    doc["homelab:proxmox"].createConcurrency = 1;
    const g = await planConfig(doc);
    // pve-01 holds k3s-server-01 and k3s-gpu-01: servers first, then the GPU node.
    assert.deepEqual(
      g.depNames("k3s-gpu-01-vm").filter((n) => n.endsWith("-vm")),
      ["k3s-server-01-vm"],
    );
    assert.ok(g.depNames("k3s-gpu-01-vm").includes("k3s-gpu-01-pci"), "and for its PCI mapping");
  });
});

describe("rebootFingerprint: exactly the inputs Proxmox applies at a power cycle", () => {
  const args: ProxmoxVmArgs = {
    nodeName: "pve-a",
    vmId: 201,
    hostname: "k3s-a",
    address: "10.1.10.11/24",
    gateway: "10.1.10.1",
    dnsServers: ["10.1.10.1"],
    bridge: "vmbr0",
    cores: 2,
    cpuType: "x86-64-v2-AES",
    memory: 4096,
    diskSize: 32,
    datastoreId: "local-lvm",
    snippetDatastoreId: "local",
    stack: "lab",
    imageFileId: "local:import/a.qcow2",
    tags: ["k3s"],
    sshUser: "ubuntu",
    authorizedKeys: [KEY],
    sshPrivateKey: "k",
    proxmoxHost: { address: "10.1.0.2", user: "root" },
  };
  const fp = (edit: Partial<ProxmoxVmArgs>) => fingerprint(rebootInputs({ ...args, ...edit }));

  test("deterministic, and independent of key order", () => {
    assert.equal(fp({}), fp({}));
    assert.match(fp({}), /^[0-9a-f]{16}$/);
    assert.equal(fingerprint({ a: 1, b: [1, { c: 2, d: undefined }] }), fingerprint({ b: [1, { c: 2 }], a: 1 }));
  });

  test("changes with cores, memory, CPU type, DNS, search domain, address, gateway and passthrough", () => {
    const base = fp({});
    const edits: Partial<ProxmoxVmArgs>[] = [
      { cores: 4 },
      { memory: 8192 },
      { cpuType: "host" },
      { dnsServers: ["1.1.1.1"] },
      { searchDomain: "lab.example.com" },
      { address: "10.1.10.12/24" },
      { gateway: "10.1.10.254" },
      { passthrough: { mapping: "gpu-k3s-a", mappingName: "gpu-k3s-a" } },
    ];
    const seen = new Set([base]);
    for (const e of edits) {
      const f = fp(e);
      assert.ok(!seen.has(f), JSON.stringify(e));
      seen.add(f);
    }
  });

  test("does not change with what needs no reboot: disk size, tags, keys, packages, image, NIC, stack, protect", () => {
    const base = fp({});
    for (const e of [
      { diskSize: 64 },
      { tags: ["k3s", "x"] },
      { authorizedKeys: [KEY, KEY] },
      { packages: ["jq"] },
      { imageFileId: "local:import/b.qcow2" },
      { bridge: "vmbr1" },
      { vlanId: 30 },
      { stack: "home" },
      { protect: true },
      { sshPrivateKey: "other" },
      { proxmoxHost: { address: "10.1.0.3", user: "root" } },
    ] as Partial<ProxmoxVmArgs>[]) {
      assert.equal(fp(e), base, JSON.stringify(e));
    }
  });

  test("the VM's reboot-needing inputs are the ones fingerprinted", async () => {
    const g = await fixture();
    const vm = g.get("k3s-agent-vm").rawInputs;
    const r = rebootInputs({ ...args, cores: 2, memory: 4096, address: "10.1.10.21/24", dnsServers: ["10.1.10.1"], gateway: "10.1.10.1" });
    for (const k of ["bios", "operatingSystem", "cpu", "memory", "scsiHardware", "serialDevices"] as const) assert.deepEqual(vm[k], r[k], k);
    const init = vm.initialization as Record<string, unknown>;
    assert.deepEqual({ ipConfigs: init.ipConfigs, dns: init.dns }, JSON.parse(JSON.stringify(r.initialization)));
  });
});

describe("cloud-init user-data", () => {
  const plain = renderUserData({ hostname: "k3s-a", domain: "lab.example.com", user: "ubuntu", authorizedKeys: [KEY], packages: ["jq"] });
  const longhorn = renderUserData({ hostname: "k3s-b", user: "ubuntu", authorizedKeys: [KEY], longhorn: { dataDisk: true } });
  const iscsi = renderUserData({ hostname: "k3s-c", user: "ubuntu", authorizedKeys: [KEY], iscsi: true });

  test("renders the minimal first-boot config, deterministically", () => {
    assert.equal(
      plain,
      `#cloud-config
disable_root: true
fqdn: k3s-a.lab.example.com
hostname: k3s-a
manage_etc_hosts: true
package_update: true
package_upgrade: false
packages:
  - ca-certificates
  - curl
  - jq
  - nfs-common
  - qemu-guest-agent
prefer_fqdn_over_hostname: false
runcmd:
  - - systemctl
    - enable
    - --now
    - qemu-guest-agent
ssh_pwauth: false
timezone: Etc/UTC
users:
  - groups:
      - sudo
    lock_passwd: true
    name: ubuntu
    shell: /bin/bash
    ssh_authorized_keys:
      - ${KEY}
    sudo: ALL=(ALL) NOPASSWD:ALL
`,
    );
    assert.deepEqual([...BASE_PACKAGES].sort(), [...BASE_PACKAGES]);
  });

  test("Longhorn nodes get open-iscsi, the multipath blacklist and the data disk mount", () => {
    assert.match(longhorn, /- open-iscsi\n/);
    assert.match(longhorn, /path: \/etc\/multipath\.conf/);
    assert.match(longhorn, /devnode "\^sd\[a-z0-9\]\+"/);
    assert.match(longhorn, /device: \/dev\/sdb/);
    assert.match(longhorn, /- \/var\/lib\/longhorn/);
  });

  test("passes cloud-init's own schema check", (t) => {
    if (!requireTool(t, "cloud-init")) return;
    assert.equal(cloudInitSchema(plain), "");
    assert.equal(cloudInitSchema(longhorn), "");
    assert.equal(cloudInitSchema(iscsi), "");
  });

  test("the schema check really rejects a bad document", (t) => {
    if (!requireTool(t, "cloud-init")) return;
    assert.notEqual(cloudInitSchema("#cloud-config\nusers: 5\npackage_update: maybe\n"), "");
  });

  test("the SSH scripts pass shellcheck", (t) => {
    if (!requireTool(t, "shellcheck")) return;
    assert.equal(shellcheck(WAIT_FOR_CLOUD_INIT), "");
    assert.equal(shellcheck(SYNC_AUTHORIZED_KEYS), "");
  });
});
