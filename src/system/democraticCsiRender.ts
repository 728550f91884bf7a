// democratic-csi for TrueNAS, pure: the driver config each release reads from its Secret (the API
// key inside, so it is rendered only inside a Pulumi secret) and each release's Helm values.
import type { TruenasConfig } from "../config/truenasSchema";
import { toYaml } from "../lib/serialize";

/** The two classes, named as seed 001 names them, and their CSI driver names (unique per cluster). */
export const TRUENAS_CLASSES = {
  nfs: { storageClass: "freenas-nfs-csi", csiDriver: "org.democratic-csi.truenas-nfs", driver: "freenas-api-nfs", release: "democratic-csi-nfs" },
  iscsi: { storageClass: "freenas-iscsi-csi", csiDriver: "org.democratic-csi.truenas-iscsi", driver: "freenas-api-iscsi", release: "democratic-csi-iscsi" },
} as const;
export type TruenasKind = keyof typeof TRUENAS_CLASSES;

/** Key of the driver config in its Secret (the chart's own name, driver-config-secret.yaml). */
export const DRIVER_CONFIG_KEY = "driver-config-file.yaml";

export interface TruenasConnection {
  readonly host: string;
  readonly port: number;
  readonly allowInsecure: boolean;
}

type NfsDatasets = NonNullable<TruenasConfig["nfs"]>;
type IscsiDatasets = NonNullable<TruenasConfig["iscsi"]>;

const httpConnection = (conn: TruenasConnection, apiKey: string) => ({ protocol: "https", host: conn.host, port: conn.port, apiKey, allowInsecure: conn.allowInsecure });

/** driver-config-file.yaml of the NFS class (democratic-csi examples/freenas-api-nfs.yaml). Holds the API key. */
export function nfsDriverConfig(conn: TruenasConnection, d: NfsDatasets, apiKey: string): string {
  return toYaml({
    driver: TRUENAS_CLASSES.nfs.driver,
    httpConnection: httpConnection(conn, apiKey),
    zfs: {
      datasetParentName: d.datasetParentName,
      detachedSnapshotsDatasetParentName: d.detachedSnapshotsDatasetParentName,
      datasetEnableQuotas: true,
      datasetEnableReservation: false,
      // Apps run as their own uids (1000 and others): the share's root directory is open to them.
      datasetPermissionsMode: "0777",
      datasetPermissionsUser: 0,
      datasetPermissionsGroup: 0,
    },
    nfs: {
      shareHost: conn.host,
      shareAlldirs: false,
      shareAllowedHosts: [],
      shareAllowedNetworks: [],
      shareMaprootUser: "root",
      shareMaprootGroup: "root",
      shareMapallUser: "",
      shareMapallGroup: "",
    },
  });
}

/** driver-config-file.yaml of the iSCSI class (democratic-csi examples/freenas-api-iscsi.yaml). Holds the API key. */
export function iscsiDriverConfig(conn: TruenasConnection, d: IscsiDatasets, apiKey: string): string {
  return toYaml({
    driver: TRUENAS_CLASSES.iscsi.driver,
    httpConnection: httpConnection(conn, apiKey),
    zfs: {
      datasetParentName: d.datasetParentName,
      detachedSnapshotsDatasetParentName: d.detachedSnapshotsDatasetParentName,
      zvolEnableReservation: false,
    },
    iscsi: {
      targetPortal: `${conn.host}:3260`,
      targetPortals: [],
      namePrefix: "csi-",
      targetGroups: [{ targetGroupPortalGroup: d.targetPortalGroup, targetGroupInitiatorGroup: d.initiatorGroup, targetGroupAuthType: "None" }],
      extentInsecureTpc: true,
      extentXenCompat: false,
      extentDisablePhysicalBlocksize: true,
      extentBlocksize: 512,
      extentRpm: "SSD",
      extentAvailThreshold: 0,
    },
  });
}

/** democratic-csi's driver image (the chart's default tag is `latest`: every new node could pull other code). */
export const DEMOCRATIC_CSI_IMAGE = "ghcr.io/democratic-csi/democratic-csi";

/**
 * Helm values of one democratic-csi release: its CSI driver, its StorageClass, the config from our
 * Secret, the driver image of controller and node pinned to `driverTag` (versions.democraticCsiDriver;
 * chart democratic-csi-0.15.1 values.yaml:200-202 and :276-278 default to `latest`, rendered as
 * `<registry>:<tag>` by templates/controller.yaml:92 and node.yaml:92, so a `next@sha256:...` tag
 * pins a digest), and the node DaemonSet's tolerations (src/system/nodePlugins.ts
 * democraticCsiNodeTolerations: the GPU taint when there is a GPU node; the chart's default tolerates nothing).
 */
export function democraticCsiValues(kind: TruenasKind, configSecret: string, driverTag: string, nodeTolerations: readonly object[] = []): Record<string, unknown> {
  const c = TRUENAS_CLASSES[kind];
  const image = { registry: DEMOCRATIC_CSI_IMAGE, tag: driverTag };
  return {
    controller: { driver: { image } },
    node: { driver: { image: { ...image } }, ...(nodeTolerations.length > 0 ? { tolerations: nodeTolerations.map((t) => ({ ...t })) } : {}) },
    csiDriver: { name: c.csiDriver, ...(kind === "nfs" ? { fsGroupPolicy: "File" } : {}) },
    storageClasses: [
      {
        name: c.storageClass,
        defaultClass: false,
        // Like nfs-client: deleting a claim keeps nothing in Kubernetes, but a dataset is data;
        // Retain leaves it on TrueNAS until an operator removes it.
        reclaimPolicy: "Retain",
        volumeBindingMode: "Immediate",
        allowVolumeExpansion: true,
        parameters: { fsType: kind === "nfs" ? "nfs" : "ext4" },
        mountOptions: kind === "nfs" ? ["noatime", "nfsvers=4.1"] : [],
        secrets: { "provisioner-secret": null, "controller-publish-secret": null, "node-stage-secret": null, "node-publish-secret": null, "controller-expand-secret": null },
      },
    ],
    // The chart still reads driver.config.driver when the config comes from an existing Secret.
    driver: { existingConfigSecret: configSecret, config: { driver: c.driver } },
  };
}
