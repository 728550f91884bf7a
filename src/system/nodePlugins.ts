// What each StorageClass needs on the node where a pod mounts its volume, and which node taints
// that node-side component tolerates as this program installs it. The system layer sets the
// tolerations from here (democratic-csi), and the apps layer's placement check reads the same
// table (src/apps/capacity.ts nodePluginChecks). Pure.
import { GPU_TAINT } from "../cluster/conventions";
import { STORAGE_LOCAL, STORAGE_LONGHORN, STORAGE_NFS } from "./conventions";
import { TRUENAS_CLASSES } from "./democraticCsiRender";

export interface Toleration {
  readonly key?: string;
  readonly operator: "Equal" | "Exists";
  readonly value?: string;
  readonly effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** A taint in kubectl's form, key[=value]:Effect (the config's node taints). */
export function parseTaint(s: string): Taint {
  const [kv, effect] = s.split(":");
  const [key, value] = kv.split("=");
  return { key, ...(value !== undefined ? { value } : {}), effect: effect as Taint["effect"] };
}

/** The GPU nodes' taint as a toleration (the one GPU apps carry: src/cluster/conventions.ts gpuScheduling). */
export const GPU_TOLERATION: Toleration = { key: GPU_TAINT.key, operator: "Equal", value: GPU_TAINT.value, effect: GPU_TAINT.effect };

/**
 * Whether tolerations admit a taint: Kubernetes' matching (an empty key with Exists matches every
 * key, an empty effect every effect; Equal compares the value). PreferNoSchedule never keeps a pod
 * off a node, so it is always admitted.
 */
export function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  if (taint.effect === "PreferNoSchedule") return true;
  return tolerations.some(
    (t) =>
      (t.effect === undefined || t.effect === taint.effect) &&
      (t.key === undefined || t.key === taint.key) &&
      (t.operator === "Exists" ? true : (t.value ?? "") === (taint.value ?? "")) &&
      !(t.key === undefined && t.operator !== "Exists"),
  );
}

/**
 * democratic-csi's node DaemonSet tolerations: the GPU taint when the stack has a GPU node, so
 * GPU apps can mount TrueNAS claims there (chart democratic-csi-0.15.1 values.yaml:327
 * `node.tolerations: []`: without it no node plugin runs on a tainted node, kubelet finds no
 * registered driver, and the app's pod never starts). The same toleration Longhorn gets.
 */
export function democraticCsiNodeTolerations(hasGpuNode: boolean): Toleration[] {
  return hasGpuNode ? [GPU_TOLERATION] : [];
}

export interface NodePlugin {
  /** What must run on (or reach) the node for the volume to mount there. */
  readonly component: string;
  /** The taints it tolerates there, in toleration form. */
  readonly tolerations: readonly Toleration[];
}

/**
 * The node-side component of each StorageClass this program can install, with its tolerations:
 * - local-path (k3s): no node plugin; the provisioner's helper pod that creates the directory is
 *   bound to the node by spec.nodeName (rancher/local-path-provisioner v0.0.32 provisioner.go:669-671)
 *   and tolerates only disk-pressure (:606-611). A pod bound by nodeName skips the scheduler, which
 *   alone enforces NoSchedule (k8s.io/api core/v1 types.go TaintEffectNoSchedule: "allow all pods
 *   submitted to Kubelet without going through the scheduler to start"); NoExecute still evicts it.
 * - nfs-client (csi-driver-nfs): its node DaemonSet tolerates every taint (chart v4.12.0
 *   values.yaml `node.tolerations: [{operator: Exists}]`; nfsValues does not change it).
 * - longhorn: the GPU taint when the stack has a GPU node (longhornValues: manager, driver and
 *   `taintToleration`), nothing else.
 * - the TrueNAS classes (democratic-csi): democraticCsiNodeTolerations.
 * Undefined for a class this program does not install (a pinned class of the user's own).
 */
export function nodePluginOf(storageClass: string, hasGpuNode: boolean): NodePlugin | undefined {
  const gpuOnly = hasGpuNode ? [GPU_TOLERATION] : [];
  switch (storageClass) {
    case STORAGE_LOCAL:
      return {
        component: "k3s's local-path helper pod",
        tolerations: [
          { operator: "Exists", effect: "NoSchedule" },
          { operator: "Exists", effect: "PreferNoSchedule" },
        ],
      };
    case STORAGE_NFS:
      return { component: "csi-driver-nfs's node plugin", tolerations: [{ operator: "Exists" }] };
    case STORAGE_LONGHORN:
      return { component: "Longhorn's node components", tolerations: gpuOnly };
    case TRUENAS_CLASSES.nfs.storageClass:
    case TRUENAS_CLASSES.iscsi.storageClass:
      return {
        component: "democratic-csi's node plugin",
        tolerations: democraticCsiNodeTolerations(hasGpuNode),
      };
    default:
      return undefined;
  }
}
