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

/** The head inputs as the engine diffs them: a top-level input in `ignoreChanges` keeps its old value (`processIgnoreChanges`). */
function effectiveInputs(b: PlanJsonResource, h: PlanJsonResource): Record<string, unknown> {
  const out = { ...h.inputs };
  for (const ig of h.ignoreChanges) {
    const s = pathSegments(ig);
    if (s.length === 1 && s[0] !== "*") {
      if (s[0] in b.inputs) out[s[0]] = b.inputs[s[0]];
      else delete out[s[0]];
    }
  }
  return out;
}

export function diffPlans(base: PlanJson, head: PlanJson, stack = head.stack): StackDiff {
  const baseByUrn = new Map(base.resources.map((r) => [r.urn, r] as const));
  const headByUrn = new Map(head.resources.map((r) => [r.urn, r] as const));
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
  const replacedOld = new Map<string, Replaced>();
  const changes: ResourceChange[] = [];
  const cascadeBlockers: Notice[] = [];
  const rotated = new Set(Object.keys(head.secureConfig ?? {}).filter((k) => base.secureConfig?.[k] !== undefined && base.secureConfig[k] !== head.secureConfig[k]));
  const ctx: Context = { replaced, replacedOld, rotated, aliasOf, headNames, baseByUrn, headByUrn };

  for (const h of head.resources) {
    const b = matched.get(h.urn);
    const common = { urn: h.urn, type: h.type, name: h.name, layer: layerOf(h.urn), ...(aliasOf.has(h.urn) ? { oldUrn: aliasOf.get(h.urn) } : {}) };
    if (!b) {
      changes.push({ ...common, op: "create", reasons: [], properties: [], confidence: "exact" });
      continue;
    }
    const c = compare(b, h, ctx);
    if (c.op === "replace") {
      const r = { deleteFirst: c.deleteBeforeReplace === true, name: h.name };
      replaced.set(h.urn, r);
      replacedOld.set(b.urn, r);
      // calculateDependentReplacements bails when a dependent it must replace is protected in the
      // state (step_generator.go:1990); the protect blocker of diffNotices covers one protected on both sides.
      if (c.cascadeRoot && b.protect && !h.protect)
        cascadeBlockers.push({
          urn: h.urn,
          message: `${h.name} is protected in the state and would be replaced as part of replacing ${c.cascadeRoot} (delete-first): pulumi up will refuse; undo the change, or set protect: false in one run and replace it in the next`,
        });
    }
    const { cascadeRoot: _root, ...verdict } = c;
    changes.push({ ...common, ...verdict });
  }
  for (const b of [...base.resources].reverse()) {
    if (claimed.has(b.urn)) continue;
    const reasons: string[] = [];
    if (b.retainOnDelete) reasons.push("removed from state, kept: retainOnDelete leaves the object where it is");
    if (b.deletedWith && baseByUrn.has(b.deletedWith) && !claimed.has(b.deletedWith))
      reasons.push(`deleted with ${baseByUrn.get(b.deletedWith)!.name} (no delete call of its own)`);
    changes.push({ urn: b.urn, type: b.type, name: b.name, layer: layerOf(b.urn), op: "delete", reasons, properties: [], confidence: "exact" });
  }
  const { blockers, warnings } = blockersAndWarnings({ base, head, changes, matched, rotated });
  changes.push(...defaultProviderChanges(base, head));
  const summary = Object.fromEntries(OPS.map((op) => [op, changes.filter((c) => c.op === op).length])) as Record<Op, number>;
  return {
    stack,
    summary,
    changes,
    blockers: [...duplicates, ...cascadeBlockers, ...blockers],
    warnings: [...warnings, ...providerMoveWarnings(changes, matched, headByUrn, baseByUrn)],
  };
}

/**
 * The default providers a package bump swaps: the engine registers `default_<new version>`, moves
 * the package's resources to it and deletes the old one at the end. Whether a resource is replaced
 * is the new provider's DiffConfig (providerChanged): a default provider's configuration is the
 * stack's `<package>:*` config without `version` (providers.FilterProviderConfig), unchanged by a
 * bump, so none is. Plans from before the record (no `defaultProviders`) infer nothing.
 */
