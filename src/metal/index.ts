// The metal layer: the Proxmox provider, one cloud image per (image, Proxmox node) in use, the PCI
// mapping of each GPU node, and a ProxmoxVm for every VM, GPU nodes included, all inside the
// per-host creation lanes. The cluster layer puts k3s (and a GPU node's driver) on them.
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { withPrefix } from "../config/ip";
import type { HomelabConfig, Secrets } from "../config/loader";
import type { VmSpec } from "../config/model";
import { vmFirewallRules } from "./firewallRules";
import { createAfter } from "./lanes";
import { ProxmoxVm, type ProxmoxVmArgs } from "./proxmoxVm";
import { VmFirewall } from "./vmFirewall";
import { VmReboot } from "./vmReboot";

export { ProxmoxVm } from "./proxmoxVm";

export interface Metal {
  readonly provider: proxmox.Provider;
  /** ProxmoxVm per VM name, every VM of the stack, in config order. */
  readonly vms: ReadonlyMap<string, ProxmoxVm>;
}

/**
 * Until December 2026 a GPU node's VM and PCI mapping were children of the cluster layer's GpuNode
 * component (of this type, named after the node). Their aliases keep those URNs, so the move into
 * this layer replaces nothing.
 */
export const LEGACY_GPU_PARENT_TYPE = "homelab:cluster:GpuNode";

/**
 * The image's file name on the Proxmox storage: `<stack>-<fileName stem>-<12 hex of checksum>.<ext>`.
 * url, checksum and file_name are RequiresReplace (bpg fwprovider/nodes/resource_download_file.go)
 * and the download is created before the old one is deleted: a bump that kept the name, or fixed
 * only the checksum, would meet the old file ("File already exists"). With the checksum in the
 * name it never does; with the stack in it, two stacks on one Proxmox node never share a file.
 */
export function imageFileName(stack: string, fileName: string, checksum: string): string {
  const dot = fileName.lastIndexOf(".");
  return `${stack}-${fileName.slice(0, dot)}-${checksum.slice(0, 12)}${fileName.slice(dot)}`;
}

/** Name of the Proxmox PCI resource mapping of a GPU node (mapping IDs must start with a letter). */
export function gpuMappingName(node: string): string {
  return `gpu-${node}`;
}

