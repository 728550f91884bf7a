// Which VM settings take effect only when Proxmox power-cycles the VM, and their fingerprint: the
// trigger of the reboots that apply them (vmReboot.ts, the cluster layer's rolling reboot). Pure.
import { createHash } from "node:crypto";
import type { ProxmoxVmArgs } from "./proxmoxVm";

/**
 * The VM inputs this program sets that Proxmox applies only when the VM is power-cycled: CPU,
 * memory (no hotplug), the cloud-init settings (addresses, DNS, search domain), firmware, machine,
 * EFI disk, PCI passthrough, OS type, SCSI controller, serial port (bpg vm.go vmUpdate marks each
 * `rebootRequired`). Not the disks (a resize is live: disk hotplug is on by default), not the NIC
 * (hotplugged), not the agent's timeouts (provider-side only), not the snippet path (force-new).
 */
export function rebootInputs(args: ProxmoxVmArgs) {
  const pt = args.passthrough;
  return {
    machine: pt ? "q35" : undefined,
    bios: pt ? "ovmf" : "seabios",
    efiDisk: pt ? { datastoreId: args.datastoreId, type: "4m", preEnrolledKeys: false } : undefined,
    hostpci: pt ? { mapping: pt.mappingName, pcie: true, rombar: true } : undefined,
    operatingSystem: { type: "l26" },
    cpu: { cores: args.cores, sockets: 1, type: args.cpuType },
    // Passthrough pins guest memory, so ballooning must be off (floating 0).
    memory: { dedicated: args.memory, floating: pt ? 0 : args.memory },
    scsiHardware: "virtio-scsi-single",
    serialDevices: [{ device: "socket" }],
    initialization: {
      ipConfigs: [{ ipv4: { address: args.address, gateway: args.gateway } }],
      dns: { servers: [...args.dnsServers], domain: args.searchDomain },
    },
  };
}

/** sha256 (16 hex) of a plain value as canonical JSON: keys sorted, undefined dropped. */
export function fingerprint(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
