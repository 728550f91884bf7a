// The plan command: argument parsing, running the plan, rendering, exit codes. In-process and
// pure of process state (argv, cwd and output are passed in), so tests drive it directly;
// scripts/plan.ts is the thin entry point.
import { existsSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../config/loader";
import { assertNoSecrets, toCriticalPath, toMermaid, toPlanJson, toTree } from "./format";
import { planDebug, readStackFile, runPlan } from "./run";

export const USAGE = `usage: npm run -s plan -- (--stack <name> | --config <file>) [--format tree|json|mermaid] [--critical-path] [--output <file>]

  --stack <name>     plan Pulumi.<name>.yaml from the project root
  --config <file>    plan any stack file (e.g. stacks/seed-000.yaml)
  --format <f>       tree (default), json, or mermaid
  --critical-path    print the longest dependency chains (to a ready cluster, to everything)
  --output <file>    write the plan to a file instead of stdout (warnings still go to stderr)
`;

/** Exit codes: 0 printed, 1 invalid stack config, 2 usage, 3 a bug (not the config). */
export interface CliIo {
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Extra environment switches (HOMELAB_PLAN_STATS for the benchmark). Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Where `--stack <name>` finds Pulumi.<name>.yaml: the project root. */
export const PROJECT_ROOT = resolve(__dirname, "..", "..");

/** A planned end of a command: its exit code and the message for stderr (plan and diff alike). */
export class Exit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs a command's body with the exit codes both CLIs share: 0 done, an `Exit`'s own code and
 * message, 3 for anything else (a bug in the program, not in the config), with a stack trace only
 * under HOMELAB_PLAN_DEBUG=1.
 */
export async function runGuarded(command: string, io: CliIo, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (e) {
    if (e instanceof Exit) {
      io.stderr(`${e.message}\n`);
      return e.code;
    }
    const detail = e instanceof Error ? (planDebug() ? (e.stack ?? e.message) : `${e.message}\n(run with HOMELAB_PLAN_DEBUG=1 for a stack trace)`) : String(e);
    io.stderr(`${command} failed: ${detail}\n`);
    return 3;
  }
}

function usageError(message: string): never {
  throw new Exit(2, `${message}\n\n${USAGE}`);
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runGuarded("plan", io, () => plan(argv, io));
}

async function plan(argv: readonly string[], io: CliIo): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        stack: { type: "string" },
        config: { type: "string" },
        format: { type: "string" },
        output: { type: "string" },
        "critical-path": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }));
  } catch (e) {
    usageError((e as Error).message);
  }
  if (values.help) {
    io.stdout(USAGE);
    return;
  }
  if ((values.stack === undefined) === (values.config === undefined)) usageError("give exactly one of --stack and --config");
  const format = values.format ?? "tree";
  if (!["tree", "json", "mermaid"].includes(format)) usageError(`--format must be tree, json or mermaid, not '${format}'`);
  if (values["critical-path"] && values.format !== undefined) usageError("--critical-path prints its own text report; leave out --format");

  const { stackFile, result } = await planStack(values, io, usageError);

  let text: string;
  if (values["critical-path"]) text = toCriticalPath(result);
  else if (format === "json") text = `${JSON.stringify(toPlanJson(result), null, 2)}\n`;
  else if (format === "mermaid") text = toMermaid(result);
  else text = toTree(result);

  const configSecrets = stackFile.secretKeys.map((k) => stackFile.config[k]);
  assertNoSecrets(result, text, configSecrets);
  // A file needs no `npm run -s`: npm's banner goes to stdout, never into the file.
  if (values.output === undefined) io.stdout(text);
  else {
    try {
      writeFileSync(resolve(io.cwd, values.output), text);
    } catch (e) {
      throw new Exit(
        2,
        `--output ${values.output}: cannot write the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a path in an existing, writable directory`,
      );
    }
  }
  if ((io.env ?? process.env).HOMELAB_PLAN_STATS === "1") {
    // For `npm run bench`: resource count and this process's peak memory.
    io.stderr(`plan-stats ${JSON.stringify({ resources: result.resources.length, maxRssKb: process.resourceUsage().maxRSS })}\n`);
  }
}

/**
 * The stack `--stack` or `--config` names (exactly one is given), planned; a config error exits 1
 * naming the file as the user would type it (relative to where they stand, when it is below),
 * after every warning of a plan that passed is on stderr. Shared by the plan and adopt commands.
 */
export async function planStack(
  values: { readonly stack?: string; readonly config?: string },
  io: CliIo,
  usage: (message: string) => never,
): Promise<{ stack: string; stackFile: ReturnType<typeof readStackFile>; result: Awaited<ReturnType<typeof runPlan>> }> {
  const file = values.config !== undefined ? resolve(io.cwd, values.config) : join(PROJECT_ROOT, `Pulumi.${values.stack}.yaml`);
  if (!existsSync(file)) usage(`no stack file ${file}; stacks here: Pulumi.<name>.yaml in ${PROJECT_ROOT}, or pass --config <file>`);
  const stack = values.stack ?? (file.match(/([^/]+?)\.ya?ml$/)?.[1] ?? "stack").replace(/^Pulumi\./, "");
  try {
    const stackFile = readStackFile(file);
    const result = await runPlan({ stack, stackFile });
    for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
    return { stack, stackFile, result };
  } catch (e) {
    if (e instanceof ConfigError) {
      const shown = relative(io.cwd, file);
      throw new Exit(1, `${shown.startsWith("..") || isAbsolute(shown) ? file : shown}: ${e.message}`);
    }
    throw e;
  }
}
