// Test helpers: plan a stack (a file, or the lab stack with edits) under the recording monitor and
// query the recorded graph.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { SECRET_KEYS, type SecretKey } from "../src/config/schema";
import { validateStackConfig, type SecretPresence, type ValidateOptions, type ValidationResult } from "../src/config/validate";
import { runCli } from "../src/plan/cli";
import { parseStackFile, runPlan, type PlanResult, type RunOptions, type StackFile } from "../src/plan/run";
import type { RecordedResource } from "../src/plan/recorder";

export const ROOT = join(__dirname, "..");

/** Every stack file the repository plans: Pulumi.*.yaml, stacks/*.yaml and the reference, sorted. */
export const STACK_FILES: readonly string[] = [
  ...readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)),
  ...readdirSync(join(ROOT, "stacks"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => `stacks/${f}`),
  "docs/config-reference.yaml",
].sort();

/** The stack name the test files plan each of them under (stacks.test.ts, reference.test.ts, plan.test.ts, ...), so the plan cache serves them all. */
export const stackOf = (file: string): string => (file === "docs/config-reference.yaml" ? "reference" : file.replace(/^(stacks\/|Pulumi\.)/, "").replace(/\.yaml$/, ""));

/** The `config:` map of a stack file, as plain data to edit. */
export function stackDoc(file = "Pulumi.lab.yaml"): Record<string, any> {
  return (parse(readFileSync(join(ROOT, file), "utf8")) as { config: Record<string, any> }).config;
}

/** The `homelab:` keys of a stack file, parsed as the loader parses them. */
export function rawOf(file: StackFile): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(file.config)) {
    const t = v.trim();
    raw[k.replace(/^homelab:/, "")] = t.startsWith("{") || t.startsWith("[") ? JSON.parse(v) : v;
  }
  return raw;
}

/** Which secret keys a stack file sets, and how. */
export function presenceOf(file: StackFile): Record<SecretKey, SecretPresence> {
  return Object.fromEntries(
    SECRET_KEYS.map((k) => [k, file.config[`homelab:${k}`] === undefined ? "absent" : file.secretKeys.includes(`homelab:${k}`) ? "secret" : "plain"]),
  ) as Record<SecretKey, SecretPresence>;
}

/** Validates a config map (as edited from stackDoc) as the program does: its secrets as the map sets them. */
export function validateDoc(config: Record<string, unknown>, opts: Omit<ValidateOptions, "secrets"> = {}): ValidationResult {
  const file = parseStackFile(stringify({ config }));
  return validateStackConfig(rawOf(file), { ...opts, secrets: presenceOf(file) });
}

/** Plans a config map (as edited from stackDoc) under the recording monitor. */
export async function planConfig(config: Record<string, unknown>, opts: Partial<RunOptions> = {}): Promise<Graph> {
  const stackFile = parseStackFile(stringify({ config }));
  const result = await runPlan({ stack: "test", stackFile, ...opts });
  return new Graph(result);
}

export async function planFile(file: string, stack = "test", opts: Partial<RunOptions> = {}): Promise<Graph> {
  const stackFile = parseStackFile(readFileSync(join(ROOT, file), "utf8"));
  return new Graph(await runPlan({ stack, stackFile, ...opts }));
}

export class Graph {
  constructor(readonly result: PlanResult) {}
  get resources(): RecordedResource[] {
    return this.result.resources;
  }
  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }
  /** The one resource with this name (and type, when given); throws when absent or ambiguous. */
  get(name: string, type?: string): RecordedResource {
    const found = this.resources.filter((r) => r.name === name && (type === undefined || r.type === type));
    if (found.length !== 1) throw new Error(`expected one resource named ${name}${type ? ` of type ${type}` : ""}, found ${found.length}`);
    return found[0];
  }
  has(name: string): boolean {
    return this.resources.some((r) => r.name === name);
  }
  byUrn(urn: string): RecordedResource {
    const r = this.resources.find((x) => x.urn === urn);
    if (!r) throw new Error(`no resource ${urn}`);
    return r;
  }
  /** Names of the resources `name` depends on directly. */
  depNames(name: string, type?: string): string[] {
    return this.get(name, type)
      .dependencies.map((u) => this.byUrn(u).name)
      .sort();
  }
  /** True when `a` depends on `b`, directly or through other resources. */
  dependsOn(a: string, b: string): boolean {
    const target = this.get(b).urn;
    const seen = new Set<string>();
    const stack = [...this.get(a).dependencies];
    while (stack.length > 0) {
      const u = stack.pop()!;
      if (u === target) return true;
      if (seen.has(u)) continue;
      seen.add(u);
      stack.push(...this.byUrn(u).dependencies);
    }
    return false;
  }
  children(name: string): RecordedResource[] {
    const urn = this.get(name).urn;
    return this.resources.filter((r) => r.parent === urn);
  }
}

/** Runs the plan command in-process, as `npm run plan -- <args>` from the project root would. */
export async function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const status = await runCli(args, { cwd: ROOT, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { status, stdout, stderr };
}