function defaultProviderChanges(base: PlanJson, head: PlanJson): ResourceChange[] {
  if (!base.defaultProviders || !head.defaultProviders) return [];
  const root = parseUrn(head.resources.find((r) => r.type === ROOT_STACK_TYPE)?.urn ?? base.resources.find((r) => r.type === ROOT_STACK_TYPE)?.urn ?? "");
  const out: ResourceChange[] = [];
  const change = (pkg: string, name: string, op: Op, reason: string): ResourceChange => {
    const type = `pulumi:providers:${pkg}`;
    return { urn: engineUrn(root.stack, root.project, "", type, name), type, name, layer: layerOf(type), op, reasons: [reason], properties: [], confidence: "exact" };
  };
  for (const pkg of [...new Set([...Object.keys(base.defaultProviders), ...Object.keys(head.defaultProviders)])].sort()) {
    const [was, now] = [base.defaultProviders[pkg] ?? [], head.defaultProviders[pkg] ?? []];
    const gone = was.filter((n) => !now.includes(n));
    const added = now.filter((n) => !was.includes(n));
    const moved = gone.length > 0 && added.length > 0;
    for (const n of added)
      out.push(
        change(
          pkg,
          n,
          "create",
          moved
            ? `the default provider of the new ${pkg} package (was ${gone.join(", ")}): its resources move to it; its configuration is the old one's, so its DiffConfig replaces none of them`
            : `the default provider of ${pkg}, whose first resource this change adds`,
        ),
      );
    for (const n of gone) out.push(change(pkg, n, "delete", moved ? `replaced by ${added.join(", ")} (a ${pkg} package bump)` : `no resource uses the ${pkg} package any more`));
  }
  return out;
}

/**
 * Objects that moved to a new Kubernetes provider without a replacement (its DiffConfig saw the same
 * clusterIdentifier): a stack whose state keeps an older clusterIdentifier (the program ignores
 * changes to it, for stacks made before the identity existed) gets another verdict from the real
 * DiffConfig, which compares the old provider's state with the new provider's inputs.
 */
function providerMoveWarnings(
  changes: readonly ResourceChange[],
  matched: ReadonlyMap<string, PlanJsonResource>,
  headByUrn: ReadonlyMap<string, PlanJsonResource>,
  baseByUrn: ReadonlyMap<string, PlanJsonResource>,
): Notice[] {
  const moved = new Map<string, { from: PlanJsonResource; n: number }>();
  for (const c of changes) {
    const h = headByUrn.get(c.urn);
    const b = matched.get(c.urn);
    if (!h || !b || c.op === "replace" || !h.type.startsWith("kubernetes:")) continue;
    const [prov, oldProv] = [providerUrnOf(h.provider), providerUrnOf(b.provider)];
    const from = baseByUrn.get(oldProv);
    if (!prov || !from || prov === oldProv || !from.ignoreChanges.includes("clusterIdentifier")) continue;
    moved.set(prov, { from, n: (moved.get(prov)?.n ?? 0) + 1 });
  }
  return [...moved].map(([prov, { from, n }]) => ({
    urn: prov,
    message: `${n} objects move from the Kubernetes provider ${from.name} to ${parseUrn(prov).name} without a replacement, because both compute the same clusterIdentifier; ${from.name} ignores changes to it, so a stack made before the identity existed keeps an older one in its state: there the new provider's DiffConfig sees it changed and replaces all ${n}; check \`pulumi stack export\` (the clusterIdentifier of ${from.name}) before running up`,
  }));
}

interface Context {
  readonly replaced: ReadonlyMap<string, Replaced>;
  /** The same replacements by the URN they had in the base plan (the old state's dependency graph). */
  readonly replacedOld: ReadonlyMap<string, Replaced>;
  readonly rotated: ReadonlySet<string>;
  readonly aliasOf: ReadonlyMap<string, string>;
  readonly headNames: ReadonlyMap<string, string>;
  readonly baseByUrn: ReadonlyMap<string, PlanJsonResource>;
  readonly headByUrn: ReadonlyMap<string, PlanJsonResource>;
}

type Verdict = Pick<ResourceChange, "op" | "reasons" | "properties" | "confidence" | "deleteBeforeReplace"> & { readonly cascadeRoot?: string };

