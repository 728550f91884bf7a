// Renders a recorded plan: a readable tree, the JSON other tools read, a Mermaid graph, and the
// critical path. None of them can contain a secret value: inputs and outputs are masked by the
// recorder, and `assertNoSecrets` checks the final text against every known secret value.
import type { PlanResult } from "./run";
import { criticalPath, isClusterReady, stepSeconds, type CriticalPath } from "./graph";
import { SECRET_MASK, type RecordedResource } from "./recorder";

/** One resource of `plan --format json`. */
export interface PlanJsonResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | null;
  readonly dependencies: string[];
  readonly protect: boolean;
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: string[];
  /** Inputs with secret values as "[secret]". */
  readonly inputs: Record<string, unknown>;
  /** A custom resource has a provider; a component only groups children. */
  readonly custom: boolean;
  /** Provider reference, `urn::id` ("" for the default provider or a component). */
  readonly provider: string;
  /** Per top-level input, the resources whose outputs feed it. */
  readonly propertyDependencies: Record<string, string[]>;
  readonly aliases: RecordedResource["aliases"];
  readonly replaceOnChanges: string[];
  readonly retainOnDelete: boolean;
  readonly deletedWith: string;
  readonly replaceWith: string[];
  readonly hideDiffs: string[];
  readonly additionalSecretOutputs: string[];
  /** Paths of the secret inputs. */
  readonly secretPaths: string[];
  /** Per secret path, a digest of its value with every secret cut out (src/plan/secrets.ts). */
  readonly secretDigests: Record<string, string>;
  /** The `secure:` config keys whose value reaches the inputs. */
  readonly secretConfig: string[];
}

/** The JSON document of `plan --format json`; its shape is a contract with other tools. */
export interface PlanJson {
  readonly stack: string;
  readonly resources: PlanJsonResource[];
  readonly outputs: Record<string, unknown>;
  /** Per `secure:` config key, a digest of its ciphertext (never of a value or placeholder). */
  readonly secureConfig: Record<string, string>;
  /**
   * Per package, the names of the default providers the engine registers for it (`default_1_2_1`):
   * a package bump is a new default provider. Missing in plans written before it was recorded.
   */
  readonly defaultProviders?: Record<string, string[]>;
}

export function toPlanJson(plan: PlanResult): PlanJson {
  return {
    stack: plan.stack,
    resources: plan.resources.map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent,
      dependencies: r.dependencies,
      protect: r.protect,
      deleteBeforeReplace: r.deleteBeforeReplace,
      ignoreChanges: r.ignoreChanges,
      inputs: r.inputs,
      custom: r.custom,
      provider: r.provider,
      propertyDependencies: r.propertyDependencies,
      aliases: r.aliases,
      replaceOnChanges: r.replaceOnChanges,
      retainOnDelete: r.retainOnDelete,
      deletedWith: r.deletedWith,
      replaceWith: r.replaceWith,
      hideDiffs: r.hideDiffs,
      additionalSecretOutputs: r.additionalSecretOutputs,
      secretPaths: r.secretPaths,
      secretDigests: r.secretDigests,
      secretConfig: r.secretConfig,
    })),
    outputs: plan.outputs,
    secureConfig: plan.secureConfig ?? {},
    defaultProviders: plan.defaultProviders ?? {},
  };
}

function flags(r: RecordedResource): string {
  const f: string[] = [];
  if (r.protect) f.push("protect");
  if (r.deleteBeforeReplace) f.push("delete-before-replace");
  if (r.ignoreChanges.length > 0) f.push(`ignore-changes: ${r.ignoreChanges.join(", ")}`);
  if (r.secretPaths.length > 0) f.push(`secret: ${[...new Set(r.secretPaths.map((p) => p.split(/[.[]/)[0]))].join(", ")}`);
  return f.length > 0 ? `  [${f.join("; ")}]` : "";
}

