// TruenasStorage: democratic-csi for TrueNAS (seed 001): one release per class (NFS and iSCSI; the
// chart serves one driver each), each reading its driver config (with the API key) from a Secret
// the program writes from the Pulumi secret homelab:truenasApiKey, so the key is never a Helm value.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TruenasConfig } from "../config/truenasSchema";
import { CHARTS, chartRelease } from "./charts";
import { democraticCsiValues, DRIVER_CONFIG_KEY, iscsiDriverConfig, nfsDriverConfig, TRUENAS_CLASSES, type TruenasConnection, type TruenasKind } from "./democraticCsiRender";
import { democraticCsiNodeTolerations } from "./nodePlugins";
import { PRIVILEGED_NAMESPACE_LABELS } from "./values";

export const TYPE = "homelab:system:TruenasStorage";
/** Namespace of the drivers (node plugins mount host paths: privileged). */
export const TRUENAS_NAMESPACE = "democratic-csi";

export interface TruenasStorageArgs {
  readonly chartVersion: string;
  /** The driver image's tag (versions.democraticCsiDriver). */
  readonly driverImage: string;
  readonly connection: TruenasConnection;
  /** Datasets per class; a class without them is not installed. */
  readonly nfs: TruenasConfig["nfs"];
  readonly iscsi: TruenasConfig["iscsi"];
  readonly apiKey: pulumi.Input<string>;
  /** The stack has a GPU node: the node plugins tolerate its taint (GPU apps mount TrueNAS claims there). */
  readonly hasGpuNode: boolean;
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
}

export class TruenasStorage extends pulumi.ComponentResource {
  public readonly releases: k8s.helm.v3.Release[] = [];
  /** StorageClass names by kind, for the classes installed. */
  public readonly storageClasses: { readonly nfs?: string; readonly iscsi?: string };

  constructor(name: string, args: TruenasStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: TRUENAS_NAMESPACE, labels: { ...PRIVILEGED_NAMESPACE_LABELS } } },
      { parent: this, dependsOn: args.createAfter ?? [] },
    );
    const apiKey = pulumi.secret(args.apiKey);
    const classes: { nfs?: string; iscsi?: string } = {};
    const install = (kind: TruenasKind, config: pulumi.Output<string>) => {
      const c = TRUENAS_CLASSES[kind];
      const secretName = `${c.release}-driver-config`;
      const secret = new k8s.core.v1.Secret(
        `${name}-${kind}-config`,
        { metadata: { name: secretName, namespace: TRUENAS_NAMESPACE }, type: "Opaque", stringData: { [DRIVER_CONFIG_KEY]: pulumi.secret(config) } },
        { parent: this, dependsOn: [namespace] },
      );
      this.releases.push(
        chartRelease(
          `${name}-${kind}-release`,
          {
            chart: CHARTS.democraticCsi,
            version: args.chartVersion,
            releaseName: c.release,
            namespace: TRUENAS_NAMESPACE,
            values: democraticCsiValues(kind, secretName, args.driverImage, democraticCsiNodeTolerations(args.hasGpuNode)),
          },
          { parent: this, dependsOn: [namespace, secret, ...(args.createAfter ?? [])] },
        ),
      );
      classes[kind] = c.storageClass;
    };
    const nfs = args.nfs;
    if (nfs !== undefined)
      install(
        "nfs",
        apiKey.apply((key) => nfsDriverConfig(args.connection, nfs, key)),
      );
    const iscsi = args.iscsi;
    if (iscsi !== undefined)
      install(
        "iscsi",
        apiKey.apply((key) => iscsiDriverConfig(args.connection, iscsi, key)),
      );
    this.storageClasses = classes;
    this.registerOutputs({});
  }
}
