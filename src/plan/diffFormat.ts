// Renders a diff: text for a terminal (its first lines say what matters: counts, blockers,
// warnings), markdown for one pull-request comment (under GitHub's 65,536-character limit), JSON
// for tools. Values come from plans whose secrets are masked; the CLI checks the final text too.
import type { DiffDocument, PropertyChange, ResourceChange, StackDiff } from "./diff";
import { KNOWN_AFTER_REPLACE } from "./diff";

/** The hidden first line of the comment: the workflow finds its own comment by it. */
export const COMMENT_MARKER = "<!-- homelab-infra:offline-diff -->";
/** GitHub refuses a comment body longer than this. */
export const COMMENT_LIMIT = 65_536;
/**
 * What the markdown may use of it: the sticky comment (.github/scripts/sticky-comment.cjs, MAX_BODY)
 * wraps the diff with its marker, the head SHA it describes and a failure or staleness note.
 */
export const COMMENT_BUDGET = COMMENT_LIMIT - 2_048;
const LAYERS = ["metal", "cluster", "system", "platform", "apps", "stack"];
const SIGN: Record<string, string> = { create: "+", update: "~", replace: "+-", delete: "-", same: " " };

export function toDiffJson(doc: DiffDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const isMultiline = (v: unknown): v is string => typeof v === "string" && v.includes("\n");

function short(v: unknown, max = 120): string {
  if (v === KNOWN_AFTER_REPLACE) return v;
  const s = v === undefined || v === null ? "(none)" : typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A unified diff of two texts by lines (longest common subsequence), with `context` lines around changes. */
export function lineDiff(a: string, b: string, context = 2): string[] {
  const x = a.split("\n");
  const y = b.split("\n");
  if (x.length * y.length > 4_000_000) return [...x.map((l) => `-${l}`), ...y.map((l) => `+${l}`)];
  const n = x.length;
  const m = y.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    // Removed lines before added ones, as diff prints them.
    if (i < n && j < m && x[i] === y[j]) {
      ops.push(` ${x[i]}`);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push(`-${x[i]}`);
      i++;
    } else {
      ops.push(`+${y[j]}`);
      j++;
    }
  }
  const keep = ops.map((o, k) => o[0] !== " " || ops.slice(Math.max(0, k - context), k + context + 1).some((p) => p[0] !== " "));
  const out: string[] = [];
  ops.forEach((o, k) => {
    if (keep[k]) out.push(o);
    else if (k === 0 || keep[k - 1]) out.push("…");
  });
  return out;
}

/** The lines that show one property change. */
export function propertyLines(p: PropertyChange, maxValue = 120): string[] {
  const mark = p.forcesReplacement ? "  (forces replacement)" : "";
  if (p.secret) return [`${p.path}: changed (secret)${mark}`];
  if (isMultiline(p.old) || isMultiline(p.new)) {
    return [`${p.path}:${mark}`, ...lineDiff(typeof p.old === "string" ? p.old : "", typeof p.new === "string" ? p.new : "").map((l) => `    ${l}`)];
  }
  return [`${p.path}: ${short(p.old, maxValue)} → ${short(p.new, maxValue)}${mark}`];
}

function headline(c: ResourceChange): string {
  const dbr = c.op === "replace" && c.deleteBeforeReplace ? ", delete first" : "";
  return `${SIGN[c.op]} ${c.op} ${c.name}  ${c.type}  [${c.confidence}${dbr}]`;
}

/** An update's "changed: a, b" reason repeats its property lines: shown only in JSON. */
const shownReasons = (c: ResourceChange) => c.reasons.filter((r) => !(c.op === "update" && r.startsWith("changed: ")));

const counts = (s: StackDiff) =>
  `${s.summary.create} to create, ${s.summary.update} to update, ${s.summary.replace} to replace, ${s.summary.delete} to delete, ${s.summary.same} unchanged`;
const changed = (s: StackDiff) => s.changes.filter((c) => c.op !== "same");

/** Text: one line per stack, then every blocker and warning, then the changes with their properties. */
export function toDiffText(doc: DiffDocument, title = "offline diff"): string {
  const lines = [`${title}: ${doc.stacks.length} stack${doc.stacks.length === 1 ? "" : "s"}`];
  for (const s of doc.stacks) lines.push(`  ${s.stack}: ${changed(s).length === 0 ? "no changes" : counts(s)}${s.blockers.length ? `, ${s.blockers.length} BLOCKER(S)` : ""}`);
  const blockers = doc.stacks.flatMap((s) => s.blockers.map((b) => `  ${s.stack}: ${b.message}`));
  const warnings = doc.stacks.flatMap((s) => s.warnings.map((w) => `  ${s.stack}: ${w.message}`));
  if (blockers.length) lines.push(`blockers (pulumi up would fail):`, ...blockers);
  if (warnings.length) lines.push(`warnings:`, ...warnings);
  for (const s of doc.stacks) {
    if (changed(s).length === 0) continue;
    lines.push("", `${s.stack}:`);
    for (const c of changed(s)) {
      lines.push(`  ${headline(c)}`);
      for (const r of shownReasons(c)) lines.push(`      ${r}`);
      for (const p of c.properties) for (const l of propertyLines(p)) lines.push(`      ${l}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
/** Inside a fenced block nothing may close the fence. */
const fenceSafe = (s: string) => s.replace(/```/g, "ʼʼʼ");

/** As many lines as fit in `budget` characters, then `more(n)` for the `n` left out (`left`). */
function fitLines(lines: string[], budget: number, more: (n: number) => string): { lines: string[]; left: number } {
  const out: string[] = [];
  let used = 0;
  for (const [i, l] of lines.entries()) {
    if (used + l.length + 1 > budget) return { lines: [...out, more(lines.length - i)], left: lines.length - i };
    out.push(l);
    used += l.length + 1;
  }
  return { lines: out, left: 0 };
}

interface Detail {
  /** 0: every property; 1: properties cut to a few short lines; 2: names only. */
  readonly level: number;
}

function resourceBlock(c: ResourceChange, d: Detail): string[] {
  const out = [headline(c)];
  if (d.level < 2) {
    for (const r of shownReasons(c)) out.push(`    ${r}`);
    const props = d.level === 0 ? c.properties : c.properties.slice(0, 5);
    for (const p of props) {
      const ls = propertyLines(p, d.level === 0 ? 200 : 60);
      for (const l of d.level === 0 ? ls : ls.slice(0, 6)) out.push(`    ${l}`);
      if (d.level > 0 && ls.length > 6) out.push(`    … ${ls.length - 6} more lines`);
    }
    if (props.length < c.properties.length) out.push(`    … ${c.properties.length - props.length} more properties`);
  }
  return out.map(fenceSafe);
}

function stackSection(s: StackDiff, d: Detail): string[] {
  const out = [`### ${s.stack}`, ""];
  const ch = changed(s);
  if (ch.length === 0) return [...out, "no changes", ""];
  for (const layer of LAYERS) {
    const group = ch.filter((c) => c.layer === layer);
    if (group.length === 0) continue;
    const ops = ["create", "update", "replace", "delete"].map((o) => [o, group.filter((c) => c.op === o).length] as const).filter(([, n]) => n > 0);
    out.push(`<details><summary>${escapeHtml(layer)}: ${ops.map(([o, n]) => `${n} to ${o}`).join(", ")}</summary>`, "", "```diff");
    for (const c of group) out.push(...resourceBlock(c, d));
    out.push("```", "", "</details>", "");
  }
  return out;
}

export interface MarkdownOptions {
  readonly title?: string;
  /** Characters the comment may take (default COMMENT_BUDGET). */
  readonly limit?: number;
  /** The command that prints the whole diff (named when something is left out). */
  readonly fullCommand?: string;
  /** Where the whole diff is (the workflow run's artifact): linked when something is left out, and in the footer. */
  readonly fullReportUrl?: string;
}

/**
 * The pull-request comment: the marker, a table of counts per stack, blockers and warnings, then
 * per stack one collapsed block per layer. Blockers take at most 40% of the limit and warnings 25%,
 * each list then ending with how many more there are; when it would still pass the limit it drops
 * detail (first long values, then properties), then cuts whole stacks' details. Whatever it leaves
 * out is counted and named, and the full report is linked (or its command named).
 */
export function toDiffMarkdown(doc: DiffDocument, opts: MarkdownOptions = {}): string {
  const limit = opts.limit ?? COMMENT_BUDGET;
  const full = opts.fullReportUrl
    ? `[the full report](${opts.fullReportUrl})`
    : opts.fullCommand
      ? `the full report: \`${opts.fullCommand}\``
      : "the full report: the text or JSON format";
  const head: string[] = [COMMENT_MARKER, `## ${opts.title ?? "Offline plan diff"}`, ""];
  head.push("| stack | create | update | replace | delete | unchanged | blockers | warnings |", "|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const s of doc.stacks) {
    const n = s.summary;
    head.push(`| ${s.stack} | ${n.create} | ${n.update} | ${n.replace} | ${n.delete} | ${n.same} | ${s.blockers.length} | ${s.warnings.length} |`);
  }
  head.push("");
  if (doc.stacks.every((s) => changed(s).length === 0)) head.push("No changes: every resource of every stack stays as it is.", "");
  const notices = (kind: "blockers" | "warnings") => doc.stacks.flatMap((s) => s[kind].map((x) => `- **${s.stack}**: ${escapeHtml(x.message)}`));
  const allBlockers = notices("blockers");
  const allWarnings = notices("warnings");
  const blockers = fitLines(allBlockers, Math.floor(limit * 0.4), (n) => `- **… and ${n} more blockers**, left out to stay under GitHub's comment limit; ${full}`);
  const warnings = fitLines(allWarnings, Math.floor(limit * 0.25), (n) => `- … and ${n} more warnings, left out to stay under GitHub's comment limit; ${full}`);
  const cutNotices = [
    ...(blockers.left > 0 ? [`${blockers.left} of the ${allBlockers.length} blockers`] : []),
    ...(warnings.left > 0 ? [`${warnings.left} of the ${allWarnings.length} warnings`] : []),
  ];
  if (allBlockers.length) head.push(`### ⛔ Blockers: \`pulumi up\` would fail`, "", ...blockers.lines, "");
  if (allWarnings.length) head.push(`### ⚠️ Warnings`, "", ...warnings.lines, "");
  const top = head.join("\n");
  const footer = `\n_Offline: drift, values providers compute and secret values are not visible here; see "Reviewing a change" in the README${opts.fullReportUrl ? `; ${full}` : ""}._\n`;
  const complete = (what: string[]) =>
    what.length > 0 ? `**Left out to stay under GitHub's ${COMMENT_LIMIT}-character limit:** ${what.join(", ")}. The counts in the table are complete; ${full}.` : "";
  for (const level of [0, 1, 2]) {
    const body = doc.stacks.flatMap((s) => stackSection(s, { level })).join("\n");
    const lost = [...cutNotices, ...(level === 1 ? ["long values and the properties past the fifth of each resource"] : level === 2 ? ["the properties of every resource"] : [])];
    const note = complete(lost);
    const text = `${top}\n${body}${note ? `\n${note}\n` : ""}${footer}`;
    if (text.length <= limit) return text;
  }
  // Still too long: names only, line by line until the budget is spent, then a line saying what is left out.
  const budget = limit - top.length - footer.length - 1_000;
  const out: string[] = [];
  let used = 0;
  const left: string[] = [];
  for (const s of doc.stacks) {
    const ch = changed(s);
    if (left.length > 0) {
      left.push(`${s.stack} (${ch.length} changes)`);
      continue;
    }
    const lines = [`### ${s.stack}`, "", ch.length === 0 ? "no changes" : "```diff"];
    let shown = 0;
    for (const c of ch) {
      const l = fenceSafe(headline(c));
      if (used + lines.join("\n").length + l.length + 10 > budget) break;
      lines.push(l);
      shown++;
    }
    if (ch.length > 0) lines.push("```", "");
    out.push(...lines);
    used += lines.join("\n").length + 1;
    if (shown < ch.length) left.push(`${ch.length - shown} of the ${ch.length} changes of ${s.stack}`);
  }
  return `${top}\n${out.join("\n")}\n${complete([...cutNotices, ...left, "property details of every stack"])}\n${footer}`;
}
