// Adopting a running lab (issue 19): the `pulumi import --file` document (the engine's URNs, the
// providers' import IDs, the values the user fills in), the offline diff against the state after the
// import, and the read-only inventory of a fixture lab (test/fixtures/adopt: 3 VMs, a k3s cluster,
// 4 Helm releases) to a draft stack that plans and imports with zero creates of what exists.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { adoptedBase, importedPasswordInputs } from "../src/adopt/adoptedPlan";
import { pinnedPlugins, runAdoptCli } from "../src/adopt/cli";
import { buildImport, unfilled, type Adoption, type ImportFile } from "../src/adopt/importFile";
import { decodeHelmRelease, draftStack, propertyString, readInventory } from "../src/adopt/inventory";
import { urnUnder, SECRET_SIG, SIG_KEY } from "../src/lib/pulumiInternals";
import { diffPlans } from "../src/plan/diff";
import { toPlanJson, type PlanJson } from "../src/plan/format";
import { parseStackFile, runPlan } from "../src/plan/run";
import { planFile, ROOT } from "./harness";

const CHOICES = { now: "2026-01-01T00:00:00Z", clusterIdB64Url: "AAECAwQFBgc" };
const FIXTURE = join(ROOT, "test", "fixtures", "adopt");

/** The URN `pulumi import` gives each entry: pkg/cmd/pulumi/operations/import.go parseImportFile at v3.248.0. */
function importedUrns(file: ImportFile, stack: string, project = "homelab"): Map<string, string> {
  const byName = new Map(file.resources.map((r) => [r.name, r] as const));
  const urns = new Map<string, string>();
  const urnOf = (name: string): string => {
    const known = urns.get(name) ?? file.nameTable[name];
    if (known) return known;
    const spec = byName.get(name);
    assert.ok(spec, `the parent '${name}' has no entry in the file or its nameTable`);
    const parentType = spec.parent ? urnOf(spec.parent).split("::")[2] : "";
    const urn = urnUnder(stack, project, parentType, spec.type, spec.logicalName ?? spec.name);
    urns.set(name, urn);
    return urn;
  };
  for (const r of file.resources) urnOf(r.name);
  return urns;
}

async function labAdoption(): Promise<{ plan: PlanJson; adoption: Adoption }> {
  const plan = toPlanJson((await planFile("Pulumi.lab.yaml", "lab")).result);
  return { plan, adoption: buildImport(plan, pinnedPlugins(), CHOICES) };
}

async function draftPlan(): Promise<{ text: string; plan: PlanJson }> {
  const draft = draftStack(readInventory(FIXTURE));
  const result = await runPlan({ stack: "adopted", stackFile: parseStackFile(draft.text) });
  return { text: draft.text, plan: toPlanJson(result) };
}

