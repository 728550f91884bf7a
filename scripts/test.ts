// npm test: the test files (all of test/*.test.ts, or those named) in as many processes as the
// machine has cores, through node's own runner and its spec reporter.
//
//   npm test                                   # everything
//   npm test -- test/plan.test.ts test/diff.test.ts
//   npm test -- --test-name-pattern=legend     # flags go to node's runner
//
// Why not a process per file (node --test test/*.test.ts): each one loads the Pulumi SDK and the
// providers again, about a second of CPU, thirty-odd times a run. Here the files are split into one
// group per core (test/support/group.ts requires a group's files in one process, each in a suite of
// its own), balanced by how long each file took the last time (node_modules/.cache/homelab-test/;
// by size the first time). The groups share a plan cache for this run (src/plan/planCache.ts, in a
// temporary directory removed at the end): a stack file that several files plan unchanged is
// planned once, in a worker thread of the process that needs it first (src/plan/planWorker.ts), out
// of reach of the async hook the test runner puts on every promise of its own thread.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(__dirname, "..");
const TIMINGS = join(ROOT, "node_modules", ".cache", "homelab-test", "timings.json");

/** Splits files into `n` groups of about equal expected time: the longest first, each to the group with the least so far. */
export function balance(files: readonly string[], weight: (file: string) => number, n: number): string[][] {
  const groups = Array.from({ length: Math.min(n, files.length) }, () => ({ files: [] as string[], total: 0 }));
  const heaviest = [...files].sort((a, b) => weight(b) - weight(a) || a.localeCompare(b));
  for (const f of heaviest) {
    const g = groups.reduce((min, x) => (x.total < min.total ? x : min));
    g.files.push(f);
    g.total += weight(f);
  }
  // Within a group, the files run in name order, as `node --test` runs them.
  return groups.map((g) => g.files.sort());
}

function readTimings(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(TIMINGS, "utf8")) as Record<string, number>;
  } catch {
    return {};
  }
}

function main(argv: string[]): number {
  const flags = argv.filter((a) => a.startsWith("-"));
  const named = argv.filter((a) => !a.startsWith("-")).map((a) => resolve(a));
  const testDir = join(ROOT, "test");
  const files =
    named.length > 0
      ? named
      : readdirSync(testDir)
          .filter((f) => f.endsWith(".test.ts"))
          .sort()
          .map((f) => join(testDir, f));
  for (const f of files) if (!existsSync(f)) throw new Error(`no test file ${f}`);

  const last = readTimings();
  // Unknown files weigh what their size says, at the rate of the known ones (or 1 ms a byte).
  const known = files.filter((f) => last[relative(ROOT, f)] !== undefined);
  const rate = known.length > 0 ? known.reduce((s, f) => s + last[relative(ROOT, f)], 0) / known.reduce((s, f) => s + statSync(f).size, 0) : 1;
  const weight = (f: string) => last[relative(ROOT, f)] ?? statSync(f).size * rate;
  const jobs = Number(process.env.HOMELAB_TEST_JOBS ?? availableParallelism());
  const groups = balance(files, weight, jobs);

  const dir = mkdtempSync(join(tmpdir(), "homelab-test-"));
  try {
    const entries = groups.map((g, i) => {
      const entry = join(dir, `group-${i + 1}.test.cjs`);
      const call = `require(${JSON.stringify(join(ROOT, "test", "support", "group.ts"))}).group(${JSON.stringify(g)}, ${JSON.stringify(join(dir, `timings-${i + 1}.json`))});`;
      writeFileSync(entry, `"use strict";\n${call}\n`);
      return entry;
    });
    mkdirSync(join(dir, "plans"));
    const r = spawnSync(process.execPath, [...process.execArgv, "--test", `--test-concurrency=${groups.length}`, "--test-reporter=spec", ...flags, ...entries], {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, HOMELAB_PLAN_CACHE: join(dir, "plans") },
    });
    // Keep the timings of the files that ran (others keep their last ones) for the next split.
    const timings = { ...last };
    for (let i = 1; i <= groups.length; i++) {
      try {
        Object.assign(timings, JSON.parse(readFileSync(join(dir, `timings-${i}.json`), "utf8")));
      } catch {
        // a group that died early leaves no timings
      }
    }
    mkdirSync(join(TIMINGS, ".."), { recursive: true });
    // Two runs may end at once: write aside, then rename (atomic).
    writeFileSync(`${TIMINGS}.${process.pid}`, `${JSON.stringify(timings, Object.keys(timings).sort(), 2)}\n`);
    renameSync(`${TIMINGS}.${process.pid}`, TIMINGS);
    return r.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
