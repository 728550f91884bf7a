// npm run bench: whole-process time and peak memory of `plan` for the home and lab stacks and for
// generated stacks of 30 and 150 VMs, and of `diff --base-ref HEAD --all`. Prints a table; the time of loading the Pulumi SDK and the
// providers alone is measured too, since the figure to keep small is the rest. Runs go round-robin
// over the cases and each case keeps its fastest run, so a busy machine skews every case alike and
// as little as it can. Other work on the machine still moves the absolute times: compare ratios.
//
// Every command runs exactly as its npm script does (`node --require ./scripts/load-ts.cjs ...`),
// without npm's own start-up. The SDK is loaded twice for the baseline: by plain Node (what the
// target is measured against) and through the same loader and code cache the plan uses (what is left
// beyond the SDK when both start alike).
//
// First, unless `--no-tests`: `npm test` itself (scripts/test.ts, with its flags), once cold (node_modules/.cache
// removed: no type-check build info, no transformed TypeScript, no V8 code, no timings, as after
// `npm ci` in a fresh clone) and once warm, wall and CPU time (the suite's processes and theirs).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism as availableCores, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { generatedStack } from "./generatedStack";

const ROOT = resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Sample {
  seconds: number;
  maxRssMb: number;
  resources: number;
}

/** The node flags of the npm scripts: the project's TypeScript loader. */
const LOADER = ["--require", "./scripts/load-ts.cjs"];

/** The SDK and every provider package the program uses, loaded as a program loads them. */
const SDK_LOAD = ["@pulumi/pulumi", "@pulumi/kubernetes", "@muhlba91/pulumi-proxmoxve", "@pulumi/command", "@pulumi/random", "@pulumi/tls", "@pulumi/cloudflare"]
  .map((p) => `require(${JSON.stringify(p)});`)
  .join(" ");

