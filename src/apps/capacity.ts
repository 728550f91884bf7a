// Config checks of what the enabled apps ask of the cluster against what the stack supplies: GPU
// slots on the GPU nodes, and the StorageClass an app's data is pinned to. Pure.
import type { AppConfig, StackConfig } from "../config/schema";
import { appDefinition } from "./custom";
import { customAppChecks } from "./customChecks";
import { usesGpu } from "./render";
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
