// Longhorn: replicated block storage on the nodes' data disks. Its node prerequisites (open-iscsi,
// the multipath blacklist, the disk at /var/lib/longhorn) are in cloud-init when
// storage.longhorn.enabled (src/metal/cloudInit.ts).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, chartRelease } from "./charts";
import { GPU_TAINT } from "../cluster/conventions";
import { STORAGE_LONGHORN, SYSTEM_NAMESPACES } from "./conventions";
import { longhornValues, mergeValues, PRIVILEGED_NAMESPACE_LABELS } from "./values";

export const TYPE = "homelab:system:Longhorn";

/** Where the metal layer mounts a Longhorn node's data disk (Longhorn's own default path). */
export const LONGHORN_DATA_PATH = "/var/lib/longhorn";

/**
 * The first install pulls the manager, engine, instance-manager and CSI sidecar images on every
 * node before the release is ready: allow 15 minutes.
 */
export const LONGHORN_TIMEOUT_SECONDS = 900;

export interface LonghornArgs {
  /** Longhorn chart version (config versions.longhorn). */
  readonly chartVersion: string;
  /** Replicas per volume (config storage.longhorn.replicas). */
  readonly replicas: number;
  /** Tolerate the GPU nodes' taint, so volumes attach where GPU apps run. Default false. */
  readonly tolerateGpuTaint?: boolean;
  /** Let the chart's uninstall hook run (config storage.longhorn.allowUninstall). Default false. */
  readonly allowUninstall?: boolean;
  /** Resources the namespace and release are created after (the cluster's readiness). Default none. */
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
  /** Helm values merged over the component's (escape hatch). Default none. */
  readonly values?: Record<string, unknown>;
}

export class Longhorn extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  /** The StorageClass the chart creates, longhorn. */
  public readonly storageClassName: string;

  constructor(name: string, args: LonghornArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const after = args.createAfter ?? [];
    // The chart supports longhorn-system only; its manager and CSI plugin run privileged.
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: SYSTEM_NAMESPACES.longhorn, labels: { ...PRIVILEGED_NAMESPACE_LABELS } } },
      { parent: this, dependsOn: after },
    );
    this.release = chartRelease(
      `${name}-release`,
      {
        chart: CHARTS.longhorn,
        version: args.chartVersion,
        releaseName: "longhorn",
        namespace: namespace.metadata.name,
        values: mergeValues(
          longhornValues({
            replicas: args.replicas,
            dataPath: LONGHORN_DATA_PATH,
            tolerateTaint: args.tolerateGpuTaint ? GPU_TAINT : undefined,
            allowUninstall: args.allowUninstall ?? false,
          }),
          args.values ?? {},
        ),
        timeoutSeconds: LONGHORN_TIMEOUT_SECONDS,
        // An atomic rollback of a failed first install runs the uninstall hook, which refuses
        // without the confirmation flag: the release could then neither finish nor be re-created.
        atomic: false,
      },
      { parent: this, dependsOn: [namespace, ...after] },
    );
    this.storageClassName = STORAGE_LONGHORN;
    this.registerOutputs({ release: this.release, storageClassName: this.storageClassName });
  }
}
