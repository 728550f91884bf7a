// The resolved view of a stack config that components consume: every VM with its defaults
// applied, in a stable order. Pure.
import type { GpuConfig, ImageConfig, NodeRole, ProxmoxNodeConfig, StackConfig } from "./schema";

export interface VmSpec {
  /** Dotted path of the entry in the config, for error messages (`nodes[2]`). */
  readonly path: string;
  readonly name: string;
  /** Cluster role, or "standalone" for `vms` entries. */
  readonly role: NodeRole | "standalone";
  readonly host: string;
  readonly vmid: number;
  readonly ip: string;
  readonly cores: number;
  readonly memory: number;
  readonly diskSize: number;
  readonly protect: boolean;
  /** Image as written in config (undefined: the default image). */
  readonly imageRef: string | undefined;
  /** Sorted, de-duplicated Proxmox tags. */
  readonly tags: string[];
  readonly packages: string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: string[];
  readonly gpu: GpuConfig | undefined;
  readonly dataDiskSize: number | undefined;
}

const ROLE_TAG: Record<VmSpec["role"], string[]> = {
  server: ["k3s", "k3s-server"],
  agent: ["k3s", "k3s-agent"],
  gpu: ["gpu", "k3s", "k3s-agent"],
  standalone: ["standalone"],
};

type VmEntry = StackConfig["nodes"][number] | StackConfig["vms"][number];

function vmSpec(cfg: StackConfig, v: VmEntry, path: string, role: VmSpec["role"]): VmSpec {
  const node = "role" in v ? v : undefined;
  return {
    path,
    name: v.name,
    role,
    host: v.host,
    vmid: v.vmid,
    ip: v.ip,
    cores: v.cores ?? cfg.defaults.cores,
    memory: v.memory ?? cfg.defaults.memory,
    diskSize: v.diskSize ?? cfg.defaults.diskSize,
    protect: v.protect ?? cfg.defaults.protect,
    imageRef: v.image,
    tags: sortedTags([...ROLE_TAG[role], ...v.tags]),
    packages: "packages" in v ? v.packages : [],
    labels: node?.labels ?? {},
    taints: node?.taints ?? [],
    gpu: node?.gpu,
    dataDiskSize: node?.dataDiskSize,
  };
}

export function sortedTags(tags: readonly string[]): string[] {
  return [...new Set(tags)].sort();
}

/** Every VM the stack declares: cluster nodes in config order, then standalone VMs. */
export function allVms(cfg: StackConfig): VmSpec[] {
  return [
    ...cfg.nodes.map((n, i) => vmSpec(cfg, n, `nodes[${i}]`, n.role)),
    ...cfg.vms.map((v, i) => vmSpec(cfg, v, `vms[${i}]`, "standalone")),
  ];
}

/** The image name a VM uses. */
export function imageNameOf(cfg: StackConfig, vm: VmSpec): string {
  return vm.imageRef ?? cfg.defaults.image ?? Object.keys(cfg.images)[0];
}

export function imageOf(cfg: StackConfig, vm: VmSpec): ImageConfig {
  return cfg.images[imageNameOf(cfg, vm)];
}

export function proxmoxNode(cfg: StackConfig, name: string): ProxmoxNodeConfig {
  const n = cfg.proxmox.nodes.find((p) => p.name === name);
  if (!n) throw new Error(`unknown Proxmox node ${name}`); // unreachable after validation
  return n;
}

/** Servers, agents and GPU agents in config order. */
export function nodesByRole(cfg: StackConfig): { servers: VmSpec[]; agents: VmSpec[]; gpus: VmSpec[] } {
  const vms = allVms(cfg).filter((v) => v.role !== "standalone");
  return {
    servers: vms.filter((v) => v.role === "server"),
    agents: vms.filter((v) => v.role === "agent"),
    gpus: vms.filter((v) => v.role === "gpu"),
  };
}

/** Every address a kubeconfig may point at; k3s's tls-san must list them all. */
export function apiAddresses(cfg: StackConfig): string[] {
  const { servers } = nodesByRole(cfg);
  const out = [
    ...(cfg.cluster.apiVip ? [cfg.cluster.apiVip] : []),
    ...(cfg.cluster.apiHostname ? [cfg.cluster.apiHostname] : []),
    ...servers.map((s) => s.ip),
    ...cfg.cluster.tlsSans,
  ];
  return [...new Set(out)];
}

/** The address the kubeconfig uses: the VIP, else the API hostname, else the first server. */
export function apiEndpoint(cfg: StackConfig): string {
  const { servers } = nodesByRole(cfg);
  return cfg.cluster.apiVip ?? cfg.cluster.apiHostname ?? servers[0].ip;
}
