// Shell scripts kept in .sh files beside the code that runs them, rendered deterministically: a
// header naming what the script does, strict mode, its parameters as shell assignments (each value
// single-quoted), then the file's text. The result is what runs (and what shellcheck sees).
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A shell word: single-quoted, safe for any string. */
export function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const cache = new Map<string, string>();
/** The text of `dir/name`, read once. */
export function scriptFile(dir: string, name: string): string {
  const path = join(dir, name);
  let text = cache.get(path);
  if (text === undefined) {
    text = readFileSync(path, "utf8");
    cache.set(path, text);
  }
  return text;
}

export type ScriptVars = ReadonlyArray<readonly [string, string | number]>;

/** `#!/bin/sh`, the title as comments, `set -eu`, the variables, then each file of `dir` in order. */
export function renderScript(dir: string, title: string, vars: ScriptVars, files: readonly string[]): string {
  for (const [name] of vars) if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`renderScript: ${name} is not a shell variable name`);
  return [
    "#!/bin/sh",
    ...title.split("\n").map((l) => `# ${l}`),
    "set -eu",
    ...vars.map(([k, v]) => `${k}=${shellWord(String(v))}`),
    "",
    ...files.map((f) => scriptFile(dir, f)),
  ].join("\n");
}
