// The package entry point (package.json `main`/`exports`): the components for other Pulumi programs.
// `src/index.ts` stays the program `pulumi up` runs (Pulumi.yaml `main`); this module registers
// nothing on import.
//
// Every component takes plain values (strings, numbers, secrets as pulumi.Input, and other
// components or resources where one waits for another), never the stack config or a layer object.
// Versions (k3s, charts) have no default: they are pinned by the caller, as the stacks pin them.
// Kubernetes components take the Kubernetes provider as a resource option (`{ provider }`), the VM
// the Proxmox provider (`{ providers: { proxmoxve } }`).
import * as pulumi from "@pulumi/pulumi";
import { defaultsSchema, networkSchema, proxmoxNodeSchema, sshSchema } from "./config/schema";
import { ProxmoxVm as ProxmoxVmComponent, type ProxmoxVmArgs as ProxmoxVmFullArgs } from "./metal/proxmoxVm";

export { CATALOG } from "./apps/catalog";
export type { AppDefinition, ChartSource, GpuMode, SecretDef, StorageKind, VolumeDef } from "./apps/types";
export { CatalogApp, type CatalogAppArgs } from "./apps/app";
export { GpuNode, type GpuNodeArgs } from "./cluster/gpuNode";
export { K3sCluster, type K3sClusterArgs, type K3sMember } from "./cluster/k3sCluster";
export type { K3sClusterSettings } from "./cluster/k3sConfig";
export type { NodeHost } from "./cluster/k3sNode";
export type { PassthroughArgs } from "./metal/proxmoxVm";
export { DnsRecords, type DnsRecordsArgs } from "./platform/dns";
export { FluxBootstrap, type FluxBootstrapArgs } from "./platform/flux";
export { CertManagerIssuer, type CertManagerIssuerArgs, type WildcardSpec } from "./system/certManager";
export { InternalCa, type InternalCaArgs } from "./system/internalCa";
export { Longhorn, type LonghornArgs } from "./system/longhorn";
export { MetalLbPool, type MetalLbPoolArgs } from "./system/metallb";
export { Monitoring, type MonitoringArgs } from "./system/monitoring";
export { NfsStorage, type NfsStorageArgs } from "./system/nfs";
export { TraefikConfig, type TraefikConfigArgs } from "./system/traefik";

/** The defaults a stack file gets, read from the config schema (the one place they are written). */
const fieldDefault = <T>(schema: { shape: Record<string, { parse(v: unknown): unknown }> }, key: string): T => schema.shape[key].parse(undefined) as T;

/** ProxmoxVm's defaults: the stack config's (docs/config-reference.yaml), plus the current stack. */
export const PROXMOX_VM_DEFAULTS = {
  dnsServers: fieldDefault<readonly string[]>(networkSchema, "dns"),
  bridge: fieldDefault<string>(networkSchema, "bridge"),
  cores: fieldDefault<number>(defaultsSchema, "cores"),
  cpuType: fieldDefault<string>(defaultsSchema, "cpuType"),
  memory: fieldDefault<number>(defaultsSchema, "memory"),
  diskSize: fieldDefault<number>(defaultsSchema, "diskSize"),
  datastoreId: fieldDefault<string>(proxmoxNodeSchema, "vmDatastore"),
  snippetDatastoreId: fieldDefault<string>(proxmoxNodeSchema, "snippetDatastore"),
  sshUser: fieldDefault<string>(sshSchema, "user"),
  tags: [] as readonly string[],
} as const;

type Defaulted = keyof typeof PROXMOX_VM_DEFAULTS | "stack";

/** ProxmoxVm's arguments, with a default for everything that has a sensible one. */
export interface ProxmoxVmArgs extends Omit<ProxmoxVmFullArgs, Defaulted> {
  /** DNS resolvers written by cloud-init. Default ["1.1.1.1"]. */
  readonly dnsServers?: readonly string[];
  /** Proxmox bridge of the NIC. Default vmbr0. */
  readonly bridge?: string;
  /** vCPUs. Default 2. */
  readonly cores?: number;
  /** Proxmox CPU type. Default x86-64-v2-AES (runs on any x86-64-v2 host, migrates between them). */
  readonly cpuType?: string;
  /** MiB. Default 4096. */
  readonly memory?: number;
  /** GiB of the boot disk, at least 8. Default 32. */
  readonly diskSize?: number;
  /** Storage for the boot disk. Default local-lvm. */
  readonly datastoreId?: string;
  /** Storage with `snippets` content for the user-data. Default local. */
  readonly snippetDatastoreId?: string;
  /** Proxmox tags; sorted here (Proxmox sorts them, unsorted tags would show as a diff). Default none. */
  readonly tags?: readonly string[];
  /** Login user cloud-init creates (not root). Default ubuntu. */
  readonly sshUser?: string;
  /**
   * Prefix of the snippet file (`<stack>-<hostname>-user-data.yaml`), so two stacks with the same
   * hostname on one Proxmox node never overwrite each other's user-data. Default the current stack.
   */
  readonly stack?: string;
}

/**
 * One VM from a cloud image: cloud-init user-data (hostname, user, keys, qemu-guest-agent), a static
 * address, and a readiness gate (`ready`) every later SSH step should depend on. The same component
 * the homelab stacks use (type homelab:metal:ProxmoxVm), with the defaults above applied.
 */
export class ProxmoxVm extends ProxmoxVmComponent {
  constructor(name: string, args: ProxmoxVmArgs, opts?: pulumi.ComponentResourceOptions) {
    const d = PROXMOX_VM_DEFAULTS;
    super(
      name,
      {
        ...args,
        dnsServers: args.dnsServers ?? d.dnsServers,
        bridge: args.bridge ?? d.bridge,
        cores: args.cores ?? d.cores,
        cpuType: args.cpuType ?? d.cpuType,
        memory: args.memory ?? d.memory,
        diskSize: args.diskSize ?? d.diskSize,
        datastoreId: args.datastoreId ?? d.datastoreId,
        snippetDatastoreId: args.snippetDatastoreId ?? d.snippetDatastoreId,
        tags: [...(args.tags ?? d.tags)].sort(),
        sshUser: args.sshUser ?? d.sshUser,
        stack: args.stack ?? pulumi.getStack(),
      },
      opts,
    );
  }
}
