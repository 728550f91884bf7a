// What the plan records about secret inputs without recording a secret: per secret input, a digest
// of its value with every secret source cut out (the `secure:` placeholders and every value a
// provider returns as a secret: random passwords, keys, tokens, kubeconfigs), so a diff sees that
// the non-secret rest changed (a host, a version in a config file) and can say "changed"; and the
// `secure:` keys whose value reaches the resource, so a changed ciphertext can be traced.
import { digest, type RecordedResource } from "./recorder";

export const SECRET_CUT = "[secret]";

/**
 * Cuts every source, and every line of a multi-line source (a kubeconfig is read whole, then
 * rewritten line by line), out of `text`. Longest first, so a source containing another goes whole.
 */
export function redact(text: string, sources: readonly string[]): string {
  const pieces = new Set<string>();
  for (const s of sources) {
    if (s.length >= 6) pieces.add(s);
    if (s.includes("\n")) for (const line of s.split("\n")) if (line.trim().length >= 6) pieces.add(line.trim());
  }
  let out = text;
  for (const p of [...pieces].sort((a, b) => b.length - a.length)) out = out.split(p).join(SECRET_CUT);
  return out;
}

/** JSON with sorted keys: the digest must not depend on key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function at(obj: unknown, path: string): unknown {
  return path
    .split(/\.|\[|\]/)
    .filter((p) => p !== "")
    .reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}

export interface SecretDescription {
  /** Per secret input path: a digest of its value with every secret source cut out. */
  readonly secretDigests: Record<string, string>;
  /** The `secure:` config keys whose value reaches this resource's inputs. */
  readonly secretConfig: string[];
}

/**
 * `placeholders` maps each `secure:` key to the placeholder the plan gave it; `outputs` are the
 * secret values providers returned during the run.
 */
export function describeSecrets(r: RecordedResource, placeholders: Record<string, string>, outputs: readonly string[]): SecretDescription {
  const sources = [...Object.values(placeholders), ...outputs];
  const secretDigests: Record<string, string> = {};
  for (const p of r.secretPaths) secretDigests[p] = digest(redact(canonical(at(r.rawInputs, p)), sources), 16);
  const raw = JSON.stringify(r.rawInputs);
  const secretConfig = Object.keys(placeholders)
    .filter((k) => new RegExp(`${placeholders[k].replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![A-Za-z0-9-])`).test(raw))
    .sort();
  return { secretDigests, secretConfig };
}
