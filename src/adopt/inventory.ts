// Read-only inventory: a running lab's API answers, saved as files, to a draft stack file. Pure but
// for readInventory (which only reads the directory). Nothing here talks to the lab.
//
// The directory holds (each file as the command prints it):
//   proxmox/cluster-resources.json   pvesh get /cluster/resources --output-format json (or the API's {data: [...]})
//   proxmox/cluster-status.json      pvesh get /cluster/status --output-format json (node addresses)
//   proxmox/qemu/<vmid>.json         pvesh get /nodes/<node>/qemu/<vmid>/config --output-format json
//   kubectl/nodes.json               kubectl get nodes -o json
//   kubectl/helm-releases.json       kubectl get secrets -A -l owner=helm -o json
//   kubectl/ipaddresspools.json      kubectl get ipaddresspools.metallb.io -A -o json        (optional)
//   kubectl/clusterissuers.json      kubectl get clusterissuers.cert-manager.io -o json      (optional)
//   kubectl/storageclasses.json      kubectl get storageclasses -o json                      (optional)
// Field names are the Proxmox VE API's (pve-docs api-viewer: /cluster/resources `type`, `vmid`,
// `node`, `name`, `template`; /cluster/status `type`, `name`, `ip`; qemu config `cores`, `memory`,
// `net0`, `ipconfig0`, `nameserver`, `searchdomain`, `sshkeys`, `hostpci0`) and Kubernetes' (Node
// `status.nodeInfo.kubeletVersion`, the `node-role.kubernetes.io/control-plane` label).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { stringify } from "yaml";

// Parsed API answers (Proxmox, Kubernetes), read field by field with defaults: `any` is their honest type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

export interface Inventory {
  readonly resources: Obj[];
  readonly status: Obj[];
  readonly vmConfigs: Record<string, Obj>;
  readonly nodes: Obj[];
  readonly helmSecrets: Obj[];
  readonly pools: Obj[];
  readonly issuers: Obj[];
  readonly storageClasses: Obj[];
}

/** The answer's list: the API wraps it in {data}, pvesh and kubectl print it bare or as {items}. */
const list = (doc: unknown): Obj[] => {
  const d = doc as Obj;
  return Array.isArray(d) ? d : Array.isArray(d?.data) ? d.data : Array.isArray(d?.items) ? d.items : [];
};
const object = (doc: unknown): Obj => ((doc as Obj)?.data && typeof (doc as Obj).data === "object" ? (doc as Obj).data : (doc as Obj));

export function readInventory(dir: string): Inventory {
  const read = (rel: string, required: boolean): unknown => {
    const file = join(dir, rel);
    if (!existsSync(file)) {
      if (required) throw new Error(`${file}: missing; the inventory needs it (see "Adopting a running lab" in the README for the command that writes it)`);
      return [];
    }
    return JSON.parse(readFileSync(file, "utf8"));
  };
  const qemuDir = join(dir, "proxmox", "qemu");
  const vmConfigs: Record<string, Obj> = {};
  if (existsSync(qemuDir))
    for (const f of readdirSync(qemuDir).filter((f) => f.endsWith(".json"))) vmConfigs[f.replace(/\.json$/, "")] = object(read(join("proxmox", "qemu", f), true));
  return {
    resources: list(read("proxmox/cluster-resources.json", true)),
    status: list(read("proxmox/cluster-status.json", true)),
    vmConfigs,
    nodes: list(read("kubectl/nodes.json", true)),
    helmSecrets: list(read("kubectl/helm-releases.json", true)),
    pools: list(read("kubectl/ipaddresspools.json", false)),
    issuers: list(read("kubectl/clusterissuers.json", false)),
    storageClasses: list(read("kubectl/storageclasses.json", false)),
  };
}

/** A Helm release as Helm 3 stores it: Secret data `release` = base64(gzip(JSON)) (helm pkg/storage/driver/util.go encodeRelease), base64'd again by the Secret. */
export function decodeHelmRelease(secret: Obj): Obj {
  const helm = Buffer.from(String(secret.data?.release ?? ""), "base64").toString("utf8");
  const bytes = Buffer.from(helm, "base64");
  const json = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return JSON.parse(json.toString("utf8")) as Obj;
}

