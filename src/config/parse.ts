// Parsing a stack config so that one mistake hides no other: the strict schema first; when it
// fails, whatever parsed, so the cross-field checks run on it in the same run. A part that failed
// is left out whole, never guessed: the list entry (`nodes[3]`), map entry (`apps.n8n`) or
// top-level key holding the problem, and a key the schema does not know. Pure.
import { z } from "zod";
import { recordFileIndex } from "./model";
import type { PartialStackConfig } from "./resolve";
import { stackSchema, type StackConfig } from "./schema";
import { closeMatch } from "./spelling";

export interface ParsedConfig {
  /** The config when it parsed whole, else whatever parsed (a key that failed is absent). */
  readonly config: PartialStackConfig;
  /** True when the whole config parsed. */
  readonly complete: boolean;
  /** The schema's problems (none when complete). */
  readonly issues: readonly z.core.$ZodIssue[];
  /** Dotted paths of the lists some entries were left out of (counts over them are not known). */
  readonly incompleteLists: ReadonlySet<string>;
}

const partialSchema = stackSchema.partial();

/** Renders a zod path as `nodes[0].ip`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** The schema under its optional/default/pipe wrappers. */
function unwrap(t: z.ZodType): { inner: z.ZodType } {
  let cur: z.ZodType = t;
  for (;;) {
    if (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional) cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
    else return { inner: cur };
  }
}

/** The schema at `path`, or undefined where the path leaves it. */
export function schemaAt(path: ReadonlyArray<PropertyKey>): z.ZodType | undefined {
  let s: z.ZodType | undefined = stackSchema;
  for (const seg of path) {
    if (s === undefined) return undefined;
    const inner: z.ZodType = unwrap(s).inner;
    if (inner instanceof z.ZodObject) s = (inner.shape as Record<string, z.ZodType>)[String(seg)];
    else if (inner instanceof z.ZodArray) s = inner.element as z.ZodType;
    else if (inner instanceof z.ZodRecord) s = inner.valueType as z.ZodType;
    else return undefined;
  }
  return s;
}

/** The object keys the schema allows at `path`. */
export function allowedKeysAt(path: ReadonlyArray<PropertyKey>): string[] {
  const s = schemaAt(path);
  const inner = s === undefined ? undefined : unwrap(s).inner;
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

/**
 * What to leave out for a problem at `path`: the list entry, map entry or top-level key that holds
 * it. Not the field alone: an absent field means something too (no custom block is a catalog app,
 * no loadBalancerIp an unpinned Traefik, a missing enabled is false), so leaving out just the
 * field would have the checks report problems the config does not have.
 */
function pruneTarget(path: ReadonlyArray<PropertyKey>): PropertyKey[] {
  for (let n = path.length; n > 1; n--) {
    const parent = schemaAt(path.slice(0, n - 1));
    const parentInner = parent === undefined ? undefined : unwrap(parent).inner;
    if (parentInner instanceof z.ZodArray || parentInner instanceof z.ZodRecord) return path.slice(0, n);
  }
  return path.slice(0, 1);
}

function valueAt(data: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = data;
  for (const seg of path) v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[seg] : undefined;
  return v;
}

function clone(v: unknown): unknown {
  return v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as unknown);
}

/** Parses the plain `homelab:` keys; see the file comment for what a failed part becomes. */
export function parseConfig(plain: Readonly<Record<string, unknown>>): ParsedConfig {
  const full = stackSchema.safeParse(plain);
  if (full.success) return { config: full.data, complete: true, issues: [], incompleteLists: new Set() };

  const data = clone(plain) as Record<string, unknown>;
  const topPruned = new Set<string>();
  // For each list (at a path without list indexes), the file index of each entry still in it.
  const fileIndexes = new Map<string, number[]>();
  const incompleteLists = new Set<string>();
  let issues: readonly z.core.$ZodIssue[] = full.error.issues;
  let parsed: PartialStackConfig | undefined;
  // Each round leaves out what failed; what is left can fail only on a list or map left too small,
  // which the next round leaves out. Bounded: every round removes something.
  for (let round = 0; round < 10 && parsed === undefined; round++) {
    const targets: PropertyKey[][] = [];
    for (const issue of issues) {
      if (issue.code === "unrecognized_keys") {
        for (const k of issue.keys) {
          targets.push([...issue.path, k]);
          // A misspelt key (`metalb`) means the key it stands for is not really unset: leave that
          // out too rather than let its default (metallb.enabled: false) speak for the user.
          const meant = closeMatch(k, allowedKeysAt(issue.path));
          const holder = valueAt(data, issue.path);
          const unset = holder !== null && typeof holder === "object" && meant !== undefined && !(meant in holder);
          if (meant !== undefined && unset && round === 0) targets.push(pruneTarget([...issue.path, meant]));
        }
      } else targets.push(pruneTarget(issue.path));
    }
    const splices = new Map<unknown[], { path: PropertyKey[]; indexes: Set<number> }>();
    for (const target of targets) {
      if (target.length === 1) topPruned.add(String(target[0]));
      const holder = valueAt(data, target.slice(0, -1));
      const last = target[target.length - 1];
      if (Array.isArray(holder) && typeof last === "number") {
        const entry = splices.get(holder) ?? { path: target.slice(0, -1), indexes: new Set<number>() };
        entry.indexes.add(last);
        splices.set(holder, entry);
      } else if (holder !== null && typeof holder === "object") {
        delete (holder as Record<PropertyKey, unknown>)[last];
      }
    }
    for (const [list, { path, indexes }] of splices) {
      const key = formatPath(path);
      incompleteLists.add(key);
      const trackable = path.every((p) => typeof p === "string");
      const before = fileIndexes.get(key) ?? list.map((_, i) => i);
      const keep = before.filter((_, i) => !indexes.has(i));
      for (const i of [...indexes].sort((a, b) => b - a)) list.splice(i, 1);
      if (trackable) fileIndexes.set(key, keep);
    }
    const r = partialSchema.safeParse(data);
    if (r.success) parsed = r.data;
    else issues = r.error.issues;
  }
  const config: Record<string, unknown> = { ...(parsed ?? {}) };
  // A key left out is absent, not its default.
  for (const k of topPruned) delete config[k];
  for (const [key, indexes] of fileIndexes) {
    const list = key.split(".").reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), config);
    if (!Array.isArray(list)) continue;
    list.forEach((entry, i) => {
      if (entry !== null && typeof entry === "object" && indexes[i] !== undefined) recordFileIndex(entry as object, indexes[i]);
    });
  }
  return { config: config as Partial<StackConfig>, complete: false, issues: full.error.issues, incompleteLists };
}
