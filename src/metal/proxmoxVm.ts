// ProxmoxVm: one VM from a cloud image, with cloud-init user-data, a static address, and a
// readiness gate that every later SSH step depends on.
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderUserData, SYNC_AUTHORIZED_KEYS, WAIT_FOR_CLOUD_INIT } from "./cloudInit";
import { fingerprint, rebootInputs } from "./rebootInputs";

export { fingerprint, rebootInputs } from "./rebootInputs";

export const TYPE = "homelab:metal:ProxmoxVm";

/**
 * How long SSH dialing keeps trying a booting VM. pulumi-command retries with pulumi's
 * `retry.Until` (100 ms first delay, x1.5, at most 5 s between tries: provider/pkg/provider/remote/
 * connection.go, sdk/go/common/util/retry/until.go). A refused connection fails at once, so 150
 * tries last about 12 minutes; an unreachable host also spends perDialTimeout on each try, about
 * 25 minutes. Enough for a first boot or a reboot; only steps that wait for one use it.
 */
export const SSH_DIAL = { dialErrorLimit: 150, perDialTimeout: 5 } as const;

/**
 * The dial budget of every step that runs on a VM already up (after its readiness gate): 30 tries,
 * about 2 minutes refused or 4 minutes unreachable. Those steps include the delete paths (k3s
 * uninstall, node removal): against a dead VM they fail in minutes, not after 25 (finding 14).
 */
export const SSH_DIAL_UP = { dialErrorLimit: 30, perDialTimeout: 5 } as const;

/** PCI passthrough through a cluster-wide resource mapping (raw ids do not work with API tokens). */
export interface PassthroughArgs {
  /** Name of the `hardware.mapping.Pci` resource mapping (its output, so the VM waits for it). */
  readonly mapping: pulumi.Input<string>;
  /** The same name as plain text, for rebootFingerprint. */
  readonly mappingName: string;
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
  /** Use the Proxmox firewall on the NIC (network.firewall.enabled; rules by VmFirewall). Default false. */
  readonly firewall?: boolean;
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
  /**
   * The Pulumi stack: it prefixes the snippet file (`<stack>-<hostname>-user-data.yaml`), so two
   * stacks with the same hostname on one Proxmox node never overwrite each other's user-data.
   */
  readonly stack: string;
  /**
   * SSH to the Proxmox node that hosts the VM (the provider's user and key), for the reboots that
   * apply pending settings (`qm reboot`). Default none: such settings stay pending until the VM is
   * next stopped and started.
   */
  readonly proxmoxHost?: { readonly address: string; readonly user: string };
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
  /** democratic-csi's iSCSI prerequisites in cloud-init (storage.truenas.iscsi). Default false. */
  readonly iscsi?: boolean;
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
  /** SSH connection for steps that run on the VM once it is up (secret: holds the private key). */
  public readonly connection: command.types.input.remote.ConnectionArgs;
  /** SSH to the Proxmox node hosting the VM (secret), for steps that act on the VM from outside. */
  public readonly hostConnection: command.types.input.remote.ConnectionArgs | undefined;
  public readonly hostname: string;
  public readonly vmid: number;
  /** The same connection with the long dial budget, for steps that wait out a boot or a reboot. */
  public readonly bootConnection: command.types.input.remote.ConnectionArgs;
  /**
   * Digest of the VM inputs that take effect only when the VM is power-cycled (see rebootInputs):
   * the trigger of the rolling reboot chain. Plain and deterministic.
   */
  public readonly rebootFingerprint: string;