/** A tree of resources by parent, each with its type and safety flags. */
export function toTree(plan: PlanResult): string {
  const children = new Map<string | null, RecordedResource[]>();
  for (const r of plan.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const customs = plan.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).length;
  const lines = [`stack ${plan.stack}: ${plan.resources.length} resources (${customs} to create)`];
  const walk = (parent: string, prefix: string) => {
    const kids = children.get(parent) ?? [];
    kids.forEach((r, i) => {
      const last = i === kids.length - 1;
      const deps = r.custom && r.dependencies.length > 0 ? `  (after ${r.dependencies.length})` : "";
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${r.name}  ${r.type}${deps}${flags(r)}`);
      walk(r.urn, prefix + (last ? "   " : "│  "));
    });
  };
  for (const root of children.get(null) ?? []) walk(root.urn, "");
  const outputs = Object.keys(plan.outputs).sort();
  if (outputs.length > 0) {
    lines.push("outputs:");
    for (const k of outputs) {
      const v = plan.outputs[k];
      lines.push(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    }
  }
  lines.push(...TREE_LEGEND);
  return `${lines.join("\n")}\n`;
}

/** What the tree's marks mean, printed under it. */
export const TREE_LEGEND: readonly string[] = [
  "legend:",
  "  N to create    resources a first `pulumi up` creates (components and providers not counted)",
  "  (after N)      the resource waits for N others it depends on",
  "  [protect]      `pulumi destroy` and replacements refuse it",
  "  [delete-before-replace]  a replacement deletes it first (its VMID or address cannot be held twice)",
  "  [ignore-changes: p]      edits of input p are not applied (kept from creation)",
  "  [secret: p]    input p is a Pulumi secret; its value is never printed",
  "  outputs        the stack outputs; plan stand-ins (plan-..., a deploy key marked NOT-A-REAL-KEY) where the real value only exists after `pulumi up`",
];

/**
 * What common Mermaid renderers accept by default: mermaid's own `maxEdges` (500) and
 * `maxTextSize` (50,000 characters); GitHub and the live editor refuse larger diagrams.
 */
export interface MermaidLimits {
  readonly maxEdges: number;
  readonly maxTextSize: number;
}
export const MERMAID_LIMITS: MermaidLimits = { maxEdges: 500, maxTextSize: 50_000 };

interface Flowchart {
  readonly lines: string[];
  readonly edges: number;
}

const size = (f: Flowchart) => f.lines.join("\n").length + 1;
const fits = (f: Flowchart, limits: MermaidLimits) => f.edges <= limits.maxEdges && size(f) <= limits.maxTextSize;

/**
 * A Mermaid flowchart: custom resources as nodes, grouped by component, edges for dependencies.
 * A graph over `limits` (a stack of a hundred VMs is) collapses to one node per component under
 * the stack, or, if that is still too large, one node per component type; a `%%` line under the
 * header says so and what was collapsed.
 */
export function toMermaid(plan: PlanResult, limits: MermaidLimits = MERMAID_LIMITS): string {
  const full = resourceFlowchart(plan);
  if (fits(full, limits)) return `${full.lines.join("\n")}\n`;
  const root = plan.resources.find((r) => r.parent === null)?.urn ?? null;
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r] as const));
  /** The component (or resource) directly under the stack that holds `r`. */
  const top = (r: RecordedResource): RecordedResource => {
    let x = r;
    while (x.parent !== null && x.parent !== root && byUrn.has(x.parent)) x = byUrn.get(x.parent)!;
    return x;
  };
  const short = (type: string) => type.split(":").pop() ?? type;
  const byComponent = groupedFlowchart(
    plan,
    (r) => top(r).urn,
    (t) => `${t.name}<br/><small>${short(t.type)}</small>`,
    top,
  );
  const byType = groupedFlowchart(
    plan,
    (r) => top(r).type,
    (t, n) => `${short(t.type)} ×${n}<br/><small>${t.type}</small>`,
    top,
  );
  const [chart, what] = fits(byComponent, limits) ? [byComponent, "components"] : [byType, "component types"];
  const note =
    `%% collapsed to ${what}: the full graph (${plan.resources.filter((r) => r.custom).length} custom resources, ${full.edges} dependencies, ${size(full)} characters) ` +
    `is over common renderers' limits (${limits.maxEdges} edges, ${limits.maxTextSize} characters); --format json lists every resource`;
  return `${[chart.lines[0], note, ...chart.lines.slice(1)].join("\n")}\n`;
}

function resourceFlowchart(plan: PlanResult): Flowchart {
  const ids = new Map(plan.resources.map((r, i) => [r.urn, `r${i}`] as const));
  const lines = ["flowchart LR"];
  const byParent = new Map<string | null, RecordedResource[]>();
  for (const r of plan.resources) byParent.set(r.parent, [...(byParent.get(r.parent) ?? []), r]);
  const label = (r: RecordedResource) => `${r.name}<br/><small>${r.type.split(":").pop()}</small>`.replace(/"/g, "'");
  const emit = (r: RecordedResource, indent: string) => {
    const kids = byParent.get(r.urn) ?? [];
    if (!r.custom && kids.length > 0) {
      lines.push(`${indent}subgraph ${ids.get(r.urn)}["${r.name}"]`);
      for (const k of kids) emit(k, `${indent}  `);
      lines.push(`${indent}end`);
    } else if (r.custom) {
      lines.push(`${indent}${ids.get(r.urn)}["${label(r)}"]`);
    }
  };
  for (const root of byParent.get(null) ?? []) for (const k of byParent.get(root.urn) ?? []) emit(k, "  ");
  let edges = 0;
  for (const r of plan.resources) {
    if (!r.custom) continue;
    for (const d of r.dependencies) {
      if (!ids.has(d)) continue;
      lines.push(`  ${ids.get(d)} --> ${ids.get(r.urn)}`);
      edges++;
    }
  }
  return { lines, edges };
}

/** One node per group of custom resources (`key`), labelled from the group's first top-level holder; one edge per pair of groups with a dependency between them. */
function groupedFlowchart(
  plan: PlanResult,
  key: (r: RecordedResource) => string,
  label: (top: RecordedResource, holders: number) => string,
  top: (r: RecordedResource) => RecordedResource,
): Flowchart {
  const customs = plan.resources.filter((r) => r.custom && r.parent !== null);
  const groups = new Map<string, { id: string; first: RecordedResource; holders: Set<string>; resources: number }>();
  for (const r of customs) {
    const k = key(r);
    let g = groups.get(k);
    if (!g) {
      g = { id: `c${groups.size}`, first: top(r), holders: new Set(), resources: 0 };
      groups.set(k, g);
    }
    g.holders.add(top(r).urn);
    g.resources++;
  }
  const lines = ["flowchart LR"];
  for (const g of groups.values())
    lines.push(`  ${g.id}["${`${label(g.first, g.holders.size)}<br/><small>${g.resources} resource${g.resources === 1 ? "" : "s"}</small>`.replace(/"/g, "'")}"]`);
  const byUrn = new Map(customs.map((r) => [r.urn, r] as const));
  const pairs = new Set<string>();
  for (const r of customs) {
    const to = groups.get(key(r))!.id;
    for (const d of r.dependencies) {
      const dep = byUrn.get(d);
      if (!dep) continue;
      const from = groups.get(key(dep))!.id;
      if (from !== to) pairs.add(`${from} --> ${to}`);
    }
  }
  for (const p of [...pairs].sort()) lines.push(`  ${p}`);
  return { lines, edges: pairs.size };
}

function describePath(title: string, path: CriticalPath): string[] {
  const lines = [`${title}: ${path.steps.length} steps, ~${Math.round(path.seconds / 60)} min (estimated)`];
  path.steps.forEach((s, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${s.name}  ${s.type}  ~${stepSeconds(s)}s`));
  return lines;
}

/** The longest chains to a ready cluster and to everything ready. */
export function toCriticalPath(plan: PlanResult): string {
  const lines: string[] = [];
  if (plan.resources.some(isClusterReady)) lines.push(...describePath("critical path to a ready cluster", criticalPath(plan.resources, isClusterReady)));
  lines.push(...describePath("critical path to everything ready", criticalPath(plan.resources)));
  return `${lines.join("\n")}\n`;
}

/**
 * The secret values the plan knows, unmasked: what must never be printed. That is the stack's
 * secret config values (`extra`), every secret input that is a plain string, every value a
 * provider returns as a secret string output, and the secret stack outputs. (Secret inputs and outputs
 * that are objects, like an SSH connection, are masked whole; their secret parts come from the sources above.)
 */
export function secretValues(plan: PlanResult, extra: readonly string[] = []): string[] {
  const values = new Set<string>();
  const collect = (v: unknown) => {
    if (typeof v === "string" && v.length >= 6) values.add(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(collect);
  };
  const at = (obj: unknown, path: string): unknown =>
    path
      .split(/\.|\[|\]/)
      .filter((p) => p !== "")
      .reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
  extra.forEach(collect);
  for (const r of plan.resources) {
    for (const p of r.secretPaths) {
      const v = at(r.rawInputs, p);
      if (typeof v === "string") collect(v);
    }
    for (const v of r.secretOutputValues) if (typeof v === "string") collect(v);
  }
  for (const [k, v] of Object.entries(plan.outputs)) if (v === SECRET_MASK) collect(plan.rawOutputs[k]);
  return [...values];
}

/** Throws when `text` contains any secret value of the plan. */
export function assertNoSecrets(plan: PlanResult, text: string, extra: readonly string[] = []): void {
  const leaked = secretValues(plan, extra).filter((s) => text.includes(s));
  if (leaked.length > 0) throw new Error(`refusing to print the plan: ${leaked.length} secret value(s) would appear in it`);
}
