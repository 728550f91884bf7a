// Bounded parallel creates per Proxmox node. Parallel clones and imports on one node can hit
// Proxmox lock timeouts (bpg/terraform-provider-proxmox issues 995 and 1521), so VMs on a node are
// put in `concurrency` lanes: each VM waits for the VM `concurrency` places before it on the same
// node. Control-plane VMs go first so the lanes never delay the path to a ready cluster.
import type { VmSpec } from "../config/model";

const ORDER: Record<VmSpec["role"], number> = { server: 0, gpu: 1, agent: 2, standalone: 3 };

/** For each VM name, the VM it must be created after (or undefined). Pure. */
export function createAfter(vms: readonly VmSpec[], concurrency: number): Map<string, string | undefined> {
  const byHost = new Map<string, VmSpec[]>();
  for (const vm of vms) byHost.set(vm.host, [...(byHost.get(vm.host) ?? []), vm]);
  const out = new Map<string, string | undefined>();
  for (const list of byHost.values()) {
    const ordered = [...list].sort((a, b) => ORDER[a.role] - ORDER[b.role] || vms.indexOf(a) - vms.indexOf(b));
    ordered.forEach((vm, i) => out.set(vm.name, i >= concurrency ? ordered[i - concurrency].name : undefined));
  }
  return out;
}
