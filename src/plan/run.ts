// Runs the real program in-process under Pulumi's mock runtime and returns the recorded graph.
// `secure:` values of the stack file are replaced by placeholders that stay Pulumi secrets.
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { parse } from "yaml";
import { EXTRA_CHECKS } from "../checks";
import { ConfigError, loadStack, NAMESPACE } from "../config/loader";
import { buildHomelab } from "../homelab";
import { digest, RecordingMonitor, type RecordedResource, type RecorderOptions } from "./recorder";
import { cachedPlan, planCacheDir, planKey } from "./planCache";
import { planInWorkerValue } from "./planWorker";
import { describeSecrets } from "./secrets";
import { withoutSdkTraces } from "../lib/pulumiInternals";

export const PROJECT = "homelab";

export interface StackFile {
  /** Flat Pulumi config: `namespace:key` -> string (maps and lists as JSON), as the engine passes it. */
  readonly config: Record<string, string>;
  /** Keys whose value was `secure:` (or held a `secure:` value inside). */
  readonly secretKeys: string[];
  /**
   * Per secret key, a digest of its ciphertext(s) as the file holds them: a diff tells a changed
   * ciphertext ("possibly rotated") from an unchanged one. Nothing of a secret value or of its
   * placeholder goes into it (the plan never decrypts anything).
   */
  readonly secureDigests?: Record<string, string>;
}

