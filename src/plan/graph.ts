// Graph queries over a recorded plan: effective dependencies between real (custom) resources and
// the critical path, the longest chain of work from nothing to a target.
import type { RecordedResource } from "./recorder";

/**
 * Rough seconds each kind of step takes on a homelab, to weigh chains. Estimates for ranking
 * chains, not promises: a VM clone, a cloud-init first boot and a Helm install dominate.
 */
export const STEP_SECONDS: Record<string, number> = {
  "proxmoxve:download/file:File": 120,
  "proxmoxve:index/fileLegacy:FileLegacy": 3,
  "proxmoxve:index/vmLegacy:VmLegacy": 60,
  "proxmoxve:hardware/mapping/pci:Pci": 2,
  "command:remote:Command": 45,
  "kubernetes:helm.sh/v3:Release": 90,
};
const DEFAULT_STEP_SECONDS = 5;

export function stepSeconds(r: RecordedResource): number {
  if (!r.custom) return 0;
  if (r.type.startsWith("pulumi:providers:")) return 0;
  return STEP_SECONDS[r.type] ?? DEFAULT_STEP_SECONDS;
}

/**
 * For each resource, the custom resources it waits for. A dependency on a component stands for
 * every custom resource under it (the engine waits for them all).
 */
export function effectiveDependencies(resources: readonly RecordedResource[]): Map<string, string[]> {
  const byUrn = new Map(resources.map((r) => [r.urn, r] as const));
  const children = new Map<string, string[]>();
  for (const r of resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
  const leavesCache = new Map<string, string[]>();
  const leaves = (urn: string): string[] => {
    const cached = leavesCache.get(urn);
    if (cached) return cached;
    const r = byUrn.get(urn);
    let out: string[];
    if (!r) out = [];
    else if (r.custom) out = [urn];
    else out = (children.get(urn) ?? []).flatMap(leaves);
    leavesCache.set(urn, out);
    return out;
  };
  const deps = new Map<string, string[]>();
  for (const r of resources) {
    const set = new Set<string>();
    for (const d of r.dependencies) for (const l of leaves(d)) if (l !== r.urn) set.add(l);
    // A provider resource is configured before anything that uses it.
    if (r.provider) {
      const providerUrn = r.provider.split("::").slice(0, -1).join("::");
      if (byUrn.has(providerUrn)) set.add(providerUrn);
    }
    deps.set(r.urn, [...set].sort());
  }
  return deps;
}

export interface CriticalPath {
  /** The chain, first step first. */
  readonly steps: RecordedResource[];
  /** Sum of the steps' estimated seconds. */
  readonly seconds: number;
}

/**
 * The heaviest chain of custom resources ending at one of `targets` (every resource when no
 * target matches). Ties break on step count, then on URN, so the answer is deterministic.
 */
export function criticalPath(resources: readonly RecordedResource[], isTarget: (r: RecordedResource) => boolean = () => true): CriticalPath {
  const deps = effectiveDependencies(resources);
  const byUrn = new Map(resources.map((r) => [r.urn, r] as const));
  const best = new Map<string, { seconds: number; count: number; prev: string | undefined }>();
  const visiting = new Set<string>();
  const solve = (urn: string): { seconds: number; count: number; prev: string | undefined } => {
    const known = best.get(urn);
    if (known) return known;
    if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
    visiting.add(urn);
    let pick: { seconds: number; count: number; prev: string | undefined } = { seconds: 0, count: 0, prev: undefined };
    for (const d of deps.get(urn) ?? []) {
      const s = solve(d);
      if (s.seconds > pick.seconds || (s.seconds === pick.seconds && (s.count > pick.count || (s.count === pick.count && pick.prev !== undefined && d < pick.prev)))) {
        pick = { seconds: s.seconds, count: s.count, prev: d };
      }
    }
    visiting.delete(urn);
    // A dependency outside the recorded graph counts as a zero-second step.
    const r = byUrn.get(urn);
    const result = { seconds: pick.seconds + (r ? stepSeconds(r) : 0), count: pick.count + (r?.custom ? 1 : 0), prev: pick.prev };
    best.set(urn, result);
    return result;
  };
  const customs = resources.filter((r) => r.custom);
  const targets = customs.filter(isTarget);
  let end: string | undefined;
  let endScore = { seconds: -1, count: -1 };
  for (const t of targets.length > 0 ? targets : customs) {
    const s = solve(t.urn);
    if (s.seconds > endScore.seconds || (s.seconds === endScore.seconds && s.count > endScore.count)) {
      end = t.urn;
      endScore = s;
    }
  }
  const steps: RecordedResource[] = [];
  for (let cur = end; cur !== undefined; cur = best.get(cur)?.prev) {
    const step = byUrn.get(cur);
    if (step) steps.unshift(step);
  }
  return { steps: steps.filter((s) => s.custom), seconds: Math.max(endScore.seconds, 0) };
}

/** The target "a ready cluster": the Kubernetes provider, built from the kubeconfig read after the servers are Ready. */
export const isClusterReady = (r: RecordedResource): boolean => r.type === "pulumi:providers:kubernetes";
