// The package entry point used the way an outside program uses it (test/support/outside-program.ts
// imports only `homelab-infra` and the SDKs): run under Pulumi's mock runtime with the recording
// monitor, it registers exactly this graph, with the defaults applied.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { RecordingMonitor } from "../src/plan/recorder";
import * as lib from "homelab-infra";
import { Graph } from "./harness";
import { outsideProgram } from "./support/outside-program";

const STACK = "outside";
let graph: Graph;

before(async () => {
  const monitor = new RecordingMonitor();
  pulumi.runtime.setAllConfig({ "outside:proxmoxApiToken": "root@pam!t=secret", "outside:sshPrivateKey": "PRIVATE KEY", "outside:kubeconfig": "apiVersion: v1\nkind: Config\n" }, [
    "outside:proxmoxApiToken",
    "outside:sshPrivateKey",
    "outside:kubeconfig",
  ]);
  await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, "outside-project", STACK, false);
  pulumi.runtime.setMockOptions(monitor, "outside-project", STACK, false);
  await pulumi.runtime.runInPulumiStack(async () => outsideProgram());
  await pulumi.runtime.disconnect();
  graph = new Graph({ stack: STACK, resources: monitor.records, outputs: monitor.stackOutputs, rawOutputs: monitor.rawStackOutputs, warnings: [] });
});

const PARENT = "outside-project-outside";

/** `type name (parent)` per resource, sorted: the whole graph. */
function shape(g: Graph): string[] {
  return g.resources.map((r) => `${r.type} ${r.name} (${r.parent ? g.byUrn(r.parent).name : "-"})`).sort();
}

function providerOf(g: Graph, name: string): string {
  return g.byUrn(g.get(name).provider.split("::").slice(0, -1).join("::")).name;
}

