// The offline diff: two plan JSON documents in, what `pulumi up` would do to each resource out.
// Pure: no I/O, no SDK. It follows the engine's step generator (pulumi/pulumi
// pkg/resource/deploy/step_generator.go): identity by URN and aliases, then forced replacements (a
// replaced provider, `replaceWith`), then the provider's diff from the replace tables, then the
// `replaceOnChanges` option, then the cascade of delete-first replacements through property
// dependencies. Blockers and warnings are in diffNotices.ts.
import { engineUrn, ROOT_STACK_TYPE, urnUnder, type AliasRecord } from "../lib/pulumiInternals";
import { blockersAndWarnings } from "./diffNotices";
import type { PlanJson, PlanJsonResource } from "./format";
import { SECRET_MASK } from "./recorder";
import { inputCanForceReplacement, pathSegments, propertyRule, providerDeletesFirst, type Confidence } from "./replaceRules";

export type Op = "create" | "update" | "replace" | "delete" | "same";
export const OPS: readonly Op[] = ["create", "update", "replace", "delete", "same"];

export interface PropertyChange {
  readonly path: string;
  readonly old: unknown;
  readonly new: unknown;
  readonly forcesReplacement: boolean;
  /** A secret input whose non-secret rest changed: shown only as "changed". */
  readonly secret?: boolean;
}

export interface ResourceChange {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly op: Op;
  readonly reasons: string[];
  readonly properties: PropertyChange[];
  readonly confidence: Confidence;
  /** metal, cluster, system, platform, apps (or stack): where the markdown groups it. */
  readonly layer: string;
  /** The URN in the base plan when an alias matched it. */
  readonly oldUrn?: string;
  /** For a replace: the old object goes first. */
  readonly deleteBeforeReplace?: boolean;
}

export interface Notice {
  readonly urn: string;
  readonly message: string;
}

export interface StackDiff {
  readonly stack: string;
  readonly summary: Record<Op, number>;
  readonly changes: ResourceChange[];
  readonly blockers: Notice[];
  readonly warnings: Notice[];
}

export interface DiffDocument {
  readonly stacks: StackDiff[];
}

/** The provider of a resource in an older plan JSON that did not record providers. */
export const PROVIDER_NOT_RECORDED = "[not recorded]";

/** How the reason of a replacement forced by its replaced provider starts. */
export const PROVIDER_REPLACED = "its provider";

/** Placeholder for an input the engine re-computes from a replaced resource. */
export const KNOWN_AFTER_REPLACE = "[known after the replacement]";

const RANK: Record<Confidence, number> = { advisory: 0, table: 1, exact: 2 };
const weakest = (cs: Confidence[]): Confidence => cs.reduce<Confidence>((a, c) => (RANK[c] < RANK[a] ? c : a), "exact");
const strongest = (cs: Confidence[]): Confidence => cs.reduce<Confidence>((a, c) => (RANK[c] > RANK[a] ? c : a), "advisory");

interface UrnParts {
  stack: string;
  project: string;
  qualifiedType: string;
  type: string;
  name: string;
}

export function parseUrn(urn: string): UrnParts {
  const parts = urn.split("::");
  const qualifiedType = parts[2] ?? "";
  return {
    stack: (parts[0] ?? "").replace(/^urn:pulumi:/, ""),
    project: parts[1] ?? "",
    qualifiedType,
    type: qualifiedType.split("$").pop() ?? "",
    name: parts.slice(3).join("::"),
  };
}

const providerUrnOf = (ref: string): string => (ref ? ref.split("::").slice(0, -1).join("::") : "");

/** The layer a resource belongs to: the first `homelab:<layer>:` component above it, else its package. */
export function layerOf(urn: string): string {
  const q = parseUrn(urn).qualifiedType;
  const m = /(?:^|\$)homelab:([a-z]+):/.exec(q);
  if (m) return m[1];
  if (/^(pulumi:providers:)?proxmoxve/.test(q)) return "metal";
  if (/^(command|random|tls):/.test(q)) return "cluster";
  if (q.startsWith("kubernetes:")) return "apps";
  return "stack";
}

// ---- property diff ------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!equal(a[k], b[k])) return false;
    return true;
  }
  return false;
}

function joinPath(path: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}["${key.replace(/"/g, '\\"')}"]`;
}

/** Changed leaves, objects key by key and arrays index by index (as pulumi-kubernetes' patch converter does). */
export function changedLeaves(a: unknown, b: unknown, path = "", out: { path: string; old: unknown; new: unknown }[] = []): { path: string; old: unknown; new: unknown }[] {
  if (equal(a, b)) return out;
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) changedLeaves(a[k], b[k], joinPath(path, k), out);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) changedLeaves(a[i], b[i], `${path}[${i}]`, out);
  } else {
    out.push({ path, old: a ?? null, new: b ?? null });
  }
  return out;
}