/** `key=value,...` (Proxmox's property strings: net0, ipconfig0, hostpci0). */
export function propertyString(s: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of String(s ?? "").split(",")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export interface Draft {
  readonly text: string;
  readonly vms: number;
  readonly releases: string[];
}

/**
 * The charts the program deploys itself, by chart name: its versions key and the release it makes
 * (namespace/name, as src/system registers them: the import finds a release only there).
 */
const KNOWN_CHARTS: Record<string, { readonly versionKey: string; readonly release: string }> = {
  metallb: { versionKey: "metallb", release: "metallb-system/metallb" },
  "cert-manager": { versionKey: "certManager", release: "cert-manager/cert-manager" },
  "csi-driver-nfs": { versionKey: "csiDriverNfs", release: "kube-system/csi-driver-nfs" },
  "kube-prometheus-stack": { versionKey: "kubePrometheusStack", release: "monitoring/kube-prometheus-stack" },
};

export function draftStack(inv: Inventory): Draft {
  const checks: string[] = [];
  const pveNodes = inv.status.filter((s) => s.type === "node").map((s) => ({ name: String(s.name), address: String(s.ip) }));
  const vms = inv.resources.filter((r) => r.type === "qemu" && Number(r.template ?? 0) !== 1);
  const k8sByName = new Map(inv.nodes.map((n) => [String(n.metadata?.name), n] as const));

  const nodes: Obj[] = [];
  const others: Obj[] = [];
  let network: Obj | undefined;
  let net: Record<string, string> = {};
  let sshUser: string | undefined;
  const keys = new Set<string>();
  for (const vm of vms.sort((a, b) => Number(a.vmid) - Number(b.vmid))) {
    const cfg = inv.vmConfigs[String(vm.vmid)] ?? {};
    const ip = propertyString(cfg.ipconfig0);
    net = propertyString(cfg.net0);
    const [address, prefix] = String(ip.ip ?? "").split("/");
    const memory = Number(String(cfg.memory ?? vm.maxmem / 1048576).replace(/^current=/, ""));
    const entry: Obj = { name: String(vm.name), host: String(vm.node), vmid: Number(vm.vmid), ip: address, cores: Number(cfg.cores ?? vm.maxcpu), memory };
    const disk = Math.round(Number(vm.maxdisk ?? 0) / 1073741824);
    if (disk > 0) entry.diskSize = disk;
    if (cfg.ciuser) sshUser = String(cfg.ciuser);
    for (const k of decodeURIComponent(String(cfg.sshkeys ?? "")).split("\n")) if (k.trim() !== "") keys.add(k.trim());
    if (network === undefined && ip.gw) {
      network = {
        subnet: subnetOf(address, Number(prefix)),
        gateway: ip.gw,
        dns: String(cfg.nameserver ?? ip.gw).split(/\s+/),
        ...(cfg.searchdomain ? { searchDomain: String(cfg.searchdomain) } : {}),
        bridge: net.bridge ?? "vmbr0",
        ...(net.tag ? { vlan: Number(net.tag) } : {}),
      };
    }
    const k8s = k8sByName.get(String(vm.name));
    if (k8s === undefined) {
      others.push(entry);
      continue;
    }
    const labels = (k8s.metadata?.labels ?? {}) as Record<string, string>;
    const gpu = Object.keys(cfg).some((k) => /^hostpci\d+$/.test(k));
    entry.role = labels["node-role.kubernetes.io/control-plane"] === "true" ? "server" : gpu ? "gpu" : "agent";
    if (gpu) checks.push(`nodes.${entry.name}: a PCI device is passed through (hostpci); give gpu: { pciPath, id, subsystemId, iommuGroup } from lspci on ${entry.host}`);
    nodes.push({
      name: entry.name,
      role: entry.role,
      host: entry.host,
      vmid: entry.vmid,
      ip: entry.ip,
      cores: entry.cores,
      memory: entry.memory,
      ...(entry.diskSize ? { diskSize: entry.diskSize } : {}),
    });
  }
  const k3sVersions = [...new Set(inv.nodes.map((n) => String(n.status?.nodeInfo?.kubeletVersion ?? "")))].filter((v) => v !== "");
  if (k3sVersions.length > 1)
    checks.push(`versions.k3s: the nodes run ${k3sVersions.join(", ")}; the draft pins the oldest, upgrade.sh brings the others to it only upward (it refuses a downgrade)`);
  const k3s = k3sVersions.sort()[0] ?? "v1.34.2+k3s1";

  const versions: Obj = { k3s };
  const releases: string[] = [];
  const config: Obj = {};
  for (const s of inv.helmSecrets) {
    if (s.type !== "helm.sh/release.v1" || s.metadata?.labels?.status !== "deployed") continue;
    const rel = decodeHelmRelease(s);
    const chart = String(rel.chart?.metadata?.name ?? "");
    const version = String(rel.chart?.metadata?.version ?? "");
    releases.push(`${rel.namespace}/${rel.name} (${chart} ${version})`);
    const known = KNOWN_CHARTS[chart];
    if (known === undefined) {
      checks.push(`release ${rel.namespace}/${rel.name} (${chart} ${version}) is not one the program deploys: leave it to Helm, or describe it under homelab:apps`);
      continue;
    }
    versions[known.versionKey] = version;
    if (`${rel.namespace}/${rel.name}` !== known.release) {
      checks.push(
        `release ${rel.namespace}/${rel.name}: the program makes ${chart} as ${known.release}, so the import does not find this one and the first up installs a second ${chart}; move it (or leave ${chart} off and keep it by hand)`,
      );
    }
    if (chart === "metallb") {
      const pool = inv.pools[0];
      const range = String(pool?.spec?.addresses?.[0] ?? "");
      config["homelab:metallb"] = { enabled: true, range };
      checks.push(`metallb.range: read from IPAddressPool ${pool?.metadata?.namespace}/${pool?.metadata?.name}; the program keeps one pool named default in ${rel.namespace}`);
    } else if (chart === "cert-manager") {
      const acme = inv.issuers.map((i) => i.spec?.acme).find((a) => a?.email);
      config["homelab:certManager"] = {
        enabled: true,
        ...(acme ? { email: String(acme.email) } : {}),
        issuer: /staging/.test(String(acme?.server ?? "")) ? "staging" : "production",
      };
      checks.push(
        "certManager: the issuer (staging or production) is read from the ACME server of the existing ClusterIssuers; the program's issuers solve DNS-01 on Cloudflare (homelab:cloudflareApiToken)",
      );
    } else if (chart === "csi-driver-nfs") {
      const sc = inv.storageClasses.find((c) => c.provisioner === "nfs.csi.k8s.io");
      config["homelab:storage"] = { nfs: { enabled: true, server: String(sc?.parameters?.server ?? ""), share: String(sc?.parameters?.share ?? "") } };
      checks.push(`storage.nfs: server and share from StorageClass ${sc?.metadata?.name}; the program names its class nfs-client`);
    } else if (chart === "kube-prometheus-stack") {
      config["homelab:monitoring"] = { enabled: true };
    }
  }

  const endpoint = pveNodes[0] ? `https://${pveNodes[0].address}:8006/` : "";
  checks.push(`proxmox.endpoint: the first node's address (${endpoint}); use the address your API token is used against`);
  checks.push("images: the draft names Ubuntu 24.04's cloud image; the VMs keep the disks they have, the image is only used by VMs made later");
  checks.push("domain: the draft's lab.example.com is a placeholder: the wildcard domain your ingress serves");
  if (keys.size === 0) checks.push("ssh.authorizedKeys: none found in the VMs' cloud-init (sshkeys); give the public half of homelab:sshPrivateKey");

  const doc: Obj = {
    "homelab:proxmoxApiToken": { secure: "v1:placeholder:set-with-pulumi-config-set-secret" },
    "homelab:sshPrivateKey": { secure: "v1:placeholder:set-with-pulumi-config-set-secret" },
    ...(config["homelab:certManager"] ? { "homelab:cloudflareApiToken": { secure: "v1:placeholder:set-with-pulumi-config-set-secret" } } : {}),
    "homelab:proxmox": { endpoint, nodes: pveNodes },
    "homelab:images": {
      "ubuntu-noble": {
        url: "https://cloud-images.ubuntu.com/releases/noble/release-20251213/ubuntu-24.04-server-cloudimg-amd64.img",
        checksum: "2b5f90ffe8180def601c021c874e55d8303e8bcbfc66fee2b94414f43ac5eb1f",
        fileName: "ubuntu-24.04-server-cloudimg-amd64-20251213.qcow2",
      },
    },
    "homelab:network": network ?? {},
    "homelab:ssh": { ...(sshUser ? { user: sshUser } : {}), authorizedKeys: [...keys] },
    "homelab:domain": "lab.example.com",
    "homelab:versions": versions,
    "homelab:nodes": nodes,
    ...(others.length > 0 ? { "homelab:vms": others } : {}),
    ...config,
  };
  const header = [
    "# Draft stack file written by `npm run adopt -- --inventory` from the lab's API answers. Review it:",
    "# every CHECK below is something guessed or not readable from the APIs. The secure: values are",
    "# placeholders: set them with pulumi config set --secret (README: Deploying for real, step 5).",
    ...checks.map((c) => `# CHECK ${c}`),
  ];
  return { text: `${header.join("\n")}\n${stringify({ config: doc }, { lineWidth: 0 })}`, vms: vms.length, releases };
}

function subnetOf(address: string, prefix: number): string {
  const n = address.split(".").reduce((a, o) => a * 256 + Number(o), 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (n & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (base >>> s) & 255).join(".")}/${prefix}`;
}
