// ProxmoxVm: one VM from a cloud image, with cloud-init user-data, a static address, and a
// readiness gate that every later SSH step depends on.
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderUserData, SYNC_AUTHORIZED_KEYS, WAIT_FOR_CLOUD_INIT } from "./cloudInit";

export const TYPE = "homelab:metal:ProxmoxVm";

/**
 * How long SSH dialing keeps trying a booting VM. A refused connection fails fast (~2 s a try with
 * the provider's backoff) and an unreachable host takes perDialTimeout: 150 tries last about 5 to
 * 12 minutes, enough for a first boot, then the step fails naming the host it could not reach.
 */
export const SSH_DIAL = { dialErrorLimit: 150, perDialTimeout: 5 } as const;

/** PCI passthrough through a cluster-wide resource mapping (raw ids do not work with API tokens). */
export interface PassthroughArgs {
  /** Name of the `hardware.mapping.Pci` resource mapping. */
  readonly mapping: pulumi.Input<string>;
}

export interface ProxmoxVmArgs {
  /** Proxmox node that hosts the VM. */
  readonly nodeName: string;
  readonly vmId: number;
  /** Hostname; also the Proxmox VM name. */
  readonly hostname: string;
  /** Static address with prefix, e.g. 10.0.20.11/24. */
  readonly address: string;
  readonly gateway: string;
  readonly dnsServers: readonly string[];
  readonly searchDomain?: string;
  readonly bridge: string;
  /** VLAN tag; untagged when unset. */
  readonly vlanId?: number;
  readonly cores: number;
  readonly cpuType: string;
  /** MiB. */
  readonly memory: number;
  /** GiB of the boot disk. */
  readonly diskSize: number;
  /** Storage for the boot disk. */
  readonly datastoreId: string;
  /** Storage with `snippets` content for the user-data. */
  readonly snippetDatastoreId: string;
  /** `download.File` id of the cloud image on this node (import content). */
  readonly imageFileId: pulumi.Input<string>;
  /** Sorted Proxmox tags. */
  readonly tags: readonly string[];
  readonly sshUser: string;
  readonly authorizedKeys: readonly string[];
  /** Secret private key whose public half is in `authorizedKeys`. */
  readonly sshPrivateKey: pulumi.Input<string>;
  readonly packages?: readonly string[];
  /** Longhorn prerequisites in cloud-init; `dataDiskSize` adds a second disk (GiB). */
  readonly longhorn?: { readonly dataDiskSize?: number };
  /** PCI passthrough: makes the VM q35 + OVMF with an EFI disk and no ballooning. Default none. */
  readonly passthrough?: PassthroughArgs;
  /** Start on host boot. Default true. */
  readonly onBoot?: boolean;
  /**
   * Protect the VM itself from deletion and replacement. Only the VM: its snippet and SSH steps
   * must stay replaceable, or a key change would fail on a protected VM. Default false.
   */
  readonly protect?: boolean;
  /** Resources the VM is created after (bounds parallel creates per Proxmox node). Default none. */
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
}

export class ProxmoxVm extends pulumi.ComponentResource {
  /** The VM. */
  public readonly vm: proxmox.VmLegacy;
  /** The readiness gate: resolves after SSH answers and cloud-init has finished. */
  public readonly ready: command.remote.Command;
  /** Static IPv4 address (no prefix). */
  public readonly ipAddress: string;
  /**
   * Changes when, and only when, the VM is recreated: the MAC address Proxmox gave its NIC. The
   * trigger for steps that must run again on a new VM.
   */
  public readonly instanceKey: pulumi.Output<string>;
  /** SSH connection to the VM for later steps (secret: holds the private key). */
  public readonly connection: command.types.input.remote.ConnectionArgs;

