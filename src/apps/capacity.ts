// Config checks of what the enabled apps ask of the cluster against what the stack supplies: GPU
// slots on the GPU nodes, and the StorageClass an app's data is pinned to. Pure.
import { GPU_TAINT_STRING, gpuNodeLabels } from "../cluster/nvidia";
import type { AppConfig, StackConfig } from "../config/schema";
import { fileIndex } from "../config/model";
import { STORAGE_LOCAL, STORAGE_LONGHORN, STORAGE_NFS } from "../system/conventions";
import { TRUENAS_CLASSES } from "../system/democraticCsiRender";
import { nodePluginOf, parseTaint, tolerates, type Toleration } from "../system/nodePlugins";
import type { System } from "../system/types";
import { appDefinition } from "./custom";
import { customAppChecks } from "./customChecks";
import { checkValues, MEDIA_LIBRARY, storageClassFor, usesGpu } from "./render";
import type { AppDefinition } from "./types";

/** The definition of a stack's app entry (catalog or custom), or undefined when unknown or invalid (reported elsewhere). */
export function definitionOf(name: string, entry: AppConfig): AppDefinition | undefined {
  return customAppChecks(name, entry).length === 0 ? appDefinition(name, entry) : undefined;
}

/**
 * GPU demand against supply. Every GPU app requests one `nvidia.com/gpu` (the cluster layer's
 * convention), and a GPU node advertises `timeSlicingReplicas` of them (the device plugin without
 * a sharing config advertises one per physical GPU; each GPU node passes one GPU through). Every
 * GPU app selects any GPU node and the GPU apps roll out with Recreate, so the pods fit exactly
 * when the slots of all GPU nodes cover them. One pod too many stays Pending ("Insufficient
 * nvidia.com/gpu"), Flux retries the release, and `pulumi up` fails after the release timeout.
 */
export function gpuCapacityChecks(cfg: Pick<StackConfig, "apps" | "nodes" | "storage">): string[] {
  const gpuNodes = cfg.nodes.flatMap((n, i) => (n.role === "gpu" && n.gpu !== undefined ? [{ node: n, index: i, slots: n.gpu.timeSlicingReplicas }] : []));
  if (gpuNodes.length === 0) return []; // appChecks reports GPU apps without a GPU node
  const defs = new Map(Object.entries(cfg.apps).map(([name, entry]) => [name, definitionOf(name, entry)] as const));
  const wanting = Object.entries(cfg.apps)
    .filter(([name, entry]) => {
      const def = defs.get(name);
      return entry.enabled && def !== undefined && usesGpu(def, entry.gpu);
    })
    .map(([name]) => name)
    .sort();
  const supply = gpuNodes.reduce((sum, g) => sum + g.slots, 0);
  if (wanting.length <= supply) return [];

  const first = gpuNodes[0];
  const optional = wanting.filter((a) => defs.get(a)?.gpu === "optional");
  const offers =
    gpuNodes.length === 1
      ? `${first.node.name} offers ${supply} (timeSlicingReplicas ${first.slots}${first.slots === 1 ? ": no time-slicing" : ""})`
      : `the GPU nodes offer ${supply} (${gpuNodes.map((g) => `${g.node.name}: ${g.slots}`).join(", ")})`;
  const raise = first.slots + wanting.length - supply;
  const fixes = [
    `set nodes[${first.index}].gpu.timeSlicingReplicas: ${raise} on ${first.node.name} (the apps then take turns on the GPU and share its memory, without isolation)`,
    ...optional.map((a) => `remove apps.${a}.gpu`),
    "or disable an app",
  ];
  return [
    `nodes[${first.index}].gpu.timeSlicingReplicas (${first.node.name}): ${wanting.length} apps request a GPU (${wanting.join(", ")}) but ${offers}; the pods beyond ${supply} would stay Pending and \`pulumi up\` would fail after the release timeout; ${fixes.join(", ")}`,
  ];
}

/** A pinned apps.<name>.storageClass must exist in the stack and have a volume to apply to. */
export function storagePinChecks(cfg: Pick<StackConfig, "apps" | "nodes" | "storage">): string[] {
  const errors: string[] = [];
  for (const [name, entry] of Object.entries(cfg.apps)) {
    if (entry.storageClass === undefined) continue;
    const def = definitionOf(name, entry);
    if (def === undefined) continue;
    const path = `apps.${name}.storageClass`;
    if (!def.volumes.some((v) => v.kind === "data")) {
      errors.push(`${path}: ${name} keeps only database volumes, which always stay on local-path (SQLite and databases corrupt on NFS); remove storageClass`);
      continue;
    }
    if (entry.storageClass === "nfs-client" && !cfg.storage.nfs.enabled) {
      errors.push(`${path}: nfs-client needs storage.nfs.enabled: true; enable NFS or pin another class`);
    }
    const truenas = cfg.storage.truenas;
    for (const [cls, part] of [
      ["freenas-nfs-csi", "nfs"],
      ["freenas-iscsi-csi", "iscsi"],
    ] as const) {
      if (entry.storageClass === cls && !(truenas.enabled && truenas[part] !== undefined)) {
        errors.push(`${path}: ${cls} needs storage.truenas.enabled: true with storage.truenas.${part}; configure it or pin another class`);
      }
    }
    if (entry.storageClass === "longhorn" && !cfg.storage.longhorn.enabled) {
      errors.push(`${path}: longhorn needs storage.longhorn.enabled: true; enable Longhorn or pin another class (existing claims keep their class: move their data first)`);
    }
  }
  return errors;
}