const ignored = (path: string, ignoreChanges: readonly string[]): boolean => {
  const p = pathSegments(path);
  return ignoreChanges.some((ig) => {
    const s = pathSegments(ig);
    return s.length <= p.length && s.every((x, i) => x === p[i] || x === "*" || p[i] === "*");
  });
};

// ---- identity -----------------------------------------------------------------------------------

/**
 * The URNs a head resource may have had, in the engine's order: its own, its aliases completed
 * against its identity (`collapseAliasToUrn`), and the aliases inherited from a parent that was
 * itself found through an alias (`inheritedChildAlias`).
 */
function candidateUrns(h: PlanJsonResource, aliasOf: ReadonlyMap<string, string>): string[] {
  const me = parseUrn(h.urn);
  const parent = h.parent ?? "";
  const collapse = (a: AliasRecord): string => {
    if ("urn" in a) return a.urn;
    let p = a.parentUrn ? (aliasOf.get(a.parentUrn) ?? a.parentUrn) : parent;
    if (a.noParent || (p && parseUrn(p).qualifiedType === ROOT_STACK_TYPE)) p = "";
    return engineUrn(a.stack || me.stack, a.project || me.project, p, a.type || me.type, a.name || me.name);
  };
  const out = [h.urn, ...h.aliases.map(collapse)];
  const parentAlias = parent ? aliasOf.get(parent) : undefined;
  if (parentAlias) {
    const parentName = parseUrn(parent).name;
    const pa = parseUrn(parentAlias);
    const inherited = (type: string, name: string) =>
      urnUnder(me.stack, me.project, pa.qualifiedType, type, name.startsWith(parentName) ? pa.name + name.slice(parentName.length) : name);
    out.push(inherited(me.type, me.name));
    for (const a of h.aliases) {
      const c = parseUrn(collapse(a));
      out.push(inherited(c.type, c.name));
    }
  }
  return [...new Set(out)];
}

// ---- the diff -----------------------------------------------------------------------------------

interface Replaced {
  readonly deleteFirst: boolean;
  readonly name: string;
}

export function diffPlans(base: PlanJson, head: PlanJson, stack = head.stack): StackDiff {
  const baseByUrn = new Map(base.resources.map((r) => [r.urn, r] as const));
  const aliasOf = new Map<string, string>();
  const matched = new Map<string, PlanJsonResource>();
  const claimed = new Set<string>();
  // The engine fails the preview when two resources claim one old URN (getOldResource:
  // GetDuplicateResourceAliasError, GetDuplicateResourceAliasedError); the first claimant keeps it here.
  const aliasedBy = new Map<string, string>();
  const registered = new Set<string>();
  const duplicates: Notice[] = [];
  for (const h of head.resources) {
    const by = aliasedBy.get(h.urn);
    if (by !== undefined)
      duplicates.push({
        urn: h.urn,
        message: `${h.name} registers ${h.urn}, which ${parseUrn(by).name} already claims through an alias: pulumi preview and up fail ("Duplicate resource URN ... conflicting with alias on resource with URN ...", the engine's getOldResource); drop that alias, or rename one of them`,
      });
    registered.add(h.urn);
    const candidates = candidateUrns(h, aliasOf);
    // The engine takes the first candidate it finds, claimed or not.
    const first = candidates.find((c) => baseByUrn.has(c));
    if (first !== undefined && first !== h.urn) {
      const rival = aliasedBy.get(first) ?? (registered.has(first) ? first : undefined);
      if (rival !== undefined)
        duplicates.push({
          urn: h.urn,
          message: `${h.name} claims the old ${baseByUrn.get(first)!.name} (${first}) through an alias, which ${parseUrn(rival).name} already holds: pulumi preview and up fail ("Duplicate resource alias ... conflicting with resource with URN ...", the engine's getOldResource); keep the alias on one resource only`,
        });
      aliasedBy.set(first, h.urn);
    }
    for (const c of candidates) {
      const b = baseByUrn.get(c);
      if (b && !claimed.has(c)) {
        claimed.add(c);
        matched.set(h.urn, b);
        if (c !== h.urn) aliasOf.set(h.urn, c);
        break;
      }
    }
  }
  const headNames = new Map(head.resources.map((r) => [r.urn, r.name] as const));
  const replaced = new Map<string, Replaced>();
  const changes: ResourceChange[] = [];
  const rotated = new Set(Object.keys(head.secureConfig ?? {}).filter((k) => base.secureConfig?.[k] !== undefined && base.secureConfig[k] !== head.secureConfig[k]));

  for (const h of head.resources) {
    const b = matched.get(h.urn);
    const common = { urn: h.urn, type: h.type, name: h.name, layer: layerOf(h.urn), ...(aliasOf.has(h.urn) ? { oldUrn: aliasOf.get(h.urn) } : {}) };
    if (!b) {
      changes.push({ ...common, op: "create", reasons: [], properties: [], confidence: "exact" });
      continue;
    }
    const c = compare(b, h, { replaced, rotated, aliasOf, headNames });
    if (c.op === "replace") replaced.set(h.urn, { deleteFirst: c.deleteBeforeReplace === true, name: h.name });
    changes.push({ ...common, ...c });
  }
  for (const b of [...base.resources].reverse()) {
    if (claimed.has(b.urn)) continue;
    const reasons: string[] = [];
    if (b.retainOnDelete) reasons.push("removed from state, kept: retainOnDelete leaves the object where it is");
    if (b.deletedWith && baseByUrn.has(b.deletedWith) && !claimed.has(b.deletedWith))
      reasons.push(`deleted with ${baseByUrn.get(b.deletedWith)!.name} (no delete call of its own)`);
    changes.push({ urn: b.urn, type: b.type, name: b.name, layer: layerOf(b.urn), op: "delete", reasons, properties: [], confidence: "exact" });
  }
  const summary = Object.fromEntries(OPS.map((op) => [op, changes.filter((c) => c.op === op).length])) as Record<Op, number>;
  const { blockers, warnings } = blockersAndWarnings({ base, head, changes, matched, rotated });
  return { stack, summary, changes, blockers: [...duplicates, ...blockers], warnings };
}