  constructor(name: string, args: ProxmoxVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const child = { parent: this };
    this.ipAddress = args.address.split("/")[0];

    const snippetFile = `${args.hostname}-user-data.yaml`;
    const userData = new proxmox.FileLegacy(
      `${name}-user-data`,
      {
        nodeName: args.nodeName,
        datastoreId: args.snippetDatastoreId,
        contentType: "snippets",
        sourceRaw: {
          fileName: snippetFile,
          data: renderUserData({
            hostname: args.hostname,
            domain: args.searchDomain,
            user: args.sshUser,
            authorizedKeys: args.authorizedKeys,
            packages: args.packages,
            longhorn: args.longhorn ? { dataDisk: args.longhorn.dataDiskSize !== undefined } : undefined,
          }),
        },
      },
      // A content change replaces the snippet at the same path, so the old file must go first.
      // The VM keeps running: Proxmox reads the snippet into the cloud-init drive when the VM
      // starts and derives the instance-id from it, so cloud-init re-runs its per-instance
      // modules once at the next boot (all idempotent; SSH host keys are regenerated).
      { ...child, deleteBeforeReplace: true },
    );
    // The VM names the snippet by its path (`<storage>:snippets/<file>`, the id the provider
    // gives it), not by `userData.id`: userDataFileId is force-new, and the id of a snippet being
    // replaced is unknown during preview, which would plan a replacement of the VM (refused on a
    // protected one) for a first-boot file. dependsOn keeps the snippet first.
    const userDataFileId = `${args.snippetDatastoreId}:snippets/${snippetFile}`;

    const pt = args.passthrough;
    const disks: proxmox.types.input.VmLegacyDisk[] = [
      { interface: "scsi0", datastoreId: args.datastoreId, importFrom: args.imageFileId, size: args.diskSize, iothread: true, discard: "on", ssd: true },
    ];
    if (args.longhorn?.dataDiskSize !== undefined) {
      disks.push({ interface: "scsi1", datastoreId: args.datastoreId, size: args.longhorn.dataDiskSize, iothread: true, discard: "on", ssd: true, fileFormat: "raw" });
    }
    this.vm = new proxmox.VmLegacy(
      `${name}-vm`,
      {
        name: args.hostname,
        nodeName: args.nodeName,
        vmId: args.vmId,
        description: "Managed by Pulumi (homelab-infra).",
        tags: [...args.tags],
        onBoot: args.onBoot ?? true,
        started: true,
        stopOnDestroy: true,
        machine: pt ? "q35" : undefined,
        bios: pt ? "ovmf" : "seabios",
        efiDisk: pt ? { datastoreId: args.datastoreId, type: "4m", preEnrolledKeys: false } : undefined,
        hostpcis: pt ? [{ device: "hostpci0", mapping: pt.mapping, pcie: true, rombar: true }] : undefined,
        operatingSystem: { type: "l26" },
        cpu: { cores: args.cores, sockets: 1, type: args.cpuType },
        // Passthrough pins guest memory, so ballooning must be off (floating 0).
        memory: { dedicated: args.memory, floating: pt ? 0 : args.memory },
        // The agent arrives with cloud-init's first package install (after an apt update); the
        // create waits up to 15 minutes for it to report the VM's addresses.
        agent: { enabled: true, timeout: "15m", trim: true },
        scsiHardware: "virtio-scsi-single",
        disks,
        networkDevices: [{ bridge: args.bridge, model: "virtio", vlanId: args.vlanId }],
        serialDevices: [{ device: "socket" }],
        initialization: {
          datastoreId: args.datastoreId,
          ipConfigs: [{ ipv4: { address: args.address, gateway: args.gateway } }],
          dns: { servers: [...args.dnsServers], domain: args.searchDomain },
          userDataFileId,
        },
      },
      // A replacement keeps the VMID and the static address, which two VMs cannot share: the old VM
      // must be gone before the new one is created (and the k3s steps on it, which depend on it,
      // are removed first: drain, then uninstall).
      { ...child, protect: args.protect ?? false, deleteBeforeReplace: true, dependsOn: [userData, ...(args.createAfter ?? [])] },
    );

    // Not `macAddresses`: with the guest agent on, that lists every interface the guest reports
    // (lo, and after k3s cni0, flannel.1 and a veth per pod), and is empty when the agent is slow
    // to answer, so it changes on reads and would re-run (and re-install) everything keyed on it.
    // The NIC's MAC lives in the VM's config: random at creation, fixed for the VM's life.
    this.instanceKey = this.vm.networkDevices.apply((devices) => devices[0].macAddress);
    this.connection = {
      host: this.ipAddress,
      user: args.sshUser,
      privateKey: pulumi.secret(args.sshPrivateKey),
      ...SSH_DIAL,
    };

    this.ready = new command.remote.Command(
      `${name}-ready`,
      {
        connection: this.connection,
        create: WAIT_FOR_CLOUD_INIT,
        // A recreated VM has new MACs: wait for its first boot again.
        triggers: [this.instanceKey],
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      { ...child, dependsOn: [this.vm] },
    );

    new command.remote.Command(
      `${name}-authorized-keys`,
      {
        connection: this.connection,
        create: SYNC_AUTHORIZED_KEYS,
        stdin: `${args.authorizedKeys.join("\n")}\n`,
        triggers: [this.instanceKey],
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      { ...child, dependsOn: [this.ready] },
    );

    this.registerOutputs({ ipAddress: this.ipAddress, vmId: this.vm.vmId, ready: this.ready.stdout });
  }
}
