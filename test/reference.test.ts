// docs/config-reference.yaml is a complete, valid stack file that describes every key of the schema.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { z } from "zod";
import { SECRET_KEYS, stackSchema } from "../src/config/schema";
import { parseStackFile } from "../src/plan/run";
import { planFile, ROOT } from "./harness";

const REFERENCE = join(ROOT, "docs", "config-reference.yaml");
/** Keys the reference cannot set beside the ones it does set (externalDns.txtOwnerId and zoneIds are Cloudflare's, the reference uses Pi-hole). */
const ALTERNATIVES = ["externalDns.txtOwnerId", "externalDns.zoneIds"];

function unwrap(t: z.ZodType): z.ZodType {
  let cur = t;
  for (;;) {
    if (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional) cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
    else return cur;
  }
}

/** Dotted key paths of the schema; map-valued records become `*`, lists are transparent. */
function schemaPaths(t: z.ZodType, prefix: string): string[] {
  const s = unwrap(t);
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => [`${prefix}${k}`, ...schemaPaths(v, `${prefix}${k}.`)]);
  }
  if (s instanceof z.ZodArray) return schemaPaths(s.element as z.ZodType, prefix);
  if (s instanceof z.ZodRecord && unwrap(s.valueType as z.ZodType) instanceof z.ZodObject) return schemaPaths(s.valueType as z.ZodType, `${prefix}*.`);
  return [];
}

/** Dotted key paths present in data, with the keys of `recordPaths` maps replaced by `*`. */
function dataPaths(v: unknown, prefix: string, recordPaths: Set<string>): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => dataPaths(x, prefix, recordPaths));
  if (v === null || typeof v !== "object") return [];
  const here = prefix.replace(/\.$/, "");
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => {
    const key = recordPaths.has(here) ? "*" : k;
    return [`${prefix}${key}`, ...dataPaths(x, `${prefix}${key}.`, recordPaths)];
  });
}

test("the reference plans as a stack", async () => {
  const g = await planFile("docs/config-reference.yaml", "reference");
  assert.ok(g.resources.length > 0);
});

test("the reference names every key of the schema and every secret", () => {
  const text = readFileSync(REFERENCE, "utf8");
  const file = parseStackFile(text);
  const wanted = schemaPaths(stackSchema, "");
  // Maps whose keys are names (images, apps, domains, certManager.issuers): their entries count as `*`.
  const records = new Set(wanted.filter((p) => p.includes(".*.")).map((p) => p.slice(0, p.indexOf(".*."))));
  records.add("images");
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(file.config)) {
    const t = v.trim();
    data[k.replace(/^homelab:/, "")] = t.startsWith("{") || t.startsWith("[") ? JSON.parse(v) : v;
  }
  const have = new Set(dataPaths(data, "", new Set([...records])));
  // Keys that exclude a key the reference sets (one provider's settings beside another's) are
  // described as a commented-out line instead: the file stays a valid stack.
  const commented = (p: string) => ALTERNATIVES.includes(p) && new RegExp(`^\\s*# ${p.split(".").pop()}:`, "m").test(text);
  // Keys of records whose entries are free-form (apps) are documented by their catalog.
  const missing = wanted.filter((p) => !have.has(p) && !p.startsWith("apps.*") && !commented(p));
  assert.deepEqual(missing, [], `document these keys in docs/config-reference.yaml: ${missing.join(", ")}`);
  for (const k of SECRET_KEYS) assert.match(text, new RegExp(`homelab:${k}:`), `secret ${k} is described`);
});