interface Context {
  readonly replaced: ReadonlyMap<string, Replaced>;
  readonly rotated: ReadonlySet<string>;
  readonly aliasOf: ReadonlyMap<string, string>;
  readonly headNames: ReadonlyMap<string, string>;
}

type Verdict = Pick<ResourceChange, "op" | "reasons" | "properties" | "confidence" | "deleteBeforeReplace">;

function compare(b: PlanJsonResource, h: PlanJsonResource, ctx: Context): Verdict {
  const properties: PropertyChange[] = [];
  const forcing: { reason: string; confidence: Confidence }[] = [];
  const updating: Confidence[] = [];
  const reasons: string[] = [];
  const secretPaths = new Set([...h.secretPaths, ...b.secretPaths]);

  for (const leaf of changedLeaves(b.inputs, h.inputs)) {
    if (ignored(leaf.path, h.ignoreChanges)) continue;
    const rule = propertyRule(h.type, leaf.path, h.inputs, h.replaceOnChanges);
    properties.push({ path: leaf.path, old: leaf.old, new: leaf.new, forcesReplacement: rule.forcesReplacement && h.custom });
    if (rule.forcesReplacement && h.custom) forcing.push({ reason: `${leaf.path} changed${rule.note ? ` (${rule.note})` : ""}`, confidence: rule.confidence });
    else updating.push(h.custom ? rule.confidence : "exact");
  }
  // A secret input is masked on both sides: its digest (with every secret cut out) tells a change.
  for (const p of [...secretPaths].sort()) {
    if (ignored(p, h.ignoreChanges)) continue;
    const o = b.secretDigests[p];
    const n = h.secretDigests[p];
    if (o === undefined || n === undefined || o === n || properties.some((x) => x.path === p)) continue;
    const rule = propertyRule(h.type, p, h.inputs, h.replaceOnChanges);
    properties.push({ path: p, old: SECRET_MASK, new: SECRET_MASK, forcesReplacement: rule.forcesReplacement, secret: true });
    if (rule.forcesReplacement) forcing.push({ reason: `${p} changed (a secret input)`, confidence: rule.confidence });
    else updating.push(rule.confidence);
  }
  // A `secure:` value whose ciphertext changed may hold a new value: every input it reaches may change.
  const rotatedKeys = h.secretConfig.filter((k) => ctx.rotated.has(k));
  if (rotatedKeys.length > 0 && h.custom) {
    const paths = h.secretPaths.filter((p) => !properties.some((x) => x.path === p));
    for (const p of paths) {
      const rule = propertyRule(h.type, p, h.inputs, h.replaceOnChanges);
      properties.push({ path: p, old: SECRET_MASK, new: SECRET_MASK, forcesReplacement: rule.forcesReplacement, secret: true });
      if (rule.forcesReplacement) forcing.push({ reason: `${p} may have changed: ${rotatedKeys.join(", ")} possibly rotated`, confidence: "advisory" });
      else updating.push("advisory");
    }
    reasons.push(`${rotatedKeys.join(", ")}: ciphertext changed (possibly rotated)`);
  }

  if (h.custom) {
    // Forced before the provider is asked: a replaced or changed provider, a replaceWith target.
    const prov = providerUrnOf(h.provider);
    const oldProv = providerUrnOf(b.provider);
    const provReplaced = ctx.replaced.get(prov);
    if (provReplaced) forcing.push({ reason: `${PROVIDER_REPLACED} ${provReplaced.name} is replaced (every resource of a replaced provider is)`, confidence: "exact" });
    // A plan from before providers were recorded says nothing about them: no change to infer.
    else if (b.provider !== PROVIDER_NOT_RECORDED && prov !== oldProv && ctx.aliasOf.get(prov) !== oldProv)
      forcing.push({
        reason: `its provider changed from ${oldProv ? parseUrn(oldProv).name : "the default"} to ${prov ? parseUrn(prov).name : "the default"}`,
        confidence: "exact",
      });
    for (const t of h.replaceWith) {
      const r = ctx.replaced.get(t);
      if (r) forcing.push({ reason: `replaceWith: ${r.name} is replaced`, confidence: "exact" });
    }
    // The cascade: inputs fed by a replaced resource are re-computed.
    for (const [key, deps] of Object.entries(h.propertyDependencies).sort(([x], [y]) => x.localeCompare(y))) {
      if (ignored(key, h.ignoreChanges)) continue;
      for (const d of deps) {
        const r = ctx.replaced.get(d);
        if (!r) continue;
        if (r.deleteFirst && inputCanForceReplacement(h.type, key, h.inputs, h.replaceOnChanges)) {
          forcing.push({ reason: `${r.name} is replaced delete-first and its outputs feed ${key}, an input that forces replacement (the engine's cascade)`, confidence: "table" });
        } else if (!properties.some((p) => pathSegments(p.path)[0] === key)) {
          properties.push({ path: key, old: b.inputs[key] ?? null, new: KNOWN_AFTER_REPLACE, forcesReplacement: false });
          updating.push("advisory");
          reasons.push(`${key} comes from ${r.name}, which is replaced: it changes if the new one reports other outputs`);
        }
        break;
      }
    }
  }

  if (forcing.length > 0) {
    const deleteBeforeReplace = h.deleteBeforeReplace || providerDeletesFirst(h.type, h.inputs);
    return { op: "replace", reasons: [...forcing.map((f) => f.reason), ...reasons], properties, confidence: strongest(forcing.map((f) => f.confidence)), deleteBeforeReplace };
  }
  if (properties.length > 0) {
    const shown = properties.map((p) => p.path);
    return {
      op: "update",
      reasons: reasons.length > 0 ? reasons : [`changed: ${shown.slice(0, 4).join(", ")}${shown.length > 4 ? `, and ${shown.length - 4} more` : ""}`],
      properties,
      confidence: weakest(updating),
    };
  }
  return { op: "same", reasons: [], properties: [], confidence: "exact" };
}

