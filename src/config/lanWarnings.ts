// A warning for stacks whose LAN clients are likely refused by the lan-only middleware: the Proxmox
// nodes (the management network, where the operator's machines usually are) sit outside the VM
// subnet, and no explicit allow-list says which networks are the LAN (seed 004). Pure.
import { isInCidr } from "./ip";
import type { StackConfig } from "./schema";

export function lanAllowlistWarnings(cfg: Pick<StackConfig, "traefik" | "cluster" | "apps" | "proxmox" | "network" | "domains">): string[] {
  if (cfg.traefik.lanAllowlist !== undefined || !cfg.cluster.traefik) return [];
  // An app is LAN-only unless it or the domain it names (homelab:domains.<key>.lanOnly) says otherwise.
  const lanOnly = (a: StackConfig["apps"][string]) => a.lanOnly ?? (a.domain !== undefined ? (cfg.domains[a.domain]?.lanOnly ?? true) : true);
  const lanOnlyApps = Object.entries(cfg.apps)
    .filter(([, a]) => a.enabled && a.host !== "" && lanOnly(a))
    .map(([n]) => n);
  if (lanOnlyApps.length === 0) return [];
  const outside = cfg.proxmox.nodes.filter((n) => !isInCidr(n.address, cfg.network.subnet));
  if (outside.length === 0) return [];
  const nodes = outside.map((n) => `${n.name} ${n.address}`).join(", ");
  const example = [cfg.network.subnet, ...new Set(outside.map((n) => `${n.address.split(".").slice(0, 3).join(".")}.0/24`))].join(", ");
  return [
    `traefik.lanAllowlist: the Proxmox nodes (${nodes}) are outside the VM subnet ${cfg.network.subnet}, the only network the lan-only middleware allows by default, so clients on their network get 403 from ${lanOnlyApps.join(", ")}; list the LAN's networks, e.g. lanAllowlist: [${example}]`,
  ];
}