describe("the package entry point, used by an outside program", () => {
  test("`homelab-infra` is the source under the tests' `homelab-source` condition, and the build (lib/) otherwise", () => {
    // .ci/run runs this file again after `npm run build` without the condition: the built package,
    // the one `npm pack` ships, then has to build the same graph.
    const expected = process.env.HOMELAB_LIBRARY === "built" ? "lib/library.js" : "src/library.ts";
    assert.equal(relative(join(__dirname, ".."), require.resolve("homelab-infra")), expected);
  });

  test("exports the components and the catalog, and registers nothing on import", () => {
    for (const c of [
      "ProxmoxVm",
      "K3sCluster",
      "GpuNode",
      "MetalLbPool",
      "CertManagerIssuer",
      "TraefikConfig",
      "NfsStorage",
      "Longhorn",
      "Monitoring",
      "FluxBootstrap",
      "DnsRecords",
      "CatalogApp",
    ]) {
      assert.equal(typeof (lib as Record<string, unknown>)[c], "function", c);
    }
    assert.ok(lib.CATALOG.size > 10);
    // Imported at the top of this file, before any runtime was set up: it registered nothing.
    assert.equal(graph.resources.filter((r) => r.type.startsWith("homelab:")).length, 2, "only the two components the program built");
  });

  test("one VM and one MetalLB pool: exactly this graph", () => {
    assert.deepEqual(shape(graph), [
      "command:remote:Command dns-authorized-keys (dns)",
      "command:remote:Command dns-ready (dns)",
      `homelab:metal:ProxmoxVm dns (${PARENT})`,
      `homelab:system:MetalLbPool lb (${PARENT})`,
      "kubernetes:core/v1:Namespace lb-namespace (lb)",
      "kubernetes:helm.sh/v3:Release lb-release (lb)",
      "kubernetes:metallb.io/v1beta1:IPAddressPool lb-pool (lb)",
      "kubernetes:metallb.io/v1beta1:L2Advertisement lb-l2 (lb)",
      `proxmoxve:download/file:File noble (${PARENT})`,
      "proxmoxve:index/fileLegacy:FileLegacy dns-user-data (dns)",
      "proxmoxve:index/vmLegacy:VmLegacy dns-vm (dns)",
      `pulumi:providers:kubernetes cluster (${PARENT})`,
      `pulumi:providers:proxmoxve pve (${PARENT})`,
      "pulumi:pulumi:Stack outside-project-outside (-)",
    ]);
    for (const n of ["dns-user-data", "dns-vm"]) assert.equal(providerOf(graph, n), "pve", n);
    for (const n of ["lb-namespace", "lb-release", "lb-pool", "lb-l2"]) assert.equal(providerOf(graph, n), "cluster", n);
  });

  test("the VM gets the stack config's defaults for what the program left out", () => {
    const vm = graph.get("dns-vm");
    assert.deepEqual(vm.inputs.cpu, { cores: 2, sockets: 1, type: "x86-64-v2-AES" });
    assert.deepEqual(vm.inputs.memory, { dedicated: 4096, floating: 4096 });
    assert.deepEqual(vm.inputs.networkDevices, [{ bridge: "vmbr0", model: "virtio" }]);
    assert.deepEqual(vm.inputs.disks, [
      { interface: "scsi0", datastoreId: "local-lvm", importFrom: "local:import/noble-20251213.qcow2", size: 32, iothread: true, discard: "on", ssd: true },
    ]);
    assert.deepEqual(vm.inputs.initialization, {
      datastoreId: "local-lvm",
      dns: { servers: ["1.1.1.1"] },
      ipConfigs: [{ ipv4: { address: "10.1.0.53/24", gateway: "10.1.0.1" } }],
      userDataFileId: "local:snippets/outside-dns-user-data.yaml",
    });
    assert.deepEqual(vm.inputs.tags, ["dns", "pihole"], "sorted, as Proxmox stores them");
    assert.deepEqual([vm.inputs.name, vm.inputs.nodeName, vm.inputs.vmId], ["dns", "pve", 300]);
    assert.deepEqual(graph.depNames("dns-vm").sort(), ["dns-user-data", "noble"]);
    assert.equal(vm.deleteBeforeReplace, true);
    assert.equal(vm.protect, false);
  });

  test("the user-data: the default user and the current stack's snippet name on the default snippet storage", () => {
    const snippet = graph.get("dns-user-data");
    assert.equal(snippet.inputs.datastoreId, "local");
    const raw = snippet.rawInputs.sourceRaw as { fileName: string; data: string };
    assert.equal(raw.fileName, "outside-dns-user-data.yaml");
    assert.match(raw.data, /\n {4}name: ubuntu\n/);
    assert.match(raw.data, /ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOutsideProgramKey me@laptop/);
  });

  test("the SSH key reaches the readiness gate only as a secret", () => {
    const ready = graph.get("dns-ready");
    assert.equal(ready.inputs.connection, "[secret]");
    assert.equal((ready.rawInputs.connection as { privateKey: string }).privateKey, "PRIVATE KEY");
    assert.deepEqual(graph.depNames("dns-ready"), ["dns-vm"]);
    for (const r of graph.resources) assert.ok(!JSON.stringify(r.inputs).includes("PRIVATE KEY"), r.name);
  });

  test("the pool: its defaults (metallb-system, pool default), the pinned chart, and its order", () => {
    assert.equal((graph.get("lb-namespace").inputs.metadata as { name: string }).name, "metallb-system");
    const release = graph.get("lb-release").inputs;
    assert.deepEqual([release.chart, release.version, release.name], ["metallb", "0.15.2", "metallb"]);
    const pool = graph.get("lb-pool").inputs;
    assert.deepEqual(pool.metadata, { name: "default", namespace: "metallb-system" });
    assert.deepEqual((pool.spec as { addresses: string[] }).addresses, ["10.1.0.200-10.1.0.220"]);
    assert.deepEqual(graph.depNames("lb-pool"), ["lb-release"]);
    assert.deepEqual(graph.depNames("lb-l2"), ["lb-pool", "lb-release"]);
    assert.deepEqual(graph.result.outputs.vmAddress, "10.1.0.53");
  });
});