  constructor(name: string, args: ProxmoxVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const child = { parent: this };
    this.ipAddress = args.address.split("/")[0];

    const snippetFile = `${args.stack}-${args.hostname}-user-data.yaml`;
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
            iscsi: args.iscsi,
          }),
        },
      },
      // A content change replaces the snippet at the same path, so the old file must go first.
      // The VM keeps running: Proxmox reads the snippet into the cloud-init drive when the VM
      // starts and derives the instance-id from it, so cloud-init re-runs its per-instance
      // modules once at the next boot (all idempotent; SSH host keys are regenerated).
      // The path (datastore and file name) is fixed when the snippet is first created, like the
      // VM's userDataFileId below: a snippet made before file names carried the stack keeps its
      // old name, so the VM that boots from it is never replaced and never loses its file.
      { ...child, deleteBeforeReplace: true, ignoreChanges: SNIPPET_PATH_INPUTS },
    );
    // The VM names the snippet by its path (`<storage>:snippets/<file>`, the id the provider
    // gives it), not by `userData.id`: userDataFileId is force-new, and the id of a snippet being
    // replaced is unknown during preview, which would plan a replacement of the VM (refused on a
    // protected one) for a first-boot file. dependsOn keeps the snippet first.
    const userDataFileId = `${args.snippetDatastoreId}:snippets/${snippetFile}`;

    const reboot = rebootInputs(args);
    this.rebootFingerprint = fingerprint(reboot);

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
        machine: reboot.machine,
        bios: reboot.bios,
        efiDisk: reboot.efiDisk,
        hostpcis: pt ? [{ device: "hostpci0", mapping: pt.mapping, pcie: true, rombar: true }] : undefined,
        operatingSystem: reboot.operatingSystem,
        cpu: reboot.cpu,
        memory: reboot.memory,
        // Nothing reads the addresses the guest agent reports (the address is static and every
        // step dials it): no wait for them on create, refresh or after an update, and a short
        // timeout for the agent reads that remain, so a VM whose agent is down costs minutes on a
        // refresh, not 15 (bpg network.go ReadNetworkValues waits agent.timeout per VM).
        agent: { enabled: true, timeout: "5m", trim: true, waitForIp: { disabled: true } },
        scsiHardware: reboot.scsiHardware,
        disks,
        // `firewall` only when on: the VMs of a stack without it keep the inputs they had.
        networkDevices: [{ bridge: args.bridge, model: "virtio", vlanId: args.vlanId, ...(args.firewall ? { firewall: true } : {}) }],
        serialDevices: reboot.serialDevices,
        initialization: { datastoreId: args.datastoreId, ...reboot.initialization, userDataFileId },
        // Never power-cycle the VM behind the program's back: a change that needs a reboot stays
        // pending in Proxmox, and the cluster layer's rolling reboot (drain, reboot, wait healthy,
        // uncordon; one server at a time) applies it, keyed on rebootFingerprint. The provider's
        // default (true) stops and starts every changed VM at once (bpg vm.go vmUpdate).
        rebootAfterUpdate: false,
      },
      // A replacement keeps the VMID and the static address, which two VMs cannot share: the old VM
      // must be gone before the new one is created (and the k3s steps on it, which depend on it,
      // are removed first: drain, then uninstall). The snippet path is kept from creation (see the
      // snippet above): userDataFileId is force-new, and a new path would replace the VM.
      {
        ...child,
        protect: args.protect ?? false,
        deleteBeforeReplace: true,
        ignoreChanges: ["initialization.userDataFileId"],
        dependsOn: [userData, ...(args.createAfter ?? [])],
      },
    );

    // Not `macAddresses`: with the guest agent on, that lists every interface the guest reports
    // (lo, and after k3s cni0, flannel.1 and a veth per pod), and is empty when the agent is slow
    // to answer, so it changes on reads and would re-run (and re-install) everything keyed on it.
    // The NIC's MAC lives in the VM's config: random at creation, fixed for the VM's life.
    this.instanceKey = this.vm.networkDevices.apply((devices) => devices[0].macAddress);
    const ssh = { host: this.ipAddress, user: args.sshUser, privateKey: pulumi.secret(args.sshPrivateKey) };
    this.connection = { ...ssh, ...SSH_DIAL_UP };
    this.hostConnection = args.proxmoxHost && { host: args.proxmoxHost.address, user: args.proxmoxHost.user, privateKey: pulumi.secret(args.sshPrivateKey), ...SSH_DIAL_UP };
    this.hostname = args.hostname;
    this.vmid = args.vmId;
    this.bootConnection = { ...ssh, ...SSH_DIAL };

    this.ready = new command.remote.Command(
      `${name}-ready`,
      {
        connection: this.bootConnection,
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

    this.registerOutputs({ ipAddress: this.ipAddress, vmId: this.vm.vmId, ready: this.ready.stdout, rebootFingerprint: this.rebootFingerprint });
  }
}

/** The snippet's inputs that make its path; kept from creation (see ProxmoxVm). */
export const SNIPPET_PATH_INPUTS = ["datastoreId", "sourceRaw.fileName"];