/**
 * A plan JSON document as this version reads it: fields added since (options, digests) get their
 * defaults, and URNs recorded under Pulumi's mock runtime (parent's last type segment only, a stack
 * prefix) are rebuilt as the engine builds them, from each resource's parent, type and name.
 */
export function normalizePlan(doc: PlanJson): PlanJson {
  const rename = new Map<string, string>();
  const resources = doc.resources.map((r) => {
    const parent = r.parent ? (rename.get(r.parent) ?? r.parent) : null;
    const u = parseUrn(r.urn);
    const urn = engineUrn(u.stack, u.project, parent ?? "", r.type, r.name);
    rename.set(r.urn, urn);
    return { ...r, urn, parent };
  });
  const map = (u: string) => rename.get(u) ?? u;
  const mapRef = (ref: string) => {
    if (!ref) return ref;
    const i = ref.lastIndexOf("::");
    return `${map(ref.slice(0, i))}${ref.slice(i)}`;
  };
  return {
    stack: doc.stack,
    outputs: doc.outputs ?? {},
    secureConfig: doc.secureConfig ?? {},
    resources: resources.map((r) => ({
      ...r,
      dependencies: (r.dependencies ?? []).map(map),
      custom: r.custom ?? !/^homelab:|^pulumi:pulumi:Stack$/.test(r.type),
      provider: r.provider === undefined ? PROVIDER_NOT_RECORDED : mapRef(r.provider),
      propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([k, v]) => [k, v.map(map)])),
      aliases: r.aliases ?? [],
      replaceOnChanges: r.replaceOnChanges ?? (r.type === "command:remote:Command" ? ["triggers[*]"] : []),
      retainOnDelete: r.retainOnDelete ?? false,
      deletedWith: map(r.deletedWith ?? ""),
      replaceWith: (r.replaceWith ?? []).map(map),
      hideDiffs: r.hideDiffs ?? [],
      additionalSecretOutputs: r.additionalSecretOutputs ?? [],
      secretPaths: r.secretPaths ?? [],
      secretDigests: r.secretDigests ?? {},
      secretConfig: r.secretConfig ?? [],
    })),
  };
}
