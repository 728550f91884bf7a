// TrueNAS through democratic-csi (`storage.truenas`, seed 001): the TrueNAS API (its key is the
// secret homelab:truenasApiKey), an NFS class and an iSCSI class, each on its own ZFS datasets.
import { z } from "zod";

const dataset = z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.:-]+)+$/, "must be a ZFS dataset path such as tank/k8s/nfs/vols");

const datasets = {
  /** Parent dataset of the volumes, e.g. tank/k8s/nfs/vols. */
  datasetParentName: dataset,
  /** Parent dataset of detached snapshots; a sibling of datasetParentName, never nested in it. */
  detachedSnapshotsDatasetParentName: dataset,
};

export const truenasSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** TrueNAS address: API, NFS shares and iSCSI portal. */
  host: z.ipv4({ error: "must be an IPv4 address such as 192.168.10.5" }).optional(),
  /** API port. Default 443 (https). */
  port: z.number().int().min(1).max(65_535).default(443),
  /** Accept TrueNAS's self-signed certificate. Default false. */
  allowInsecure: z.boolean().default(false),
  /** The NFS class freenas-nfs-csi (ReadWriteMany); app data uses it when storage.nfs is off. */
  nfs: z.strictObject(datasets).optional(),
  /** The iSCSI class freenas-iscsi-csi (block, ReadWriteOnce). */
  iscsi: z
    .strictObject({
      ...datasets,
      /** Portal group ID (Sharing > iSCSI > Portals). Default 1. */
      targetPortalGroup: z.number().int().min(1).default(1),
      /** Initiator group ID (Sharing > iSCSI > Initiators). Default 1. */
      initiatorGroup: z.number().int().min(1).default(1),
    })
    .optional(),
});

export type TruenasConfig = z.output<typeof truenasSchema>;

/** Checks of storage.truenas beyond its schema. */
export function truenasChecks(cfg: { readonly storage: { readonly truenas: TruenasConfig } }): string[] {
  const t = cfg.storage.truenas;
  const errors: string[] = [];
  if (t.enabled && t.nfs === undefined && t.iscsi === undefined) {
    errors.push("storage.truenas: is enabled with no class; declare nfs, iscsi or both (their datasets)");
  }
  for (const kind of ["nfs", "iscsi"] as const) {
    const d = t[kind];
    if (d === undefined) continue;
    const [a, b] = [d.datasetParentName, d.detachedSnapshotsDatasetParentName];
    if (a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)) {
      errors.push(
        `storage.truenas.${kind}.detachedSnapshotsDatasetParentName: ${b} overlaps datasetParentName ${a}; make them siblings such as ${a.replace(/\/[^/]+$/, "")}/snaps`,
      );
    }
  }
  if (t.nfs !== undefined && t.iscsi !== undefined) {
    const [n, i] = [t.nfs.datasetParentName, t.iscsi.datasetParentName];
    if (n === i || n.startsWith(`${i}/`) || i.startsWith(`${n}/`)) {
      errors.push(`storage.truenas.iscsi.datasetParentName: ${i} overlaps the NFS class's ${n}; give each class its own datasets`);
    }
  }
  return errors;
}
