// GpuNode: a k3s agent VM with a GPU passed through (seed 000: an RTX 4000 Ada on k3s-gpu-01).
//   <name>-pci           cluster-wide PCI resource mapping (raw ids do not work with API tokens)
//   <name>               the ProxmoxVm with the mapping (q35, OVMF + EFI disk, no ballooning)
//   <name>-nvidia        driver + nvidia-container-toolkit, and the reboot the driver needs
//   <name>-nvidia-check  GPU visible and the runtime present, before k3s ever starts
//   <name>-k3s           the k3s agent (K3sNode), labelled and tainted for GPU work
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { GpuVmSpec } from "../config/model";
import type { Metal } from "../metal";
import { ProxmoxVm } from "../metal/proxmoxVm";
import type { K3sCluster } from "./k3sCluster";
import { K3sNode } from "./k3sNode";
import { GPU_TAINT_STRING, gpuNodeLabels, nvidiaCheckScript, nvidiaInstallScript } from "./nvidia";

export const TYPE = "homelab:cluster:GpuNode";

export interface GpuNodeArgs {
  /** The node's resolved config (role gpu, with its `gpu` block). */
  readonly spec: GpuVmSpec;
  /** The metal layer: VM args and options, and the Proxmox provider for the mapping. */
  readonly metal: Metal;
  /** The cluster the node joins as an agent. */
  readonly cluster: K3sCluster;
}

export class GpuNode extends pulumi.ComponentResource {
  public readonly mapping: proxmox.hardware.mapping.Pci;
  public readonly vm: ProxmoxVm;
  /** Driver and toolkit checked on the running VM. */
  public readonly driverReady: command.remote.Command;
  /** The k3s agent. */
  public readonly k3s: K3sNode;
  /** Resolves once the agent is registered and Ready. */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: GpuNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const { spec, metal, cluster } = args;
    const gpu = spec.gpu;
    const child = { parent: this };

    this.mapping = new proxmox.hardware.mapping.Pci(
      `${name}-pci`,
      {
        // Set explicitly (a bridged provider would add a random suffix); Proxmox mapping IDs must
        // start with a letter, which a hostname need not.
        name: `gpu-${spec.name}`,
        comment: `${gpu.accelerator} for ${spec.name} (managed by Pulumi)`,
        maps: [{ node: spec.host, path: gpu.pciPath, id: gpu.id, subsystemId: gpu.subsystemId, iommuGroup: gpu.iommuGroup }],
      },
      { ...child, provider: metal.provider },
    );

    this.vm = new ProxmoxVm(spec.name, { ...metal.vmArgs(spec), passthrough: { mapping: this.mapping.name } }, pulumi.mergeOptions(metal.vmOptions(spec), child));

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
        connection: this.vm.connection,
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

    this.registerOutputs({ ipAddress: this.vm.ipAddress, mapping: this.mapping.name, ready: this.k3s.ready.id });
  }
}
