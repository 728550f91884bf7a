// GpuNode: the cluster side of a k3s agent with a GPU passed through (seed 000: an RTX 4000 Ada on
// k3s-gpu-01). The metal layer builds its VM (q35, OVMF + EFI disk, no ballooning) and PCI mapping
// like every other VM; this component puts the driver and k3s on it.
//   <name>-nvidia        driver + nvidia-container-toolkit, and the reboot the driver needs
//   <name>-nvidia-check  GPU visible and the runtime present, before k3s ever starts
//   <name>-k3s           the k3s agent (K3sNode), labelled and tainted for GPU work
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { GpuVmSpec } from "../config/model";
import type { ProxmoxVm } from "../metal/proxmoxVm";
import type { K3sCluster } from "./k3sCluster";
import { K3sNode } from "./k3sNode";
import { GPU_TAINT_STRING, gpuNodeLabels, nvidiaCheckScript, nvidiaInstallScript } from "./nvidia";

export const TYPE = "homelab:cluster:GpuNode";

export interface GpuNodeArgs {
  /** The node's resolved config (role gpu, with its `gpu` block). */
  readonly spec: GpuVmSpec;
  /** The node's VM, built by the metal layer with the GPU passed through. */
  readonly vm: ProxmoxVm;
  /** The cluster the node joins as an agent. */
  readonly cluster: K3sCluster;
}

export class GpuNode extends pulumi.ComponentResource {
  public readonly vm: ProxmoxVm;
  /** Driver and toolkit checked on the running VM. */
  public readonly driverReady: command.remote.Command;
  /** The k3s agent. */
  public readonly k3s: K3sNode;
  /** Resolves once the agent is registered and Ready. */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: GpuNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const { spec, cluster } = args;
    const gpu = spec.gpu;
    const child = { parent: this };

    this.vm = args.vm;

    const triggers = [this.vm.instanceKey];
    const install = new command.remote.Command(
      `${name}-nvidia`,
      {
        connection: this.vm.connection,
        create: nvidiaInstallScript(spec.name, gpu),
        update: nvidiaInstallScript(spec.name, gpu),
        triggers,
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      { ...child, dependsOn: [this.vm.ready] },
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

    const labels = { ...spec.labels, ...gpuNodeLabels(gpu) };
    const taints = [...new Set([...spec.taints, GPU_TAINT_STRING])];
    this.k3s = new K3sNode(
      `${name}-k3s`,
      cluster.agentArgs(
        { name: spec.name, ip: this.vm.ipAddress, labels, taints, host: this.vm },
        // k3s configures containerd's nvidia runtime only if the toolkit is there when it starts.
        { joinAfter: [this.driverReady] },
      ),
      child,
    );
    this.ready = this.k3s.ready;

    this.registerOutputs({ ipAddress: this.vm.ipAddress, ready: this.k3s.ready.id });
  }
}
