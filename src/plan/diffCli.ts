// The diff command: two plan files, or the stacks as they were at a git ref against as they are now.
// In-process and pure of process state (argv, cwd and output are passed in), like the plan command.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { Exit, PROJECT_ROOT, runGuarded, type CliIo } from "./cli";
import { diffPlans, normalizePlan, type DiffDocument, type StackDiff } from "./diff";
import { toDiffJson, toDiffMarkdown, toDiffText } from "./diffFormat";
import { assertNoSecrets, secretValues, toPlanJson, type PlanJson } from "./format";
import { loadProgram, parseStackFile, runPlan, type PlanResult, type Program } from "./run";

export const DIFF_USAGE = `usage: npm run -s diff -- --base <plan.json> --head <plan.json> [--format text|markdown|json]
       npm run -s diff -- --base-ref <git ref> (--stack <name> | --config <file> | --all) [--format text|markdown|json]

  --base, --head     two plans from \`npm run -s plan -- ... --format json\`
  --base-ref <ref>   plan each stack as the program and its stack file were at <ref> (a temporary
                     git worktree) and as they are now, in this process, and compare
  --stack <name>     Pulumi.<name>.yaml
  --config <file>    any stack file
  --all              every Pulumi.*.yaml and stacks/*.yaml, at <ref> and now
  --format <f>       text (default), markdown (one pull-request comment), or json
  --full-report-url <url>
                     markdown: where the whole diff is (an https URL, e.g. the workflow run's
                     artifact); linked wherever the comment leaves something out to stay under
                     GitHub's limit (without it, the comment names this command with --format text)

exit codes: 0 printed (blockers and warnings are in the output), 1 a stack config is invalid (now or
at <ref>), 2 usage (an unknown ref or file), 3 a bug in the program, not in the config
`;

function usage(message: string): never {
  throw new Exit(2, `${message}\n\n${DIFF_USAGE}`);
}

export async function runDiffCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runGuarded("diff", io, async () => io.stdout(await diff(argv, io)));
}

async function diff(argv: readonly string[], io: CliIo): Promise<string> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        base: { type: "string" },
        head: { type: "string" },
        "base-ref": { type: "string" },
        stack: { type: "string" },
        config: { type: "string" },
        all: { type: "boolean", default: false },
        format: { type: "string", default: "text" },
        "full-report-url": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }));
  } catch (e) {
    usage((e as Error).message);
  }
  if (values.help) return DIFF_USAGE;
  const format = values.format!;
  if (!["text", "markdown", "json"].includes(format)) usage(`--format must be text, markdown or json, not '${format}'`);
  const fullReportUrl = values["full-report-url"];
  if (fullReportUrl !== undefined && format !== "markdown") usage("--full-report-url goes with --format markdown");
  // Put in a markdown link as it is: no space or parenthesis may end the link early.
  if (fullReportUrl !== undefined && !/^https:\/\/[^\s()<>[\]]+$/.test(fullReportUrl))
    usage(`--full-report-url must be an https URL without spaces, parentheses or brackets, not '${fullReportUrl}'`);
  const files = values.base !== undefined || values.head !== undefined;
  if (files === (values["base-ref"] !== undefined)) usage("give either --base and --head, or --base-ref");

  let doc: DiffDocument;
  let title: string;
  const secrets: string[] = [];
  if (files) {
    if (values.base === undefined || values.head === undefined) usage("give both --base and --head");
    if (values.stack !== undefined || values.config !== undefined || values.all) usage("--stack, --config and --all go with --base-ref");
    const read = (f: string): PlanJson => {
      const path = resolve(io.cwd, f);
      if (!existsSync(path)) usage(`no plan file ${path}`);
      try {
        return normalizePlan(JSON.parse(readFileSync(path, "utf8")) as PlanJson);
      } catch (e) {
        throw new Exit(2, `${f}: not a plan JSON document (${(e as Error).message}); make one with npm run -s plan -- --stack <name> --format json`);
      }
    };
    const head = read(values.head!);
    doc = { stacks: [diffPlans(read(values.base!), head)] };
    title = `offline diff of ${values.base} → ${values.head}`;
  } else {
    const picks = [values.stack !== undefined, values.config !== undefined, values.all].filter(Boolean).length;
    if (picks !== 1) usage("give exactly one of --stack, --config and --all");
    const ref = values["base-ref"]!;
    const stacks = await diffAgainstRef(ref, { stack: values.stack, config: values.config, all: values.all }, io, secrets);
    doc = { stacks };
    title = `offline diff against ${ref}`;
  }
  const own = (a: string, i: number, flag: string) => a === flag || argv[i - 1] === flag || a.startsWith(`${flag}=`);
  const fullCommand = `npm run -s diff -- ${argv.filter((a, i) => !own(a, i, "--format") && !own(a, i, "--full-report-url")).join(" ")} --format text`;
  const text =
    format === "json"
      ? toDiffJson(doc)
      : format === "markdown"
        ? toDiffMarkdown(doc, { title: title[0].toUpperCase() + title.slice(1), fullCommand, ...(fullReportUrl ? { fullReportUrl } : {}) })
        : toDiffText(doc, title);
  refuseSecrets(text, secrets);
  return text;
}

