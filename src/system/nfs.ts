// NfsStorage: the NFS CSI driver and the `nfs-client` StorageClass for app data (seed 003), whose
// PVC directories on the share are `{namespace}-{pvc-name}`. local-path (k3s's default) stays for
// databases.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, chartRelease } from "./charts";
import { nfsStorageClass } from "./manifests";
import { mergeValues, nfsValues } from "./values";

export const TYPE = "homelab:system:NfsStorage";

export interface NfsStorageArgs {
  /** csi-driver-nfs chart version (config versions.csiDriverNfs, spelled as the index does: 4.12.0). */
  readonly chartVersion: string;
  /** NFS server address (config storage.nfs.server). */
  readonly server: string;
  /** Exported path for app data (config storage.nfs.share). */
  readonly share: string;
  /** Mount options of every volume (config storage.nfs.mountOptions). */
  readonly mountOptions: readonly string[];
  /** Namespace of the driver. Default kube-system (where the chart's manifests expect it). */
  readonly namespace?: string;
  /** Resources the release is created after (the cluster's readiness). Default none. */
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
  /** Helm values merged over the component's (escape hatch). Default none. */
  readonly values?: Record<string, unknown>;
}

export class NfsStorage extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly storageClass: k8s.storage.v1.StorageClass;
  /** The StorageClass name, nfs-client. */
  public readonly storageClassName: string;

  constructor(name: string, args: NfsStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    this.release = chartRelease(
      `${name}-release`,
      {
        chart: CHARTS.csiDriverNfs,
        version: args.chartVersion,
        releaseName: "csi-driver-nfs",
        namespace: args.namespace ?? "kube-system",
        values: mergeValues(nfsValues(), args.values ?? {}),
      },
      { parent: this, dependsOn: args.createAfter ?? [] },
    );
    const manifest = nfsStorageClass({ server: args.server, share: args.share, mountOptions: args.mountOptions });
    // PVCs of this class provision only once the driver runs.
    this.storageClass = new k8s.storage.v1.StorageClass(`${name}-storage-class`, manifest, { parent: this, dependsOn: [this.release] });
    this.storageClassName = manifest.metadata.name;
    this.registerOutputs({ release: this.release, storageClass: this.storageClass });
  }
}