/**
 * What the new provider's `DiffConfig` says of a changed provider reference (step_generator.go
 * `providerChanged`, v3.248.0 lines 2613-2690, since v3.151.0, #18509): the old provider's
 * configuration against the new one's, by the provider's own rule. pulumi-kubernetes replaces on an
 * updated clusterIdentifier (kubernetesProviderRule); the bridged providers (proxmoxve, random,
 * tls, time) only on `ForcesProviderReplace` fields (pulumi-terraform-bridge pkg/tfbridge
 * configDiffer), and none of theirs sets one.
 */
function providerConfigReplaces(oldProv: PlanJsonResource, newProv: PlanJsonResource): { reason: string; confidence: Confidence } | undefined {
  if (oldProv.type !== newProv.type) return { reason: `its provider's package changed (${oldProv.type} to ${newProv.type})`, confidence: "exact" };
  const forcing: { path: string; confidence: Confidence; note?: string }[] = [];
  const paths = changedLeaves(oldProv.inputs, newProv.inputs).map((l) => l.path);
  for (const p of new Set([...oldProv.secretPaths, ...newProv.secretPaths])) if (oldProv.secretDigests[p] !== newProv.secretDigests[p] && !paths.includes(p)) paths.push(p);
  for (const p of paths) {
    const rule = propertyRule(newProv.type, p, newProv.inputs, [], oldProv.inputs);
    if (rule.forcesReplacement) forcing.push({ path: p, confidence: rule.confidence, note: rule.note });
  }
  if (forcing.length === 0) return undefined;
  return {
    reason: forcing.map((f) => `${f.path} differs${f.note ? ` (${f.note})` : ""}`).join(", "),
    confidence: weakest(forcing.map((f) => f.confidence)),
  };
}