/** A value that stands in for a `secure:` value: recognisable, and never a real secret. */
export function placeholderFor(key: string): string {
  return `plan-placeholder-${key.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

/** The `secure:` ciphertexts inside a config value, in document order. */
function ciphertexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(ciphertexts);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === "secure") return [String(obj.secure)];
    return keys.flatMap((k) => ciphertexts(obj[k]));
  }
  return [];
}

function replaceSecure(value: unknown, key: string): { value: unknown; secret: boolean } {
  if (Array.isArray(value)) {
    let secret = false;
    const out = value.map((v) => {
      const r = replaceSecure(v, key);
      secret ||= r.secret;
      return r.value;
    });
    return { value: out, secret };
  }
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === "secure") return { value: placeholderFor(key), secret: true };
    let secret = false;
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const r = replaceSecure(obj[k], key);
      secret ||= r.secret;
      out[k] = r.value;
    }
    return { value: out, secret };
  }
  return { value, secret: false };
}

/** The top-level keys of a Pulumi stack file (pulumi.com, "Stack settings file reference"). */
const STACK_FILE_KEYS: readonly string[] = ["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"];

/** Parses a Pulumi stack file's `config:` the way the CLI hands it to a program. */
export function parseStackFile(text: string): StackFile {
  let doc: { config?: Record<string, unknown> };
  try {
    doc = (parse(text) ?? {}) as typeof doc;
  } catch (e) {
    // The parser's first line names the problem and where it is ("... at line 3, column 3:").
    throw new ConfigError([`(file): is not valid YAML: ${(e as Error).message.split("\n")[0].replace(/:$/, "")}; fix the syntax there`]);
  }
  if (doc.config !== undefined && (doc.config === null || typeof doc.config !== "object" || Array.isArray(doc.config))) {
    throw new ConfigError(["config: must be a map of keys to values; see docs/config-reference.yaml"]);
  }
  // Pulumi reads only these top-level keys of a stack file and ignores the rest: settings written
  // beside `config:` instead of under it (a missing `config:` line) would silently not apply.
  const outside = doc !== null && typeof doc === "object" ? Object.keys(doc).filter((k) => !STACK_FILE_KEYS.includes(k)) : [];
  if (outside.length > 0) {
    const shown = outside.length > 3 ? `${outside.slice(0, 3).join(", ")} and ${outside.length - 3} more` : outside.join(", ");
    throw new ConfigError([
      `(file): ${shown} ${outside.length === 1 ? "is" : "are"} outside config:, where Pulumi ignores ${outside.length === 1 ? "it" : "them"}; put the settings under a top-level config: key (indented below it), as in docs/config-reference.yaml`,
    ]);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const secureDigests: Record<string, string> = {};
  for (const [rawKey, rawValue] of Object.entries(doc.config ?? {})) {
    const key = rawKey.includes(":") ? rawKey : `${NAMESPACE}:${rawKey}`;
    const { value, secret } = replaceSecure(rawValue, key);
    config[key] = typeof value === "string" ? value : value !== null && typeof value === "object" ? JSON.stringify(value) : String(value);
    if (secret) {
      secretKeys.push(key);
      secureDigests[key] = digest(JSON.stringify(ciphertexts(rawValue)), 16);
    }
  }
  return { config, secretKeys, secureDigests };
}

export interface PlanResult {
  readonly stack: string;
  readonly resources: RecordedResource[];
  readonly outputs: Record<string, unknown>;
  readonly rawOutputs: Record<string, unknown>;
  readonly warnings: string[];
  /** Per `secure:` key, the digest of its ciphertext (StackFile.secureDigests). */
  readonly secureConfig?: Record<string, string>;
  /** Per package, its default providers' names (RecordingMonitor.defaultProviders). */
  readonly defaultProviders?: Record<string, string[]>;
}

export interface RunOptions extends RecorderOptions {
  readonly stack: string;
  readonly stackFile: StackFile;
  /** Run as a preview (`isDryRun()` true). Default false: a simulated `up`, so every output resolves. */
  readonly preview?: boolean;
  /** The monitor to record into (tests inspect it even when the run throws). Default: a new one. */
  readonly monitor?: RecordingMonitor;
  /** The program to run. Default: this checkout's (`loadProgram` reads another one, e.g. a git worktree). */
  readonly program?: Program;
}

/** The three pieces of a checkout the plan runs: its extra checks, its config loader, its composition. */
export interface Program {
  readonly checks: unknown;
  readonly loadStack: (checks: never) => { readonly warnings: string[] };
  readonly buildHomelab: (loaded: never) => unknown;
}

const THIS_PROGRAM: Program = { checks: EXTRA_CHECKS, loadStack: loadStack as Program["loadStack"], buildHomelab: buildHomelab as Program["buildHomelab"] };

/**
 * The program of another checkout of this repository (its `src/checks`, `src/config/loader`,
 * `src/homelab`), loaded in this process. Its `@pulumi/pulumi` must resolve to this process's copy
 * (a `node_modules` link to it), so both run under the same mock runtime.
 */
export function loadProgram(root: string): Program {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const checks = (require(join(root, "src", "checks")) as { EXTRA_CHECKS?: unknown }).EXTRA_CHECKS ?? [];
  const { loadStack: load } = require(join(root, "src", "config", "loader")) as { loadStack?: Program["loadStack"] };
  const { buildHomelab: build } = require(join(root, "src", "homelab")) as { buildHomelab?: Program["buildHomelab"] };
  /* eslint-enable @typescript-eslint/no-require-imports */
  if (typeof load !== "function" || typeof build !== "function") {
    throw new Error(`${root}: this revision has no loadStack (src/config/loader) and buildHomelab (src/homelab) to plan with`);
  }
  return { checks, loadStack: load, buildHomelab: build };
}

/**
 * Runs the program once. Throws ConfigError for an invalid config, before any resource is
 * registered. One run at a time: the Pulumi runtime is global state. Under `npm test` a plan of the
 * same program and input may come from the run's cache (src/plan/planCache.ts); `runPlanFresh`
 * always runs the program.
 */
export async function runPlan(opts: RunOptions): Promise<PlanResult> {
  // Under `npm test` the cacheable plans run in the test process's plan worker (src/plan/planWorker.ts).
  const inWorker = planCacheDir() !== undefined && planKey({ ...opts }) !== undefined && isMainThread;
  const input = { stack: opts.stack, stackFile: opts.stackFile, preview: opts.preview };
  return cachedPlan({ ...opts }, inWorker ? () => planInWorkerValue<PlanResult>(input) : () => runPlanFresh(opts));
}

/** Runs the program, never from the test run's plan cache. */
export async function runPlanFresh(opts: RunOptions): Promise<PlanResult> {
  // The Pulumi SDK takes a stack trace of every promise (for its leak report) and of every resource
  // (for the engine's diagnostics); taking and formatting them (through source maps, which the
  // loader turns on) was most of the time of a plan. A plan takes none unless HOMELAB_PLAN_DEBUG=1
  // (src/lib/pulumiInternals.ts `withoutSdkTraces`); every setting is restored after it.
  const traces = { limit: Error.stackTraceLimit, sourceMaps: process.sourceMapsEnabled };
  const restore = planDebug() ? () => {} : withoutSdkTraces();
  if (!planDebug()) {
    Error.stackTraceLimit = 0;
    process.setSourceMapsEnabled(false);
  }
  try {
    return await record(opts);
  } finally {
    restore();
    Error.stackTraceLimit = traces.limit;
    process.setSourceMapsEnabled(traces.sourceMaps);
  }
}

/** True when plans should keep stack traces (HOMELAB_PLAN_DEBUG=1). */
export function planDebug(): boolean {
  return process.env.HOMELAB_PLAN_DEBUG === "1";
}

async function record(opts: RunOptions): Promise<PlanResult> {
  const monitor = opts.monitor ?? new RecordingMonitor(opts);
  pulumi.runtime.setAllConfig(opts.stackFile.config, opts.stackFile.secretKeys);
  await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, PROJECT, opts.stack, opts.preview ?? false);
  pulumi.runtime.setMockOptions(monitor, PROJECT, opts.stack, opts.preview ?? false);

  // Validate first, outside the stack resource: a bad config registers nothing at all.
  const program = opts.program ?? THIS_PROGRAM;
  const loaded = program.loadStack(program.checks as never);
  await pulumi.runtime.runInPulumiStack(async () => program.buildHomelab(loaded as never));
  await pulumi.runtime.disconnect();
  const placeholders = Object.fromEntries(opts.stackFile.secretKeys.map((k) => [k, placeholderFor(k)]));
  const secretOutputs = monitor.records.flatMap((r) => r.secretOutputValues.filter((v): v is string => typeof v === "string"));
  return {
    stack: opts.stack,
    resources: monitor.records.map((r) => ({ ...r, ...describeSecrets(r, placeholders, secretOutputs) })),
    secureConfig: { ...(opts.stackFile.secureDigests ?? {}) },
    defaultProviders: Object.fromEntries(Object.entries(monitor.defaultProviders).sort(([a], [b]) => a.localeCompare(b))),
    outputs: monitor.stackOutputs,
    rawOutputs: monitor.rawStackOutputs,
    warnings: loaded.warnings,
  };
}

export function readStackFile(path: string): StackFile {
  return parseStackFile(readFileSync(path, "utf8"));
}
