// One serializer for everything the program generates (cloud-init, k3s config, Helm values,
// manifests): keys sorted at every level, so equal data always renders to equal text and a
// preview shows only real changes.
import { stringify } from "yaml";

/** Deep copy with object keys sorted; arrays keep their order; undefined entries dropped. */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out as T;
  }
  return value;
}

/**
 * YAML with sorted keys, no line folding, no anchors. Scalars are quoted by YAML 1.1 rules, which
 * the readers of this YAML follow (cloud-init's PyYAML, and Go's yaml.v2 in k3s and Helm): a bare
 * `on`, `no`, `y` or `2026-01-01` would reach them as a boolean or a date, not as the string.
 */
export function toYaml(value: unknown): string {
  return stringify(sortKeys(value), { lineWidth: 0, aliasDuplicateObjects: false, version: "1.1" });
}

/** JSON with sorted keys. */
export function toJson(value: unknown, indent = 0): string {
  return JSON.stringify(sortKeys(value), null, indent);
}
