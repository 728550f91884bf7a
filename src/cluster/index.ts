// The cluster layer: k3s on the metal layer's VMs, the GPU nodes' driver steps, the NVIDIA device
// plugin, and the `Cluster` contract handed to the layers above.
import * as pulumi from "@pulumi/pulumi";
import type { HomelabConfig } from "../config/loader";
import { apiEndpoint, nodesByRole, type VmSpec } from "../config/model";
import type { Metal } from "../metal";
import { GpuNode } from "./gpuNode";
import { K3sCluster, type K3sMember } from "./k3sCluster";
import { clusterSettings } from "./k3sConfig";
import type { ControlServer } from "./k3sNode";
import { NvidiaDevicePlugin } from "./nvidiaDevicePlugin";
import { RollingReboot, type RebootNode } from "./rollingReboot";
import type { Cluster } from "./types";

export type { Cluster } from "./types";

export function buildCluster(cfg: HomelabConfig, metal: Metal): Cluster {
  const { servers, agents, gpus } = nodesByRole(cfg);
  const vmOf = (spec: VmSpec) => {
    const vm = metal.vms.get(spec.name);
    if (!vm) throw new Error(`${spec.path} (${spec.name}): the metal layer built no VM for this node`);
    return vm;
  };
  const member = (spec: VmSpec): K3sMember => {
    const vm = vmOf(spec);
    return { name: spec.name, ip: vm.ipAddress, labels: spec.labels, taints: spec.taints, host: vm };
  };

  const k3s = new K3sCluster("k3s", {
    version: cfg.versions.k3s,
    servers: servers.map(member),
    agents: agents.map(member),
    settings: clusterSettings(cfg, pulumi.getStack()),
    apiEndpoint: apiEndpoint(cfg),
    contextName: `homelab-${pulumi.getStack()}`,
    agentUpgradeBatch: cfg.cluster.agentUpgradeBatch,
    etcdS3SecretKey: cfg.etcdSnapshots?.s3.secretKey,
    restore: cfg.cluster.etcdRestore,
  });

  const gpuNodes = gpus.map((spec) => {
    const toolkitVersion = cfg.devicePlugin?.toolkitVersion;
    if (toolkitVersion === undefined) throw new Error(`${spec.path} (${spec.name}): no versions.nvidiaContainerToolkit was resolved for this GPU node`);
    return { spec, node: new GpuNode(spec.name, { spec, vm: vmOf(spec), cluster: k3s, toolkitVersion }) };
  });

  // Settings that need a power cycle reach the nodes one server at a time, then a bounded number
  // of agents at a time, each drained first (the VM update itself never reboots: ProxmoxVm).
  // kubectl for a node runs on K3sCluster's control server for it: a server other than the node.
  const controlFor = (node: string): ControlServer => k3s.controlFor(node);
  const k3sNodes = [...k3s.nodes.entries(), ...gpuNodes.map(({ spec, node }) => [spec.name, node.k3s] as const)];
  // After every upgrade step, so a version bump and a resize in one run never take two nodes down.
  const upgrades = k3sNodes.map(([, n]) => n.upgrade);
  const rebootNode = (spec: VmSpec, role: "server" | "agent"): RebootNode => ({
    name: spec.name,
    role,
    vm: vmOf(spec),
    control: controlFor(spec.name),
    // A GPU node: after its driver steps' uncordon too (one drain at a time per node).
    after: [...k3sNodes.filter(([n]) => n === spec.name).map(([, n]) => n.ready), ...gpuNodes.filter((g) => g.spec.name === spec.name).map((g) => g.node.ready), ...upgrades],
  });
  const gpuAgents = gpuNodes.map(({ spec }) => rebootNode(spec, "agent"));
  new RollingReboot("reboot", {
    servers: servers.map((s) => rebootNode(s, "server")),
    agents: [...agents.map((a) => rebootNode(a, "agent")), ...gpuAgents],
    agentBatch: cfg.cluster.agentRebootBatch,
  });

  let gpuReady: pulumi.Resource[] = [];
  if (cfg.devicePlugin !== undefined && gpuNodes.length > 0) {
    const plugin = new NvidiaDevicePlugin(
      "nvidia-device-plugin",
      {
        version: cfg.devicePlugin.chartVersion,
        smokeTest: cfg.cluster.gpuSmokeTest,
        nodes: gpuNodes.map(({ spec, node }) => ({
          name: spec.name,
          ready: node.ready,
          timeSlicingReplicas: spec.gpu.timeSlicingReplicas,
          // The VM, the driver package and the version installed (a package names only a branch).
          fingerprint: pulumi.interpolate`${node.vm.instanceKey}/${node.driverVersion}`,
        })),
      },
      { providers: { kubernetes: k3s.provider } },
    );
    gpuReady = plugin.ready;
  }

  return {
    provider: k3s.provider,
    kubeconfig: k3s.kubeconfig,
    apiServer: k3s.apiServer,
    k3sToken: k3s.token,
    ready: k3s.ready,
    nodeReady(name: string): pulumi.Resource {
      const ready = k3s.nodes.get(name)?.ready ?? gpuNodes.find((g) => g.spec.name === name)?.node.ready;
      if (!ready) throw new Error(`unknown cluster node ${name}; the nodes are ${[...k3s.nodes.keys(), ...gpuNodes.map((g) => g.spec.name)].join(", ")}`);
      return ready;
    },
    gpuReady,
  };
}
