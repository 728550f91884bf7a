// The Proxmox firewall rules of a VM, pure: what the cluster itself needs inbound (traffic inside
// the VM subnet, SSH and the API for the program and its operators, ping, and for cluster nodes
// Traefik and MetalLB's addresses), then the stack's own rules, in the order Proxmox evaluates them.
import type { StackConfig } from "../config/schema";

/** One rule as `proxmox.firewall.RulesLegacy` takes it (inputs.firewall.RulesLegacyRule). */
export interface FirewallRule {
  readonly type: "in";
  readonly action: "ACCEPT" | "DROP" | "REJECT";
  readonly proto?: string;
  readonly dport?: string;
  readonly source?: string;
  readonly dest?: string;
  readonly comment: string;
}

/** Inbound rules of a VM: cluster nodes get the cluster's ports, standalone VMs only the basics. */
export function vmFirewallRules(cfg: StackConfig, role: "server" | "agent" | "gpu" | "standalone"): FirewallRule[] {
  const fw = cfg.network.firewall;
  const admin = fw.adminSources.length > 0 ? { source: fw.adminSources.join(",") } : {};
  const cluster = role !== "standalone";
  const rules: FirewallRule[] = [
    { type: "in", action: "ACCEPT", source: cfg.network.subnet, comment: "the VM subnet: k3s, etcd, flannel, kubelet, NFS replies" },
    { type: "in", action: "ACCEPT", proto: "tcp", dport: "22", ...admin, comment: "SSH: the program's steps and operators" },
    { type: "in", action: "ACCEPT", proto: "icmp", comment: "ping and path MTU discovery" },
  ];
  if (cluster) {
    rules.push({ type: "in", action: "ACCEPT", proto: "tcp", dport: "6443", ...admin, comment: "the Kubernetes API" });
    if (cfg.cluster.traefik) rules.push({ type: "in", action: "ACCEPT", proto: "tcp", dport: "80,443", comment: "Traefik on the node's address" });
    if (cfg.metallb.enabled && cfg.metallb.range !== undefined) {
      rules.push({ type: "in", action: "ACCEPT", dest: cfg.metallb.range, comment: "LoadBalancer addresses (MetalLB)" });
    }
  }
  fw.rules.forEach((r, i) => {
    rules.push({
      type: "in",
      action: r.action,
      ...(r.proto !== undefined ? { proto: r.proto } : {}),
      ...(r.dport !== undefined ? { dport: r.dport } : {}),
      ...(r.source !== undefined ? { source: r.source.join(",") } : {}),
      comment: r.comment ?? `network.firewall.rules[${i}]`,
    });
  });
  return rules;
}
