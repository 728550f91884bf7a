// Renders a diff: text for a terminal (its first lines say what matters: counts, blockers,
// warnings), markdown for one pull-request comment (under GitHub's 65,536-character limit), JSON
// for tools. Values come from plans whose secrets are masked; the CLI checks the final text too.
import type { DiffDocument, PropertyChange, ResourceChange, StackDiff } from "./diff";
import { KNOWN_AFTER_REPLACE } from "./diff";

/** The hidden first line of the comment: the workflow finds its own comment by it. */
export const COMMENT_MARKER = "<!-- homelab-infra:offline-diff -->";
/** GitHub refuses a comment body longer than this. */
export const COMMENT_LIMIT = 65_536;
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

function fitLines(lines: string[], budget: number, more: (n: number) => string): string[] {
  const out: string[] = [];
  let used = 0;
  for (const [i, l] of lines.entries()) {
    if (used + l.length + 1 > budget) return [...out, more(lines.length - i)];
    out.push(l);
    used += l.length + 1;
  }
  return out;
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

/**
 * The pull-request comment: the marker, a table of counts per stack, blockers and warnings, then
 * per stack one collapsed block per layer. When it would pass GitHub's limit it drops detail (first
 * long values, then properties), then cuts whole stacks' details with a line that says so.
 */
export function toDiffMarkdown(doc: DiffDocument, opts: { readonly title?: string; readonly limit?: number; readonly fullCommand?: string } = {}): string {
  const limit = opts.limit ?? COMMENT_LIMIT;
  const head: string[] = [COMMENT_MARKER, `## ${opts.title ?? "Offline plan diff"}`, ""];
  head.push("| stack | create | update | replace | delete | unchanged | blockers | warnings |", "|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const s of doc.stacks) {
    const n = s.summary;
    head.push(`| ${s.stack} | ${n.create} | ${n.update} | ${n.replace} | ${n.delete} | ${n.same} | ${s.blockers.length} | ${s.warnings.length} |`);
  }
  head.push("");
  if (doc.stacks.every((s) => changed(s).length === 0)) head.push("No changes: every resource of every stack stays as it is.", "");
  const notices = (kind: "blockers" | "warnings") => doc.stacks.flatMap((s) => s[kind].map((x) => `- **${s.stack}**: ${escapeHtml(x.message)}`));
  // Blockers first and whole; warnings as many as fit in half the comment, then how many more.
  const blockers = notices("blockers");
  const warnings = fitLines(notices("warnings"), Math.floor(limit / 2), (n) => `- … and ${n} more warnings (the whole list: the text or JSON format)`);
  if (blockers.length) head.push(`### ⛔ Blockers: \`pulumi up\` would fail`, "", ...blockers, "");
  if (warnings.length) head.push(`### ⚠️ Warnings`, "", ...warnings, "");
  const top = head.join("\n");
  const footer = `\n_Offline: drift, values providers compute and secret values are not visible here; see "Reviewing a change" in the README._\n`;
  for (const level of [0, 1, 2]) {
    const body = doc.stacks.flatMap((s) => stackSection(s, { level })).join("\n");
    const text = `${top}\n${body}${footer}`;
    if (text.length <= limit) return text;
  }
  // Still too long: names only, line by line until the budget is spent, then a line saying what is left out.
  const budget = limit - top.length - footer.length - 600;
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
  const cut = left.length
    ? `**Left out to stay under GitHub's ${limit}-character limit:** ${left.join(", ")}; property details of every stack. The counts, blockers and warnings above are complete${opts.fullCommand ? `; the whole diff: \`${opts.fullCommand}\`` : ""}.`
    : `**Property details left out to stay under GitHub's ${limit}-character limit**${opts.fullCommand ? `; the whole diff: \`${opts.fullCommand}\`` : ""}.`;
  return `${top}\n${out.join("\n")}\n${cut}\n${footer}`;
}