/** Throws when `text` contains any of the plans' secret values (the plan command's guard, for the diff). */
export function refuseSecrets(text: string, secrets: readonly string[]): void {
  const leaked = secrets.filter((s) => text.includes(s));
  if (leaked.length > 0) throw new Error(`refusing to print the diff: ${leaked.length} secret value(s) would appear in it`);
}

// ---- --base-ref ---------------------------------------------------------------------------------

const git = (args: string[], cwd = PROJECT_ROOT): string => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The files the program is made of: when none differs from <ref>, the base runs this checkout's program. */
const PROGRAM_PATHS = ["src", "package.json", "package-lock.json", "tsconfig.json", "Pulumi.yaml"];

function programUnchanged(sha: string): boolean {
  try {
    git(["diff", "--quiet", sha, "--", ...PROGRAM_PATHS]);
  } catch {
    return false;
  }
  return git(["ls-files", "--others", "--exclude-standard", "--", "src"]).trim() === "";
}

/** Stack files (relative to the project root) of a checkout: Pulumi.*.yaml and stacks/*.yaml. */
function stackFilesIn(root: string): string[] {
  const top = readdirSync(root).filter((f) => /^Pulumi\.[^.]+\.ya?ml$/.test(f));
  const dir = join(root, "stacks");
  const more = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => `stacks/${f}`)
    : [];
  return [...top, ...more].sort();
}

const stackNameOf = (file: string) =>
  basename(file)
    .replace(/\.ya?ml$/, "")
    .replace(/^Pulumi\./, "");

interface Pick {
  readonly stack?: string;
  readonly config?: string;
  readonly all: boolean;
}