function run(args: string[], env: Record<string, string> = {}): Sample {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed:\n${r.stderr}`);
  const stats = /plan-stats (\{.*\})/.exec(r.stderr);
  const parsed = stats ? (JSON.parse(stats[1]) as { resources: number; maxRssKb: number }) : { resources: 0, maxRssKb: 0 };
  return { seconds, maxRssMb: parsed.maxRssKb / 1024, resources: parsed.resources };
}

interface Case {
  readonly name: string;
  readonly args: string[];
  readonly env: Record<string, string>;
}

/** Every case RUNS times, round-robin: the fastest time and the highest peak memory of each. */
function measureAll(cases: readonly Case[]): Sample[] {
  const samples: Sample[][] = cases.map(() => []);
  for (let i = 0; i < RUNS; i++) cases.forEach((c, j) => samples[j].push(run(c.args, c.env)));
  return samples.map((xs) => ({
    seconds: Math.min(...xs.map((x) => x.seconds)),
    maxRssMb: Math.max(...xs.map((x) => x.maxRssMb)),
    resources: xs[0].resources,
  }));
}

/** VMs a stack file declares (cluster nodes and standalone VMs). */
function vmCount(file: string): number {
  const c = (parse(readFileSync(file, "utf8")) as { config: Record<string, unknown[] | undefined> }).config;
  return (c["homelab:nodes"] ?? []).length + (c["homelab:vms"] ?? []).length;
}

/** A target of the form "case A within X times case B". Other commands' cases add theirs here. */
interface RatioTarget {
  readonly what: string;
  readonly numerator: string;
  readonly denominator: string;
  readonly max: number;
}

const RATIOS: RatioTarget[] = [
  { what: "lab plan / SDK and providers loaded by plain Node", numerator: "lab", denominator: "sdk", max: 1.6 },
  { what: "150 VMs / the home stack", numerator: "generated-150", denominator: "home", max: 3 },
  // The diff of every stack against HEAD in one process, as run (an unchanged program and stack file
  // reuse the head plan as the base: the self-diff test holds that they are equal), against planning
  // the lab stack once. "diff-all-worktree" plans every base too, in a temporary worktree.
  { what: "diff --base-ref HEAD --all / one lab plan", numerator: "diff-all", denominator: "lab", max: 3 },
];

/** Wall and CPU seconds of the whole suite (its processes and all theirs, from bash's `times`). */
function suite(): { seconds: number; cpu: number; summary: string } {
  const start = process.hrtime.bigint();
  const cmd = `${JSON.stringify(process.execPath)} --conditions=homelab-source ${LOADER.join(" ")} scripts/test.ts > "$1" 2>&1; s=$?; times; exit $s`;
  const out = join(mkdtempSync(join(tmpdir(), "homelab-bench-test-")), "npm-test.log");
  const r = spawnSync("bash", ["-c", cmd, "bench", out], { cwd: ROOT, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const log = readFileSync(out, "utf8");
  if (r.status !== 0) throw new Error(`npm test failed (exit ${r.status}); its output is in ${out}:\n${log.slice(-2000)}`);
  // `times` prints the shell's own user and system time, then its children's: "0m1.234s 0m0.567s".
  const children = r.stdout.trim().split("\n")[1] ?? "";
  const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((t, m) => t + Number(m[1]) * 60 + Number(m[2]), 0);
  const count = (what: string) => new RegExp(`^ℹ ${what} (\\d+)$`, "m").exec(log)?.[1] ?? "?";
  return { seconds, cpu, summary: `${count("tests")} tests, ${count("pass")} passed` };
}

const TEST_TARGETS = { cold: 60, warm: 30 };

function benchTests(): void {
  const load = loadavg()[0].toFixed(1);
  console.log(`npm test on ${availableCores()} cores (load average ${load} at the start: other work on the machine slows it)`);
  rmSync(join(ROOT, "node_modules", ".cache"), { recursive: true, force: true });
  const cold = suite();
  const warm = suite();
  for (const [name, r] of [
    ["cold", cold],
    ["warm", warm],
  ] as const) {
    const max = TEST_TARGETS[name];
    console.log(`target: npm test ${name} under ${max} s: ${r.seconds.toFixed(1)} s, ${r.cpu.toFixed(1)} CPU-s; ${r.summary} (${r.seconds < max ? "met" : "NOT met"})`);
  }
  console.log("");
}

function main(): void {
  if (!process.argv.includes("--no-tests")) benchTests();
  const dir = mkdtempSync(join(tmpdir(), "homelab-bench-"));
  const stats = { HOMELAB_PLAN_STATS: "1" };
  const files: [string, string][] = [
    ["home", join(ROOT, "Pulumi.home.yaml")],
    ["lab", join(ROOT, "Pulumi.lab.yaml")],
    ["generated-30", generatedStack(30, dir)],
    ["generated-150", generatedStack(150, dir)],
  ];
  const cases: Case[] = [
    { name: "sdk", args: ["-e", SDK_LOAD], env: {} },
    { name: "sdk-loader", args: [...LOADER, "-e", SDK_LOAD], env: {} },
    ...files.map(([name, file]) => ({ name, args: [...LOADER, "scripts/plan.ts", "--config", file], env: stats })),
    { name: "diff-all", args: [...LOADER, "scripts/diff.ts", "--base-ref", "HEAD", "--all", "--format", "json"], env: {} },
    { name: "diff-all-worktree", args: [...LOADER, "scripts/diff.ts", "--base-ref", "HEAD", "--all", "--format", "json"], env: { HOMELAB_DIFF_WORKTREE: "1" } },
  ];
  const measured = measureAll(cases);
  const seconds = new Map(cases.map((c, i) => [c.name, measured[i].seconds]));
  const [sdkOnly, sdkLoader, ...samples] = measured;
  const diffWorktree = samples.pop()!;
  const diffAll = samples.pop()!;
  const rows = files.map(([name, file], i) => ({ name, vms: vmCount(file), ...samples[i] }));

  const line = (cols: (string | number)[]) => `| ${cols.join(" | ")} |`;
  console.log(`plan benchmark: fastest of ${RUNS} runs each; node ${process.versions.node}`);
  console.log(`SDK and providers alone load in ${sdkOnly.seconds.toFixed(2)} s (plain Node), ${sdkLoader.seconds.toFixed(2)} s (the plan's loader and code cache)\n`);
  console.log(line(["stack", "VMs", "resources", "time (s)", "beyond SDK load (s)", "ms per resource", "peak RSS (MB)"]));
  console.log(line(["---", "---:", "---:", "---:", "---:", "---:", "---:"]));
  for (const r of rows) {
    // Beyond the SDK as the plan loads it: the program's own work.
    const beyond = Math.max(r.seconds - sdkLoader.seconds, 0);
    console.log(line([r.name, r.vms, r.resources, r.seconds.toFixed(2), beyond.toFixed(2), ((beyond * 1000) / r.resources).toFixed(1), r.maxRssMb.toFixed(0)]));
  }
  console.log(
    `\ndiff --base-ref HEAD --all: ${diffAll.seconds.toFixed(2)} s as run; ${diffWorktree.seconds.toFixed(2)} s with every base planned in a temporary worktree (HOMELAB_DIFF_WORKTREE=1)`,
  );
  console.log("");
  for (const t of RATIOS) {
    const ratio = seconds.get(t.numerator)! / seconds.get(t.denominator)!;
    console.log(`target: ${t.what} under ${t.max}x: ${ratio.toFixed(2)}x (${ratio < t.max ? "met" : "NOT met"})`);
  }
  const lab = seconds.get("lab")! / sdkLoader.seconds;
  console.log(`        (lab plan / SDK and providers through the same loader and code cache: ${lab.toFixed(2)}x)`);
  const big = rows[rows.length - 1];
  console.log(`target: 150 VMs under 500 MB: ${big.maxRssMb.toFixed(0)} MB (${big.maxRssMb < 500 ? "met" : "NOT met"})`);
}

main();