function compare(b: PlanJsonResource, h: PlanJsonResource, ctx: Context): Verdict {
  const properties: PropertyChange[] = [];
  const forcing: { reason: string; confidence: Confidence }[] = [];
  const updating: Confidence[] = [];
  const reasons: string[] = [];
  const secretPaths = new Set([...h.secretPaths, ...b.secretPaths]);
  const inputs = effectiveInputs(b, h);
  let cascadeRoot: string | undefined;

  for (const leaf of changedLeaves(b.inputs, h.inputs)) {
    if (ignored(leaf.path, h.ignoreChanges)) continue;
    const rule = propertyRule(h.type, leaf.path, inputs, h.replaceOnChanges, b.inputs);
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
    const rule = propertyRule(h.type, p, inputs, h.replaceOnChanges, b.inputs);
    properties.push({ path: p, old: SECRET_MASK, new: SECRET_MASK, forcesReplacement: rule.forcesReplacement, secret: true });
    if (rule.forcesReplacement) forcing.push({ reason: `${p} changed (a secret input)`, confidence: rule.confidence });
    else updating.push(rule.confidence);
  }
  // A `secure:` value whose ciphertext changed may hold a new value: every input it reaches may
  // change, except those in ignoreChanges (processIgnoreChanges keeps their old value).
  const rotatedKeys = h.secretConfig.filter((k) => ctx.rotated.has(k));
  if (rotatedKeys.length > 0 && h.custom) {
    const paths = h.secretPaths.filter((p) => !properties.some((x) => x.path === p) && !ignored(p, h.ignoreChanges));
    for (const p of paths) {
      const rule = propertyRule(h.type, p, inputs, h.replaceOnChanges, b.inputs);
      properties.push({ path: p, old: SECRET_MASK, new: SECRET_MASK, forcesReplacement: rule.forcesReplacement, secret: true });
      if (rule.forcesReplacement) forcing.push({ reason: `${p} may have changed: ${rotatedKeys.join(", ")} possibly rotated`, confidence: "advisory" });
      else updating.push("advisory");
    }
    if (paths.length > 0) reasons.push(`${rotatedKeys.join(", ")}: ciphertext changed (possibly rotated)`);
  }

  if (h.custom) {
    // Forced before the provider is asked: a replaced or changed provider, a replaceWith target.
    const prov = providerUrnOf(h.provider);
    const oldProv = providerUrnOf(b.provider);
    const provReplaced = ctx.replaced.get(prov);
    if (provReplaced) forcing.push({ reason: `${PROVIDER_REPLACED} ${provReplaced.name} is replaced (every resource of a replaced provider is)`, confidence: "exact" });
    // A plan from before providers were recorded says nothing about them: no change to infer.
    else if (b.provider !== PROVIDER_NOT_RECORDED && prov !== oldProv && ctx.aliasOf.get(prov) !== oldProv) {
      const from = oldProv ? parseUrn(oldProv).name : "the default";
      const to = prov ? parseUrn(prov).name : "the default";
      const [oldP, newP] = [ctx.baseByUrn.get(oldProv), ctx.headByUrn.get(prov)];
      if (oldP && newP) {
        // The new provider's DiffConfig decides (step_generator.go providerChanged).
        const r = providerConfigReplaces(oldP, newP);
        if (r) forcing.push({ reason: `its provider changed from ${from} to ${to}, and the new provider's DiffConfig replaces: ${r.reason}`, confidence: r.confidence });
      } else {
        // A default provider's configuration is not in the plan: its DiffConfig cannot be evaluated here.
        forcing.push({
          reason: `its provider changed from ${from} to ${to}: the new provider's DiffConfig compares their configurations, and the default provider's is not in the plan (replaced unless they match)`,
          confidence: "advisory",
        });
      }
    }
    for (const t of h.replaceWith) {
      const r = ctx.replaced.get(t);
      if (r) forcing.push({ reason: `replaceWith: ${r.name} is replaced`, confidence: "exact" });
    }
    // The cascade, as calculateDependentReplacements walks it: over the OLD state's property
    // dependencies, ignoreChanges and replaceOnChanges (step_generator.go:3009-3116), transitively
    // (a dependent it replaces joins the replace set); every dependent it replaces is deleted before
    // the root (the DBR branch of continueStepsFromDiff, step_generator.go:1960-2005). Inputs fed by
    // a create-first replacement are unknown in preview and known in up.
    for (const [key, deps] of Object.entries(b.propertyDependencies).sort(([x], [y]) => x.localeCompare(y))) {
      if (ignored(key, b.ignoreChanges)) continue;
      for (const d of deps) {
        const r = ctx.replacedOld.get(d);
        if (!r) continue;
        const canForce = inputCanForceReplacement(h.type, key, b.inputs, b.replaceOnChanges);
        if (r.deleteFirst && canForce) {
          forcing.push({
            reason: `${r.name} is replaced delete-first and its outputs feed ${key}, an input that forces replacement: the engine's cascade deletes this one before ${r.name}`,
            confidence: "table",
          });
          cascadeRoot ??= r.name;
        } else if (!properties.some((p) => pathSegments(p.path)[0] === key)) {
          properties.push({ path: key, old: b.inputs[key] ?? null, new: KNOWN_AFTER_REPLACE, forcesReplacement: false });
          updating.push("advisory");
          reasons.push(
            canForce
              ? `${key} comes from ${r.name}, which is replaced (created first), and forces replacement: preview shows replace (the new outputs are unknown there); up re-decides with the known values and replaces this one only if they differ`
              : `${key} comes from ${r.name}, which is replaced: it changes if the new one reports other outputs`,
          );
        }
        break;
      }
    }
  }

  if (forcing.length > 0) {
    const deleteBeforeReplace = h.deleteBeforeReplace || providerDeletesFirst(h.type, h.inputs, b.inputs) || cascadeRoot !== undefined;
    return {
      op: "replace",
      reasons: [...forcing.map((f) => f.reason), ...reasons],
      properties,
      confidence: strongest(forcing.map((f) => f.confidence)),
      deleteBeforeReplace,
      ...(cascadeRoot ? { cascadeRoot } : {}),
    };
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
    ...(doc.defaultProviders ? { defaultProviders: doc.defaultProviders } : {}),
    resources: resources.map((r) => ({
      ...r,
      dependencies: (r.dependencies ?? []).map(map),
      custom: r.custom ?? !/^homelab:|^pulumi:pulumi:Stack$/.test(r.type),
      provider: r.provider === undefined ? PROVIDER_NOT_RECORDED : mapRef(r.provider),
      propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([k, v]) => [k, v.map(map)])),
      aliases: r.aliases ?? [],
      // The SDK sets it on both command kinds (remote/command.js:132, local/command.js:155).
      replaceOnChanges: r.replaceOnChanges ?? (r.type === "command:remote:Command" || r.type === "command:local:Command" ? ["triggers[*]"] : []),
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
