// npm run plan -- --stack <name> | --config <file> [--format tree|json|mermaid] [--critical-path]
//
// Runs the real program offline under Pulumi's mock runtime and prints the resource graph.
// `secure:` values are replaced by placeholders that stay secret; no secret value is ever printed.
import { existsSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../src/config/loader";
import { assertNoSecrets, toCriticalPath, toMermaid, toPlanJson, toTree } from "../src/plan/format";
import { readStackFile, runPlan } from "../src/plan/run";

// The Pulumi SDK tags every promise it makes with `new Error().stack` (runtime/debuggable.ts) for
// leak reports; formatting those traces (through source maps, which tsx turns on) was most of the
// time of planning a large stack. The plan keeps no traces unless asked for one.
const DEBUG = process.env.HOMELAB_PLAN_DEBUG === "1";
if (!DEBUG) {
  process.setSourceMapsEnabled(false);
  Error.stackTraceLimit = 0;
}

const USAGE = `usage: npm run plan -- (--stack <name> | --config <file>) [--format tree|json|mermaid] [--critical-path]

  --stack <name>     plan Pulumi.<name>.yaml from the project root
  --config <file>    plan any stack file (e.g. stacks/seed-000.yaml)
  --format <f>       tree (default), json, or mermaid
  --critical-path    print the longest dependency chains (to a ready cluster, to everything)
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        stack: { type: "string" },
        config: { type: "string" },
        format: { type: "string" },
        "critical-path": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }));
  } catch (e) {
    fail(`${(e as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if ((values.stack === undefined) === (values.config === undefined)) fail(`give exactly one of --stack and --config\n\n${USAGE}`);
  const format = values.format ?? "tree";
  if (!["tree", "json", "mermaid"].includes(format)) fail(`--format must be tree, json or mermaid, not '${format}'\n\n${USAGE}`);
  if (values["critical-path"] && values.format !== undefined) fail(`--critical-path prints its own text report; leave out --format\n\n${USAGE}`);

  const root = resolve(__dirname, "..");
  const file = values.config !== undefined ? resolve(values.config) : join(root, `Pulumi.${values.stack}.yaml`);
  if (!existsSync(file)) fail(`no stack file ${file}; stacks here: Pulumi.<name>.yaml in ${root}, or pass --config <file>`);
  const stack = values.stack ?? (file.match(/([^/]+?)\.ya?ml$/)?.[1] ?? "stack").replace(/^Pulumi\./, "");

  let stackFile;
  let plan;
  try {
    stackFile = readStackFile(file);
    plan = await runPlan({ stack, stackFile });
  } catch (e) {
    if (e instanceof ConfigError) {
      // Name the file as the user would type it: relative to where they stand, when it is below.
      const shown = relative(process.cwd(), file);
      fail(`${shown.startsWith("..") || isAbsolute(shown) ? file : shown}: ${e.message}`, 1);
    }
    throw e;
  }
  for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`);

  let text: string;
  if (values["critical-path"]) text = toCriticalPath(plan);
  else if (format === "json") text = `${JSON.stringify(toPlanJson(plan), null, 2)}\n`;
  else if (format === "mermaid") text = toMermaid(plan);
  else text = toTree(plan);

  const configSecrets = stackFile.secretKeys.map((k) => stackFile.config[k]);
  assertNoSecrets(plan, text, configSecrets);
  process.stdout.write(text);
  if (process.env.HOMELAB_PLAN_STATS === "1") {
    // For `npm run bench`: resource count and this process's peak memory.
    process.stderr.write(`plan-stats ${JSON.stringify({ resources: plan.resources.length, maxRssKb: process.resourceUsage().maxRSS })}\n`);
  }
}

main().catch((e: unknown) => {
  // Anything else is a bug in the program, not in the config: keep the stack for the report.
  const detail = e instanceof Error ? (DEBUG ? (e.stack ?? e.message) : `${e.message}\n(run with HOMELAB_PLAN_DEBUG=1 for a stack trace)`) : String(e);
  process.stderr.write(`plan failed: ${detail}\n`);
  process.exit(3);
});