describe("adopt: the import file", () => {
  test("every entry's URN, as pulumi import builds it, is the URN the program registers; providers come through the name table", async () => {
    const { plan, adoption } = await labAdoption();
    const urns = importedUrns(adoption.file, "lab");
    const planUrns = new Set(plan.resources.map((r) => r.urn));
    for (const [name, urn] of urns) assert.ok(planUrns.has(urn), `${name}: ${urn} is not a URN of the plan`);
    assert.equal(new Set(adoption.file.resources.map((r) => r.name)).size, adoption.file.resources.length, "names are unique in the file");
    // The GpuNode and its ProxmoxVm are both k3s-gpu-01: told apart by their type, same logical name.
    assert.deepEqual(
      adoption.file.resources.filter((r) => r.logicalName === "k3s-gpu-01").map((r) => [r.name, r.component]),
      [
        ["k3s-gpu-01~GpuNode", true],
        ["k3s-gpu-01~ProxmoxVm", true],
      ],
    );
    assert.deepEqual(adoption.file.nameTable, {
      "proxmox-provider": "urn:pulumi:lab::homelab::pulumi:providers:proxmoxve::proxmox",
      "k3s-k8s-provider": "urn:pulumi:lab::homelab::homelab:cluster:K3sCluster$pulumi:providers:kubernetes::k3s-k8s",
    });
    // Every resource but the stack and the providers is in the file or in the list of what is not.
    const accounted = new Set([...urns.values(), ...adoption.notImported.map((n) => n.urn)]);
    const rest = plan.resources.filter((r) => r.parent !== null && !r.type.startsWith("pulumi:providers:") && !accounted.has(r.urn));
    assert.deepEqual(rest, []);
    for (const r of adoption.file.resources) {
      if (r.component) assert.equal(r.id, undefined, `${r.name}: a component has no ID`);
      else assert.ok(r.id && r.version, `${r.name}: a custom resource has an ID and its plugin version`);
    }
  });

  test("the import IDs, per provider, in the formats their pinned sources give", async () => {
    const { adoption } = await labAdoption();
    const id = (name: string) => adoption.file.resources.find((r) => (r.logicalName ?? r.name) === name && !r.component)?.id;
    assert.equal(id("k3s-server-01-vm"), "pve-01/211");
    assert.equal(id("vault-vm"), "pve-02/301");
    assert.equal(id("image-ubuntu-noble-pve-02"), "pve-02/local:import/lab-ubuntu-24.04-server-cloudimg-amd64-20251213-2b5f90ffe818.qcow2");
    assert.equal(id("k3s-server-01-user-data"), "pve-01/local:snippets/lab-k3s-server-01-user-data.yaml");
    assert.equal(id("k3s-gpu-01-pci"), "gpu-k3s-gpu-01");
    assert.equal(id("metallb-namespace"), "metallb-system");
    assert.equal(id("nfs-storage-class"), "nfs-client");
    assert.equal(id("cert-manager-letsencrypt-staging"), "letsencrypt-staging");
    assert.equal(id("metallb-pool"), "metallb-system/default");
    assert.equal(id("metallb-release"), "metallb-system/metallb");
    assert.equal(id("n8n-data"), "applications/n8n-data");
    assert.equal(id("k3s-cluster-id"), "AAECAwQFBgc");
    assert.equal(id("k3s-kubeconfig-reread"), "2026-01-01T00:00:00Z,0,0,30,0,0");
    assert.equal(id("k3s-token"), "fill:k3s-token");
    assert.equal(id("n8n-encryption-key"), "fill:n8n-encryption-key");
    const time = adoption.file.resources.find((r) => r.name === "k3s-kubeconfig-reread")!;
    assert.deepEqual([time.version, time.pluginDownloadUrl], ["0.1.1", "github://api.github.com/pulumiverse/pulumi-time"]);
    for (const [urn, d] of adoption.imported) assert.match(d.source, /\d+\.\d+\.\d+/, `${urn}: the import ID cites a pinned source`);
  });

  test("secrets: the provider inputs carry fill markers as plaintext secrets; the file lists what to fill", async () => {
    const { adoption } = await labAdoption();
    assert.deepEqual(adoption.file.providerInputs["proxmox-provider"], {
      apiToken: { [SIG_KEY]: SECRET_SIG, plaintext: JSON.stringify("fill:proxmox.apiToken") },
      endpoint: "https://10.0.10.11:8006/",
      insecure: "true",
      ssh: { [SIG_KEY]: SECRET_SIG, plaintext: JSON.stringify("fill:proxmox.ssh") },
    });
    // As the program computes it after the import: the context name and the imported identity's ID.
    assert.equal(adoption.file.providerInputs["k3s-k8s-provider"].clusterIdentifier, "homelab-lab-AAECAwQFBgc");
    assert.deepEqual(unfilled(JSON.stringify(adoption.file)), [...new Set(adoption.fills.map((f) => f.marker))].sort());
    assert.deepEqual(adoption.fills.map((f) => f.marker).sort(), [
      "fill:jupyter-token",
      "fill:k3s-agent-token",
      "fill:k3s-k8s.kubeconfig",
      "fill:k3s-token",
      "fill:monitoring-grafana-password",
      "fill:n8n-encryption-key",
      "fill:postgresql-password",
      "fill:proxmox.apiToken",
      "fill:proxmox.ssh",
    ]);
  });

  test("what cannot be imported: the SSH steps, the Flux deploy key, the auto-named smoke Job, each with why its first run is safe", async () => {
    const { adoption } = await labAdoption();
    const byType = new Map<string, string[]>();
    for (const n of adoption.notImported) byType.set(n.type, [...(byType.get(n.type) ?? []), n.name]);
    assert.deepEqual([...byType.keys()].sort(), ["command:remote:Command", "kubernetes:batch/v1:Job", "tls:index/privateKey:PrivateKey"]);
    assert.equal(byType.get("command:remote:Command")!.length, 64);
    assert.deepEqual(byType.get("tls:index/privateKey:PrivateKey"), ["flux-deploy-key"]);
    const safe = (name: string) => adoption.notImported.find((n) => n.name === name)!.safe;
    assert.match(safe("k3s-bootstrap"), /^bootstrap\.sh exits at once where k3s is installed/);
    assert.match(
      safe("k3s-server-02-k3s-join"),
      /rewrites \/etc\/rancher\/k3s\/config\.yaml to the stack's and restarts k3s once \(without blocking\) only when the file differed/,
    );
    // Every step of the lab has a statement its stub run (test/adopt-first-run.test.ts) backs.
    assert.deepEqual(
      adoption.notImported.filter((n) => n.safe.startsWith("not run against stubs")).map((n) => n.name),
      [],
    );
    assert.match(safe("k3s-agent-01-k3s-upgrade"), /does nothing when `k3s --version` is the pinned version/);
  });
});

