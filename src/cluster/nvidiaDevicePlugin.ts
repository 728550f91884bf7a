// NvidiaDevicePlugin: the nvidia-device-plugin chart on the GPU nodes (advertising nvidia.com/gpu,
// optionally time-sliced), and per GPU node an nvidia-smi smoke Job as that node's readiness gate.
//
// The Job is always registered (so previews and updates see the same graph); a preview never runs
// it, since the Kubernetes provider only creates resources, and awaits Job completion, on `up`.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEVICE_PLUGIN_CHART, DEVICE_PLUGIN_NAMESPACE, DEVICE_PLUGIN_REPO, devicePluginValues, GPU_FINGERPRINT_ANNOTATION, smokeJob } from "./nvidia";

export const TYPE = "homelab:cluster:NvidiaDevicePlugin";

export interface GpuNodeReadiness {
  readonly name: string;
  /** The node's agent is registered and Ready. */
  readonly ready: pulumi.Resource;
  readonly timeSlicingReplicas: number;
  /** What the smoke test proves: a change (new VM, new driver branch) runs it again. */
  readonly fingerprint: pulumi.Input<string>;
}

export interface NvidiaDevicePluginArgs {
  /** Chart version (versions.nvidiaDevicePlugin). */
  readonly version: string;
  /** The GPU nodes; at least one. */
  readonly nodes: readonly GpuNodeReadiness[];
  /** Run the nvidia-smi smoke Job on each GPU node (cluster.gpuSmokeTest). */
  readonly smokeTest: boolean;
}

export class NvidiaDevicePlugin extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  /** Smoke Job per GPU node name (empty when the smoke test is off). */
  public readonly smokeJobs: ReadonlyMap<string, k8s.batch.v1.Job>;
  /** Ready once the plugin runs and every smoke test passed. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: NvidiaDevicePluginArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    if (args.nodes.length === 0) throw new Error("NvidiaDevicePlugin: [nodes] must list at least one GPU node");
    const child = { parent: this };

    const ns = new k8s.core.v1.Namespace(
      `${name}-ns`,
      // hostPath volumes (the kubelet's device-plugins directory) need the privileged level.
      { metadata: { name: DEVICE_PLUGIN_NAMESPACE, labels: { "pod-security.kubernetes.io/enforce": "privileged" } } },
      child,
    );

    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: DEVICE_PLUGIN_CHART,
        chart: DEVICE_PLUGIN_CHART,
        version: args.version,
        repositoryOpts: { repo: DEVICE_PLUGIN_REPO },
        namespace: ns.metadata.name,
        values: devicePluginValues(args.nodes),
        atomic: true,
        cleanupOnFail: true,
        // The DaemonSet is Ready only once its image is pulled on every GPU node.
        timeout: 600,
      },
      // The DaemonSet schedules only on GPU nodes: an atomic install waits for their agents.
      { ...child, dependsOn: args.nodes.map((n) => n.ready) },
    );

    const jobs = new Map<string, k8s.batch.v1.Job>();
    if (args.smokeTest) {
      for (const node of args.nodes) {
        jobs.set(
          node.name,
          new k8s.batch.v1.Job(
            `${name}-smoke-${node.name}`,
            smokeJob<pulumi.Input<string>>({
              node: node.name,
              namespace: ns.metadata.name,
              annotations: { [GPU_FINGERPRINT_ANNOTATION]: node.fingerprint },
            }),
            // The provider waits for the Job to complete (10 minutes by default): the node's GPU gate.
            { ...child, dependsOn: [this.release, node.ready] },
          ),
        );
      }
    }
    this.smokeJobs = jobs;
    this.ready = args.smokeTest ? [...jobs.values()] : [this.release];

    this.registerOutputs({ release: this.release.status });
  }
}