/** The StorageClasses the system layer installs for a stack (src/system/index.ts storageClasses), by config alone. */
export function stackStorageClasses(cfg: Pick<StackConfig, "storage">): System["storageClasses"] {
  const tn = cfg.storage.truenas;
  return {
    local: STORAGE_LOCAL,
    ...(cfg.storage.nfs.enabled ? { nfs: STORAGE_NFS } : {}),
    ...(cfg.storage.longhorn.enabled ? { longhorn: STORAGE_LONGHORN } : {}),
    ...(tn.enabled && tn.nfs !== undefined ? { truenasNfs: TRUENAS_CLASSES.nfs.storageClass } : {}),
    ...(tn.enabled && tn.iscsi !== undefined ? { truenasIscsi: TRUENAS_CLASSES.iscsi.storageClass } : {}),
  };
}

type Values = Record<string, unknown>;
const isMap = (v: unknown): v is Values => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Where an app's pods may go, from its final values: the tolerations and nodeSelector at the top
 * level (charts built from `helm create`, Ollama), under app-template's `defaultPodOptions`, and
 * under each app-template controller's `pod`.
 */
export function podPlacement(values: Values): { tolerations: Toleration[]; nodeSelector: Record<string, string> } {
  const scopes: Values[] = [values];
  if (isMap(values.defaultPodOptions)) scopes.push(values.defaultPodOptions);
  if (isMap(values.controllers)) for (const c of Object.values(values.controllers)) if (isMap(c) && isMap(c.pod)) scopes.push(c.pod);
  const tolerations = scopes.flatMap((v) => (Array.isArray(v.tolerations) ? (v.tolerations as Toleration[]) : []));
  const nodeSelector = Object.assign({}, ...scopes.map((v) => (isMap(v.nodeSelector) ? v.nodeSelector : {}))) as Record<string, string>;
  return { tolerations, nodeSelector };
}

/**
 * Every app whose pods can land on a tainted node (they tolerate its NoSchedule and NoExecute
 * taints and their nodeSelector matches its labels: the GPU apps on the GPU nodes, or an app the
 * stack's `values` give tolerations) must find there, for each of its volumes' StorageClasses, the
 * node-side component that class needs, tolerating each of those taints (src/system/nodePlugins.ts).
 * Otherwise kubelet finds no registered CSI driver (or the local-path helper pod is evicted), the
 * pod stays ContainerCreating, and the release times out after a long `pulumi up`. Volumes the
 * chart claims itself count too; a class this program does not install is not judged.
 */
export function nodePluginChecks(cfg: Pick<StackConfig, "apps" | "nodes" | "storage">): string[] {
  const hasGpuNode = cfg.nodes.some((n) => n.role === "gpu");
  const classes = stackStorageClasses(cfg);
  const nodes = cfg.nodes.map((n, i) => {
    const gpu = n.role === "gpu" && n.gpu !== undefined;
    const taints = [...new Set([...n.taints, ...(gpu ? [GPU_TAINT_STRING] : [])])].map(parseTaint).filter((t) => t.effect !== "PreferNoSchedule");
    return { node: n, at: `nodes[${fileIndex(n, i)}] (${n.name})`, taints, labels: { ...n.labels, ...(gpu ? gpuNodeLabels(n.gpu!) : {}) } };
  });
  const errors: string[] = [];
  for (const [name, entry] of Object.entries(cfg.apps)) {
    if (!entry.enabled) continue;
    const def = definitionOf(name, entry);
    if (def === undefined) continue;
    const { tolerations, nodeSelector } = podPlacement(checkValues(name, def, entry));
    const volumes = [
      ...def.volumes.map((v) => ({ claim: `${name}-${v.name}`, storageClass: storageClassFor(v.kind, classes, entry.storageClass) })),
      ...(def.mediaLibrary && (classes.nfs ?? classes.truenasNfs) !== undefined ? [{ claim: MEDIA_LIBRARY.claim, storageClass: (classes.nfs ?? classes.truenasNfs)! }] : []),
    ];
    for (const n of nodes) {
      if (n.taints.length === 0) continue;
      const placed = n.taints.every((t) => tolerates(tolerations, t)) && Object.entries(nodeSelector).every(([k, v]) => n.labels[k] === v);
      if (!placed) continue;
      for (const v of volumes) {
        const plugin = nodePluginOf(v.storageClass, hasGpuNode);
        if (plugin === undefined) continue;
        const missing = n.taints.filter((t) => !tolerates(plugin.tolerations, t)).map((t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ""}:${t.effect}`);
        if (missing.length === 0) continue;
        errors.push(
          `apps.${name}: runs on ${n.at} with its claim ${v.claim} on ${v.storageClass}, but ${plugin.component} does not tolerate ${missing.join(", ")} there: the volume cannot be mounted and the release would time out; remove that taint from ${n.at}${v.storageClass !== STORAGE_LOCAL && v.claim !== MEDIA_LIBRARY.claim ? `, or pin apps.${name}.storageClass to a class whose node plugin runs there (${STORAGE_NFS} tolerates every taint)` : ""}`,
        );
      }
    }
  }
  return errors;
}
