// The metal layer: the Proxmox provider, one cloud image per (image, Proxmox node) in use, and a
// ProxmoxVm for every VM except GPU nodes (GpuNode in the cluster layer builds those with their
// PCI mapping, through `vmArgs`).
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { withPrefix } from "../config/ip";
import type { HomelabConfig, Secrets } from "../config/loader";
import type { VmSpec } from "../config/model";
import { createAfter } from "./lanes";
import { ProxmoxVm, type ProxmoxVmArgs } from "./proxmoxVm";

export { ProxmoxVm } from "./proxmoxVm";

export interface Metal {
  readonly provider: proxmox.Provider;
  /** ProxmoxVm per VM name (every VM but role gpu). */
  readonly vms: ReadonlyMap<string, ProxmoxVm>;
  /** The ProxmoxVm args for a spec: network, sizes, image, keys; the caller adds passthrough. */
  vmArgs(spec: VmSpec): ProxmoxVmArgs;
  /** Resource options for a ProxmoxVm (the Proxmox provider). */
  vmOptions(spec: VmSpec): pulumi.ComponentResourceOptions;
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
          fileName: image.fileName,
          checksum: image.checksum,
          checksumAlgorithm: image.checksumAlgorithm,
          // A dated URL never changes: never re-download or replace the file in place.
          overwrite: false,
          overwriteUnmanaged: false,
          // A cloud image is ~600 MB: on a slow uplink the provider's 10-minute default is too short.
          uploadTimeout: 1800,
        },
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
      cores: spec.cores,
      cpuType: cfg.defaults.cpuType,
      memory: spec.memory,
      diskSize: spec.diskSize,
      datastoreId: pve.vmDatastore,
      snippetDatastoreId: pve.snippetDatastore,
      imageFileId: imageFor(spec).id,
      tags: spec.tags,
      sshUser: cfg.ssh.user,
      authorizedKeys: cfg.ssh.authorizedKeys,
      sshPrivateKey: secrets.sshPrivateKey,
      packages: spec.packages,
      longhorn: cfg.storage.longhorn.enabled && spec.role !== "standalone" ? { dataDiskSize: spec.dataDiskSize } : undefined,
      protect: spec.protect,
    };
  };
  const vmOptions = (_spec: VmSpec): pulumi.ComponentResourceOptions => ({ providers: { proxmoxve: provider } });

  const laned = vmSpecs.filter((s) => s.role !== "gpu");
  const after = createAfter(laned, cfg.proxmox.createConcurrency);
  const vms = new Map<string, ProxmoxVm>();
  for (const spec of [...laned].sort((a, b) => order(after, a.name) - order(after, b.name))) {
    // Sorted by depth, so the predecessor is already built.
    const prev = vms.get(after.get(spec.name) ?? "");
    vms.set(spec.name, new ProxmoxVm(spec.name, { ...vmArgs(spec), createAfter: prev ? [prev.vm] : [] }, vmOptions(spec)));
  }
  // Keep the map in config order for readers.
  const ordered = new Map(laned.flatMap((s) => {
    const vm = vms.get(s.name);
    return vm ? [[s.name, vm] as const] : [];
  }));
  return { provider, vms: ordered, vmArgs, vmOptions };
}

/** Depth of a VM in its lane, so predecessors are constructed first. */
function order(after: Map<string, string | undefined>, name: string): number {
  let depth = 0;
  for (let cur = after.get(name); cur !== undefined; cur = after.get(cur)) depth++;
  return depth;
}