describe("adopt: the offline diff against the state after the import", () => {
  test("the lab: zero creates of imported things, no update or replace; the creates are exactly what cannot be imported", async () => {
    const { plan, adoption } = await labAdoption();
    const diff = diffPlans(adoptedBase(plan, adoption), plan, "lab");
    const creates = diff.changes.filter((c) => c.op === "create").map((c) => c.urn);
    assert.deepEqual(creates.sort(), adoption.notImported.map((n) => n.urn).sort());
    assert.deepEqual(
      diff.changes.filter((c) => c.op !== "create" && c.op !== "same"),
      [],
    );
  });

  test("an imported password whose arguments were not ignored would be replaced (ImportState sets special = true): why every password ignores RANDOM_ARGS", async () => {
    const { plan, adoption } = await labAdoption();
    const grafana = plan.resources.find((r) => r.name === "monitoring-grafana-password")!;
    assert.deepEqual(grafana.ignoreChanges.slice(0, 4), ["length", "special", "upper", "lower"]);
    const unguarded: PlanJson = { ...plan, resources: plan.resources.map((r) => (r === grafana ? { ...r, ignoreChanges: [] } : r)) };
    const diff = diffPlans(adoptedBase(unguarded, adoption), unguarded, "lab");
    assert.equal(diff.changes.find((c) => c.name === "monitoring-grafana-password")!.op, "replace");
    assert.deepEqual(importedPasswordInputs(32), {
      length: 32,
      special: true,
      upper: true,
      lower: true,
      number: true,
      numeric: true,
      minLower: 0,
      minNumeric: 0,
      minSpecial: 0,
      minUpper: 0,
    });
  });
});

