// GpuNode: the cluster side of a k3s agent with a GPU passed through (seed 000: an RTX 4000 Ada on
// k3s-gpu-01). The metal layer builds its VM (q35, OVMF + EFI disk, no ballooning) and PCI mapping
// like every other VM; this component puts the driver and k3s on it.
//   <name>-nvidia-drain     on a control server: a driver change on a node that already runs k3s
//                           is cordoned and drained first (the rolling reboot's reboot-drain.sh;
//                           a first create or an unchanged driver drains nothing)
//   <name>-nvidia           driver + nvidia-container-toolkit, and the reboot the driver needs
//   <name>-nvidia-check     GPU visible and the runtime present, before k3s ever starts
//   <name>-k3s              the k3s agent (K3sNode), labelled and tainted for GPU work
//   <name>-nvidia-uncordon  on a control server: Ready again (a new boot when the install rebooted),
//                           uncordoned if the drain cordoned it, the driver recorded on the Node
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { GpuVmSpec } from "../config/model";
import type { ProxmoxVm } from "../metal/proxmoxVm";
import type { K3sCluster } from "./k3sCluster";
import { K3sNode } from "./k3sNode";
import { driverPackage, GPU_TAINT_STRING, gpuNodeLabels, nvidiaCheckScript, nvidiaInstallScript } from "./nvidia";
import { driverDecision, driverDrainScript, driverUncordonScript } from "./rollingReboot";

export const TYPE = "homelab:cluster:GpuNode";

export interface GpuNodeArgs {
  /** The node's resolved config (role gpu, with its `gpu` block). */
  readonly spec: GpuVmSpec;
  /** The node's VM, built by the metal layer with the GPU passed through. */
  readonly vm: ProxmoxVm;
  /** The cluster the node joins as an agent. */
  readonly cluster: K3sCluster;
  /** nvidia-container-toolkit's apt version (versions.nvidiaContainerToolkit), e.g. 1.17.8-1. */
  readonly toolkitVersion: string;
}

export class GpuNode extends pulumi.ComponentResource {
  public readonly vm: ProxmoxVm;
  /** Driver and toolkit checked on the running VM. */
  public readonly driverReady: command.remote.Command;
  /** The driver package and the version dpkg installed, e.g. nvidia-driver-580-server-open=580.95.05-0ubuntu1 (from the check). */
  public readonly driverVersion: pulumi.Output<string>;
  /** The k3s agent. */
  public readonly k3s: K3sNode;
  /** Drains the node before a driver change (on a control server). */
  public readonly driverDrain: command.remote.Command;
  /** Uncordons it after the driver install and check (on a control server). */
  public readonly driverUncordon: command.remote.Command;
  /** Resolves once the agent is registered, Ready and uncordoned after a driver change. */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: GpuNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const { spec, cluster } = args;
    const gpu = spec.gpu;
    const child = { parent: this };

    this.vm = args.vm;

    const triggers = [this.vm.instanceKey];
    const pkg = driverPackage(gpu);
    const control = cluster.controlFor(spec.name);
    const quiet = { logging: "stderr" as const, addPreviousOutputInEnv: false };
    // Re-runs (an update) only when the driver package or the control server's connection changes;
    // the package recorded on the Node decides whether that is a driver change. A new VM replaces it
    // (triggers): its create never drains. After the control server's join (kubectl works there):
    // on a stack's first run the install waits for that server, never for this node to register.
    this.driverDrain = new command.remote.Command(
      `${name}-nvidia-drain`,
      {
        connection: control.connection,
        create: driverDrainScript(spec.name, pkg, "create"),
        update: driverDrainScript(spec.name, pkg, "update"),
        triggers,
        ...quiet,
      },
      { ...child, dependsOn: [this.vm.ready, ...control.ready] },
    );
    const install = new command.remote.Command(
      `${name}-nvidia`,
      {
        connection: this.vm.connection,
        create: nvidiaInstallScript(spec.name, gpu, args.toolkitVersion),
        update: nvidiaInstallScript(spec.name, gpu, args.toolkitVersion),
        triggers,
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      { ...child, dependsOn: [this.vm.ready, this.driverDrain] },
    );
    // Its SSH dial waits out the reboot the install may have scheduled (sshd is stopped until then).
    this.driverReady = new command.remote.Command(
      `${name}-nvidia-check`,
      {
        connection: this.vm.bootConnection,
        create: nvidiaCheckScript(spec.name, gpu),
        update: nvidiaCheckScript(spec.name, gpu),
        triggers,
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      { ...child, dependsOn: [install] },
    );

    this.driverVersion = pulumi.interpolate`${pkg}=${this.driverReady.stdout.apply((v) => v.trim())}`;

    const labels = { ...spec.labels, ...gpuNodeLabels(gpu) };
    const taints = [...new Set([...spec.taints, GPU_TAINT_STRING])];
    // The uncordon below waits for the agent's membership; the agent's k3s upgrade drain waits for
    // the uncordon, so a driver change and a k3s upgrade in one run drain the node one after the
    // other, never one lifting the other's cordon half-way.
    let uncordoned!: (r: pulumi.Resource) => void;
    const afterDriver = new Promise<pulumi.Resource>((resolve) => (uncordoned = resolve));
    this.k3s = new K3sNode(
      `${name}-k3s`,
      cluster.agentArgs(
        { name: spec.name, ip: this.vm.ipAddress, labels, taints, host: this.vm },
        // k3s configures containerd's nvidia runtime only if the toolkit is there when it starts.
        { joinAfter: [this.driverReady], upgradeAfter: [afterDriver] },
      ),
      child,
    );
    // After the agent's membership step too: on a first create that is when the Node exists to
    // record the driver on; on a driver change the k3s steps have nothing to do.
    this.driverUncordon = new command.remote.Command(
      `${name}-nvidia-uncordon`,
      {
        connection: control.connection,
        create: driverUncordonScript(spec.name, pkg),
        update: driverUncordonScript(spec.name, pkg),
        stdin: pulumi.all([this.driverDrain.stdout, install.stdout]).apply(([d, i]) => driverDecision(d, i)),
        triggers,
        ...quiet,
      },
      { ...child, dependsOn: [this.driverReady, this.k3s.ready, ...control.ready] },
    );
    uncordoned(this.driverUncordon);
    this.ready = this.driverUncordon;

    this.registerOutputs({ ipAddress: this.vm.ipAddress, ready: this.driverUncordon.id });
  }
}