async function diffAgainstRef(ref: string, pick: Pick, io: CliIo, secrets: string[]): Promise<StackDiff[]> {
  let sha: string;
  try {
    sha = git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).trim();
  } catch {
    return usage(`unknown git ref '${ref}' in ${PROJECT_ROOT}`);
  }
  let files: string[];
  if (pick.all)
    files = [
      ...new Set([
        ...stackFilesIn(PROJECT_ROOT),
        ...git(["ls-tree", "--name-only", sha, "--", "."])
          .split("\n")
          .filter((f) => /^Pulumi\.[^.]+\.ya?ml$/.test(f)),
        ...git(["ls-tree", "--name-only", sha, "--", "stacks/"])
          .split("\n")
          .filter((f) => /\.ya?ml$/.test(f)),
      ]),
    ].sort();
  else {
    const f = pick.config !== undefined ? resolve(io.cwd, pick.config) : join(PROJECT_ROOT, `Pulumi.${pick.stack}.yaml`);
    const rel = relative(PROJECT_ROOT, f);
    if (rel.startsWith("..") || isAbsolute(rel)) usage(`${f} is outside the project (${PROJECT_ROOT}): the diff compares files of this repository`);
    files = [rel];
    if (!existsSync(f) && !git(["ls-tree", "--name-only", sha, "--", rel]).trim()) usage(`no stack file ${rel}, neither now nor at ${ref}`);
  }

  // HOMELAB_DIFF_WORKTREE=1 plans the base in a worktree even when the program is unchanged (tests, bench).
  const reuseProgram = programUnchanged(sha) && (io.env ?? process.env).HOMELAB_DIFF_WORKTREE !== "1";
  let worktree: string | undefined;
  try {
    let program: Program | undefined;
    let elsewhere = false;
    if (!reuseProgram) {
      // HOMELAB_DIFF_TMPDIR: where the temporary worktree goes (default the system's temporary directory).
      worktree = mkdtempSync(join((io.env ?? process.env).HOMELAB_DIFF_TMPDIR ?? tmpdir(), "homelab-diff-"));
      git(["worktree", "add", "--detach", "--quiet", worktree, sha]);
      const lock = (root: string) => (existsSync(join(root, "package-lock.json")) ? readFileSync(join(root, "package-lock.json"), "utf8") : "");
      if (lock(worktree) === lock(PROJECT_ROOT)) {
        // The same node_modules, so the program at <ref> runs in this process under this SDK.
        symlinkSync(join(PROJECT_ROOT, "node_modules"), join(worktree, "node_modules"), "dir");
        program = loadProgram(worktree);
      } else {
        // Other packages at <ref>: install them there and plan each stack in its own process.
        io.stderr(`package-lock.json differs at ${ref}: installing its packages in a temporary worktree (npm ci)\n`);
        execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: worktree, stdio: ["ignore", "ignore", "pipe"] });
        elsewhere = true;
      }
    }
    const out: StackDiff[] = [];
    for (const file of files) {
      const stack = stackNameOf(file);
      const headText = existsSync(join(PROJECT_ROOT, file)) ? readFileSync(join(PROJECT_ROOT, file), "utf8") : undefined;
      let baseText: string | undefined;
      try {
        baseText = git(["show", `${sha}:${file}`]);
      } catch {
        baseText = undefined;
      }
      const head = headText === undefined ? undefined : await plan(stack, file, headText, undefined, "now", secrets);
      // An unchanged program and stack file give the same plan (the self-diff test holds it).
      const base =
        baseText === undefined
          ? undefined
          : reuseProgram && baseText === headText && head
            ? head
            : elsewhere
              ? planElsewhere(worktree!, file, `at ${ref}`)
              : await plan(stack, file, baseText, program, `at ${ref}`, secrets);
      const empty = (p: PlanJson): PlanJson => ({ stack: p.stack, resources: [], outputs: {}, secureConfig: {} });
      out.push(diffPlans(base ?? empty(head!), head ?? empty(base!), stack));
    }
    return out;
  } finally {
    if (worktree) {
      try {
        git(["worktree", "remove", "--force", worktree]);
      } catch {
        rmSync(worktree, { recursive: true, force: true });
        try {
          git(["worktree", "prune"]);
        } catch {
          // Nothing left to clean: the directory is gone.
        }
      }
    }
  }
}

async function plan(stack: string, file: string, text: string, program: Program | undefined, when: string, secrets: string[]): Promise<PlanJson> {
  let result: PlanResult;
  const stackFile = (() => {
    try {
      return parseStackFile(text);
    } catch (e) {
      throw new Exit(1, `${file} (${when}): ${(e as Error).message}`);
    }
  })();
  try {
    result = await runPlan({ stack, stackFile, program });
  } catch (e) {
    // A ConfigError of either checkout (each has its own class; both are the SDK's RunError).
    if (e instanceof pulumi.RunError) throw new Exit(1, `${file} (${when}): ${e.message}`);
    throw e;
  }
  const json = toPlanJson(result);
  const configSecrets = stackFile.secretKeys.map((k) => stackFile.config[k]);
  assertNoSecrets(result, JSON.stringify(json), configSecrets);
  for (const s of collectSecrets(result, configSecrets)) secrets.push(s);
  return json;
}

const collectSecrets = (result: PlanResult, extra: string[]): string[] => secretValues(result, extra);

/**
 * The plan of a checkout whose packages differ from this one's: its own plan command, in its own
 * process, on its own node_modules; the JSON it prints is read as this version reads plans.
 */
function planElsewhere(root: string, file: string, when: string): PlanJson {
  try {
    // That checkout's own TypeScript loader: scripts/load-ts.cjs, or tsx before there was one.
    const loader = existsSync(join(root, "scripts", "load-ts.cjs")) ? ["--require", "./scripts/load-ts.cjs"] : ["--import", "tsx"];
    const out = execFileSync(process.execPath, [...loader, "scripts/plan.ts", "--config", file, "--format", "json"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 256 * 1024 * 1024,
    });
    return normalizePlan(JSON.parse(out) as PlanJson);
  } catch (e) {
    const err = e as { status?: number; stderr?: string };
    if (err.status === 1) throw new Exit(1, `${file} (${when}): ${String(err.stderr ?? "").trim()}`);
    throw new Error(`planning ${file} ${when} failed: ${String(err.stderr ?? (e as Error).message).trim()}`);
  }
}