describe("adopt: the inventory of a running lab", () => {
  test("Proxmox property strings and Helm 3 release secrets decode", () => {
    assert.deepEqual(propertyString("virtio=BC:24:11:3A:11:01,bridge=vmbr0,firewall=1,tag=30"), { virtio: "BC:24:11:3A:11:01", bridge: "vmbr0", firewall: "1", tag: "30" });
    const secrets = JSON.parse(readFileSync(join(FIXTURE, "kubectl", "helm-releases.json"), "utf8")).items;
    assert.deepEqual(
      secrets.map((s: Record<string, unknown>) => {
        const r = decodeHelmRelease(s);
        return `${r.namespace}/${r.name} ${r.chart.metadata.name} ${r.chart.metadata.version}`;
      }),
      [
        "metallb-system/metallb metallb 0.15.2",
        "cert-manager/cert-manager cert-manager v1.19.1",
        "kube-system/csi-driver-nfs csi-driver-nfs 4.12.0",
        "monitoring/kube-prometheus-stack kube-prometheus-stack 79.5.0",
      ],
    );
  });

  test("the fixture lab's draft: 3 VMs as cluster nodes (the template left out), the releases as versions, every guess a CHECK line", async () => {
    const { text, plan } = await draftPlan();
    assert.match(text, /^# CHECK proxmox\.endpoint: the first node's address \(https:\/\/10\.0\.10\.21:8006\/\)/m);
    assert.match(text, /^# CHECK domain: /m);
    const config = parseStackFile(text).config;
    assert.deepEqual(JSON.parse(config["homelab:nodes"]), [
      { name: "k3s-server-01", role: "server", host: "pve-01", vmid: 211, ip: "10.0.30.11", cores: 4, memory: 8192, diskSize: 40 },
      { name: "k3s-agent-01", role: "agent", host: "pve-02", vmid: 221, ip: "10.0.30.21", cores: 4, memory: 16384, diskSize: 100 },
      { name: "k3s-agent-02", role: "agent", host: "pve-02", vmid: 222, ip: "10.0.30.22", cores: 4, memory: 16384, diskSize: 100 },
    ]);
    assert.deepEqual(JSON.parse(config["homelab:versions"]), {
      k3s: "v1.34.2+k3s1",
      metallb: "0.15.2",
      certManager: "v1.19.1",
      csiDriverNfs: "4.12.0",
      kubePrometheusStack: "79.5.0",
    });
    assert.deepEqual(JSON.parse(config["homelab:network"]), {
      subnet: "10.0.30.0/24",
      gateway: "10.0.30.1",
      dns: ["10.0.30.1"],
      searchDomain: "home.example.net",
      bridge: "vmbr0",
      vlan: 30,
    });
    assert.deepEqual(JSON.parse(config["homelab:metallb"]), { enabled: true, range: "10.0.30.200-10.0.30.220" });
    assert.deepEqual(JSON.parse(config["homelab:storage"]), { nfs: { enabled: true, server: "10.0.30.10", share: "/volume1/k3s" } });
    assert.equal(plan.resources.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy").length, 3);
  });

  test("inventory → draft → import file → plan: zero creates of the VMs, the cluster and the 4 releases", async () => {
    const { plan } = await draftPlan();
    const adoption = buildImport(plan, pinnedPlugins(), CHOICES);
    const urns = importedUrns(adoption.file, "adopted");
    for (const urn of urns.values())
      assert.ok(
        plan.resources.some((r) => r.urn === urn),
        urn,
      );
    const id = (type: string) =>
      adoption.file.resources
        .filter((r) => r.type === type)
        .map((r) => r.id)
        .sort();
    assert.deepEqual(id("proxmoxve:index/vmLegacy:VmLegacy"), ["pve-01/211", "pve-02/221", "pve-02/222"]);
    // The releases the inventory read are the ones the draft imports, where they run.
    assert.deepEqual(id("kubernetes:helm.sh/v3:Release"), [
      "cert-manager/cert-manager",
      "kube-system/csi-driver-nfs",
      "metallb-system/metallb",
      "monitoring/kube-prometheus-stack",
    ]);
    const diff = diffPlans(adoptedBase(plan, adoption), plan, "adopted");
    const creates = diff.changes.filter((c) => c.op === "create");
    assert.deepEqual([...new Set(creates.map((c) => c.type))], ["command:remote:Command"]);
    assert.deepEqual(creates.map((c) => c.urn).sort(), adoption.notImported.map((n) => n.urn).sort());
    assert.equal(diff.summary.replace + diff.summary.update + diff.summary.delete, 0);
  });
});

describe("adopt: the command", () => {
  const run = async (...args: string[]) => {
    let stdout = "";
    let stderr = "";
    const cwd = mkdtempSync(join(tmpdir(), "adopt-"));
    const status = await runAdoptCli(args, { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), choices: CHOICES });
    return { status, stdout, stderr, cwd };
  };

  test("--stack lab writes .adopt/lab/import.json mode 0600 and prints the fills, what cannot be imported and the diff", async () => {
    const r = await run("--stack", "lab");
    assert.equal(r.status, 0, r.stderr);
    const file = join(r.cwd, ".adopt", "lab", "import.json");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const doc = JSON.parse(readFileSync(file, "utf8")) as ImportFile;
    assert.equal(doc.resources.find((x) => x.name === "k3s-server-01-vm")?.id, "pve-01/211");
    assert.match(r.stdout, /^ {2}fill:k3s-token: the k3s server token the cluster was made with/m);
    assert.match(r.stdout, /^ {2}tls:index\/privateKey:PrivateKey: flux-deploy-key$/m);
    assert.match(r.stdout, /^offline diff of the stack against the state after the import: 66 create, 0 update, 0 replace, 0 delete, 107 same$/m);
  });

  test("--inventory writes a draft that the plan accepts; bad arguments exit 2 with the usage", async () => {
    const r = await run("--inventory", FIXTURE, "--output", "draft.yaml");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^wrote draft\.yaml: a draft of 3 VMs, 4 releases/);
    const text = readFileSync(join(r.cwd, "draft.yaml"), "utf8");
    assert.equal(text, draftStack(readInventory(FIXTURE)).text);
    const bad = await run("--inventory", FIXTURE);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^--inventory needs --output <draft\.yaml>\n\nusage:/);
    const both = await run("--stack", "lab", "--config", "x.yaml");
    assert.equal(both.status, 2);
    assert.match(both.stderr, /^give exactly one of --stack and --config \(or --inventory\)/);
    writeFileSync(join(r.cwd, "empty.yaml"), "config: {}\n");
    const invalid = await run("--config", join(r.cwd, "empty.yaml"));
    assert.equal(invalid.status, 1);
  });
});
