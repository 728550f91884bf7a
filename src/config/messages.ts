// How a schema problem reads: `path.to.field: what is wrong; how to fix it`, and "did you mean"
// for a misspelt key only when the spelling is close. Pure.
import type { z } from "zod";
import { allowedKeysAt, formatPath } from "./parse";
import { closeMatch } from "./spelling";

export { closeMatch } from "./spelling";

/** How a person names a value of zod's expected type. */
const KIND: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a map",
  record: "a map",
};
const kind = (expected: string): string => KIND[expected] ?? expected;

/** What was written instead: the value itself for scalars, the shape for lists and maps. */
function describeValue(input: unknown): string {
  if (Array.isArray(input)) return "a list";
  if (input !== null && typeof input === "object") return "a map";
  return JSON.stringify(input);
}

export function formatIssue(issue: z.core.$ZodIssue, raw: unknown): string[] {
  const path = formatPath(issue.path);
  const at = (p: string) => (p === "" ? "(top level)" : p);
  const input = issue.path.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<PropertyKey, unknown>)[k] : undefined), raw);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((k) => {
        const guess = closeMatch(k, allowedKeysAt(issue.path));
        // Top-level keys are written `homelab:<key>` in the stack file.
        if (path === "") return `homelab:${k}: unknown key; remove it${guess ? ` (did you mean 'homelab:${guess}'?)` : ""}`;
        return `${path}.${k}: unknown key; remove it${guess ? ` (did you mean '${guess}'?)` : ""}`;
      });
    case "invalid_key": {
      // A map key that breaks its pattern (a label key, an image name): the path ends with the key.
      const key = String(issue.path[issue.path.length - 1]);
      const reason = issue.issues[0]?.message ?? "is not allowed";
      return [`${at(formatPath(issue.path.slice(0, -1)))}: key ${JSON.stringify(key)} is invalid; it ${reason}`];
    }
    case "invalid_type":
      if (input === undefined) return [`${at(path)}: is required; set it to ${kind(issue.expected)}`];
      if (issue.expected === "string" && typeof input === "number") {
        // YAML reads an unquoted value of digits (a checksum, a version) as a number.
        const key = String(issue.path[issue.path.length - 1]);
        return [`${at(path)}: expected a string, got a number; YAML reads a value of only digits as a number (a long one loses digits), so quote it: ${key}: "..."`];
      }
      return [`${at(path)}: expected ${kind(issue.expected)}, got ${describeValue(input)}; change it to ${kind(issue.expected)}`];
    case "invalid_value":
      return [`${at(path)}: ${JSON.stringify(input)} is not allowed; use one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`];
    case "too_small":
      if (issue.origin === "string") {
        return [
          Number(issue.minimum) <= 1
            ? `${at(path)}: is empty; set it or leave the key out for its default`
            : `${at(path)}: ${JSON.stringify(input)} is shorter than ${String(issue.minimum)} characters; lengthen it`,
        ];
      }
      if (Array.isArray(input) || (input !== null && typeof input === "object")) return [`${at(path)}: ${issue.message}`];
      return [`${at(path)}: ${JSON.stringify(input)} is below the minimum of ${String(issue.minimum)}; raise it`];
    case "too_big":
      if (issue.origin === "string") return [`${at(path)}: ${JSON.stringify(input)} is longer than ${String(issue.maximum)} characters; shorten it`];
      if (issue.origin === "array") return [`${at(path)}: has more than ${String(issue.maximum)} entries; remove some`];
      return [`${at(path)}: ${JSON.stringify(input)} is above the maximum of ${String(issue.maximum)}; lower it`];
    case "custom":
      // Refinements carry a whole sentence: problem; fix.
      return [`${at(path)}: ${issue.message}`];
    default:
      // Format checks carry their own "must be ... such as ..." message.
      return [`${at(path)}: ${JSON.stringify(input)} is invalid; it ${issue.message}`];
  }
}