export function buildMetal(cfg: HomelabConfig, secrets: Secrets): Metal {
  const provider = new proxmox.Provider("proxmox", {
    endpoint: cfg.proxmox.endpoint,
    apiToken: secrets.proxmoxApiToken,
    insecure: cfg.proxmox.insecure,
    ssh: {
      username: cfg.proxmox.sshUsername,
      privateKey: secrets.sshPrivateKey,
      nodes: cfg.proxmox.nodes.map((n) => ({ name: n.name, address: n.address })),
    },
  });
  const vmSpecs = cfg.machines;

  // One download per (image, Proxmox node) that hosts a VM using it.
  const images = new Map<string, proxmox.download.File>();
  const imageFor = (spec: VmSpec): proxmox.download.File => {
    const key = `${spec.imageName}-${spec.host}`;
    let file = images.get(key);
    if (!file) {
      const image = spec.image;
      file = new proxmox.download.File(
        `image-${key}`,
        {
          nodeName: spec.host,
          datastoreId: spec.pve.imageDatastore,
          contentType: "import",
          url: image.url,
          fileName: imageFileName(pulumi.getStack(), image.fileName, image.checksum),
          checksum: image.checksum,
          checksumAlgorithm: image.checksumAlgorithm,
          // A dated URL never changes: never re-download or replace the file in place.
          overwrite: false,
          // A file of this name the program did not download (a manual upload, another stack on
          // this node, lost state) fails the create with "File already exists" instead of being
          // taken over: rename it, delete it, or give images.<name>.fileName another name (README).
          overwriteUnmanaged: false,
          // A cloud image is ~600 MB: on a slow uplink the provider's 10-minute default is too short.
          uploadTimeout: 1800,
        },
        // Create-first (the default) on a bump: the new file has a new name (imageFileName), so it
        // never meets the old one. Not delete-first: the engine would then re-diff every VM with
        // its whole `disks` input unknown (the image id feeds it), a replacement of every VM.
        { provider },
      );
      images.set(key, file);
    }
    return file;
  };
  for (const spec of vmSpecs) imageFor(spec);

  const vmArgs = (spec: VmSpec): ProxmoxVmArgs => {
    const pve = spec.pve;
    return {
      nodeName: spec.host,
      vmId: spec.vmid,
      hostname: spec.name,
      address: withPrefix(spec.ip, cfg.network.subnet),
      gateway: cfg.network.gateway,
      dnsServers: cfg.network.dns,
      searchDomain: cfg.network.searchDomain,
      bridge: cfg.network.bridge,
      vlanId: cfg.network.vlan,
      firewall: cfg.network.firewall.enabled,
      cores: spec.cores,
      cpuType: cfg.defaults.cpuType,
      memory: spec.memory,
      diskSize: spec.diskSize,
      datastoreId: pve.vmDatastore,
      snippetDatastoreId: pve.snippetDatastore,
      stack: pulumi.getStack(),
      proxmoxHost: { address: pve.address, user: cfg.proxmox.sshUsername },
      imageFileId: imageFor(spec).id,
      tags: spec.tags,
      sshUser: cfg.ssh.user,
      authorizedKeys: cfg.ssh.authorizedKeys,
      sshPrivateKey: secrets.sshPrivateKey,
      packages: spec.packages,
      longhorn: cfg.storage.longhorn.enabled && spec.role !== "standalone" ? { dataDiskSize: spec.dataDiskSize } : undefined,
      iscsi: cfg.storage.truenas.enabled && cfg.storage.truenas.iscsi !== undefined && spec.role !== "standalone",
      protect: spec.protect,
    };
  };

  // A GPU node's PCI mapping: cluster-wide (raw ids do not work with API tokens).
  const legacyGpuParent = (spec: VmSpec) => pulumi.createUrn(spec.name, LEGACY_GPU_PARENT_TYPE);
  const passthrough = (spec: VmSpec): ProxmoxVmArgs["passthrough"] => {
    const gpu = spec.gpu;
    if (spec.role !== "gpu" || gpu === undefined) return undefined;
    const mapping = new proxmox.hardware.mapping.Pci(
      `${spec.name}-pci`,
      {
        // Set explicitly (a bridged provider would add a random suffix).
        name: gpuMappingName(spec.name),
        comment: `${gpu.accelerator} for ${spec.name} (managed by Pulumi)`,
        maps: [{ node: spec.host, path: gpu.pciPath, id: gpu.id, subsystemId: gpu.subsystemId, iommuGroup: gpu.iommuGroup }],
      },
      { provider, aliases: [{ parent: legacyGpuParent(spec) }] },
    );
    return { mapping: mapping.name, mappingName: gpuMappingName(spec.name) };
  };

  const after = createAfter(vmSpecs, cfg.proxmox.createConcurrency);
  const vms = new Map<string, ProxmoxVm>();
  for (const spec of [...vmSpecs].sort((a, b) => order(after, a.name) - order(after, b.name))) {
    // Sorted by depth, so the predecessor is already built.
    const prev = vms.get(after.get(spec.name) ?? "");
    const opts: pulumi.ComponentResourceOptions = {
      providers: { proxmoxve: provider },
      ...(spec.role === "gpu" ? { aliases: [{ parent: legacyGpuParent(spec) }] } : {}),
    };
    const vm = new ProxmoxVm(spec.name, { ...vmArgs(spec), passthrough: passthrough(spec), createAfter: prev ? [prev.vm] : [] }, opts);
    vms.set(spec.name, vm);
    if (cfg.network.firewall.enabled) {
      const rules = vmFirewallRules(cfg, spec.role);
      new VmFirewall(
        `${spec.name}-firewall`,
        { nodeName: spec.host, vmId: spec.vmid, inputPolicy: cfg.network.firewall.inputPolicy, rules, vm: vm.vm },
        { providers: { proxmoxve: provider } },
      );
    }
    // A standalone VM applies settings that need a reboot on its own; k3s nodes get the cluster
    // layer's rolling reboot, which drains them first.
    if (spec.role === "standalone") new VmReboot(`${spec.name}-reboot`, { vm });
  }
  // Keep the map in config order for readers.
  const ordered = new Map(
    vmSpecs.flatMap((s) => {
      const vm = vms.get(s.name);
      return vm ? [[s.name, vm] as const] : [];
    }),
  );
  return { provider, vms: ordered };
}

/** Depth of a VM in its lane, so predecessors are constructed first. */
function order(after: Map<string, string | undefined>, name: string): number {
  let depth = 0;
  for (let cur = after.get(name); cur !== undefined; cur = after.get(cur)) depth++;
  return depth;
}
