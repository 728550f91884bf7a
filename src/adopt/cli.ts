// The adopt command: a `pulumi import --file` document for a stack (and the list of what it cannot
// import), or, with --inventory, a draft stack file from a running lab's API answers. In-process
// and pure of process state (argv, cwd, output and the adoption-time choices are passed in), so
// tests drive it directly; scripts/adopt.ts is the thin entry point.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { diffPlans } from "../plan/diff";
import { toPlanJson } from "../plan/format";
import { Exit, planStack, PROJECT_ROOT, runGuarded, type CliIo } from "../plan/cli";
import { adoptedBase } from "./adoptedPlan";
import { buildImport, type NotImported, type PluginVersions } from "./importFile";
import type { AdoptChoices } from "./importIds";
import { draftStack, readInventory } from "./inventory";

export const USAGE = `usage: npm run -s adopt -- (--stack <name> | --config <file>) [--output <file>]
       npm run -s adopt -- --inventory <dir> --output <draft.yaml>

  --stack <name>      the stack to adopt (Pulumi.<name>.yaml in the project root)
  --config <file>     any stack file
  --output <file>     where the import file goes (default .adopt/<stack>/import.json, git-ignored);
                      written mode 0600: it holds the values the lab's secrets are imported by
  --inventory <dir>   read-only: turn a running lab's API answers (see "Adopting a running lab"
                      in the README) into a draft stack file, written to --output
`;

export interface AdoptIo extends CliIo {
  /** The adoption-time choices (import time, new cluster identity). Default: now, 8 random bytes. */
  readonly choices?: AdoptChoices;
}

function usageError(message: string): never {
  throw new Exit(2, `${message}\n\n${USAGE}`);
}

export async function runAdoptCli(argv: readonly string[], io: AdoptIo): Promise<number> {
  return runGuarded("adopt", io, () => adopt(argv, io));
}

/** The plugin version and download URL each package pins (its npm package's `pulumi` block). */
export function pinnedPlugins(root = PROJECT_ROOT): PluginVersions {
  const deps = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;
  const out: Record<string, { version?: string; server?: string }> = {};
  for (const dep of Object.keys(deps)) {
    const file = join(root, "node_modules", dep, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { version: string; pulumi?: { resource?: boolean; name?: string; version?: string; server?: string } };
    if (pkg.pulumi?.resource !== true || pkg.pulumi.name === undefined) continue;
    out[pkg.pulumi.name] = { version: pkg.pulumi.version ?? pkg.version, ...(pkg.pulumi.server ? { server: pkg.pulumi.server } : {}) };
  }
  return out;
}

function writeSecretFile(path: string, text: string, flag: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, { mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (e) {
    throw new Exit(2, `${flag} ${path}: cannot write the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a path in a writable directory`);
  }
}

async function adopt(argv: readonly string[], io: AdoptIo): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        stack: { type: "string" },
        config: { type: "string" },
        output: { type: "string" },
        inventory: { type: "string" },
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
  if (values.inventory !== undefined) {
    if (values.stack !== undefined || values.config !== undefined) usageError("--inventory reads a lab, not a stack: leave out --stack and --config");
    if (values.output === undefined) usageError("--inventory needs --output <draft.yaml>");
    const dir = resolve(io.cwd, values.inventory);
    if (!existsSync(dir)) usageError(`no inventory directory ${dir}`);
    const draft = draftStack(readInventory(dir));
    const out = resolve(io.cwd, values.output);
    try {
      writeFileSync(out, draft.text);
    } catch (e) {
      throw new Exit(2, `--output ${values.output}: cannot write the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    io.stdout(`wrote ${values.output}: a draft of ${draft.vms} VMs, ${draft.releases.length} releases (${draft.releases.join(", ")})\n`);
    io.stdout(`check every '# CHECK' comment in it, then: npm run -s plan -- --config ${values.output}\n`);
    return;
  }
  if ((values.stack === undefined) === (values.config === undefined)) usageError("give exactly one of --stack and --config (or --inventory)");

  const { stack, result } = await planStack(values, io, usageError);

  const choices = io.choices ?? { now: `${new Date().toISOString().slice(0, 19)}Z`, clusterIdB64Url: randomBytes(8).toString("base64url") };
  const plan = toPlanJson(result);
  const adoption = buildImport(plan, pinnedPlugins(), choices);
  const output = values.output ?? join(".adopt", stack, "import.json");
  writeSecretFile(resolve(io.cwd, output), `${JSON.stringify(adoption.file, null, 4)}\n`, "--output");

  const diff = diffPlans(adoptedBase(plan, adoption), plan, stack);
  const lines = [
    `wrote ${output} (mode 0600: it will hold secret values; keep it out of git, delete it after the import)`,
    `  ${adoption.imported.size} resources to import, ${adoption.file.resources.filter((r) => r.component).length} components, ${Object.keys(adoption.file.nameTable).length} explicit providers`,
    "",
    `fill in before \`pulumi import --file ${output}\` (replace each marker with the value):`,
    ...adoption.fills.map((f) => `  ${f.marker}: ${f.from}`),
    "",
    `cannot be imported (${adoption.notImported.length}); the first \`pulumi up\` creates them:`,
    ...groupNotImported(adoption.notImported),
    "",
    `offline diff of the stack against the state after the import: ${(["create", "update", "replace", "delete"] as const).map((op) => `${diff.summary[op]} ${op}`).join(", ")}, ${diff.summary.same} same`,
  ];
  const unexpected = diff.changes.filter((c) => c.op !== "same" && !(c.op === "create" && adoption.notImported.some((n) => n.urn === c.urn)));
  for (const c of unexpected) lines.push(`  ${c.op} ${c.name} (${c.type}): ${c.reasons.join("; ")}`);
  io.stdout(`${lines.join("\n")}\n`);
}

/** The resources the import cannot take, one block per reason: the names, why, and the first run. */
export function groupNotImported(list: readonly NotImported[]): string[] {
  const groups = new Map<string, NotImported[]>();
  for (const n of list) {
    const k = `${n.type}\n${n.why}\n${n.safe}`;
    groups.set(k, [...(groups.get(k) ?? []), n]);
  }
  return [...groups.values()].flatMap((g) => [`  ${g[0].type}: ${g.map((n) => n.name).join(", ")}`, `      why: ${g[0].why}`, `      first run: ${g[0].safe}`]);
}
