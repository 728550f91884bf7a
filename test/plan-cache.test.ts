// The test run's plan cache (src/plan/planCache.ts) and the split of the test files into processes
// (scripts/test.ts): what is cached and what never is, copies that do not share state, entries
// another process wrote, the plan worker (src/plan/planWorker.ts), and an even split.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { serialize } from "node:v8";
import { balance } from "../scripts/test";
import { cachedPlan, planKey } from "../src/plan/planCache";
import { ConfigError } from "../src/config/loader";
import { planInWorkerValue } from "../src/plan/planWorker";
import { RecordingMonitor } from "../src/plan/recorder";
import { readStackFile, runPlanFresh, type PlanResult } from "../src/plan/run";
import { ROOT } from "./harness";

const stackFile = { config: { "homelab:domain": "lab.example.com" }, secretKeys: [], secureDigests: {} };

/** Runs `fn` with HOMELAB_PLAN_CACHE set to `dir` (or unset), then restores the run's own setting. */
async function withCacheDir<T>(dir: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.HOMELAB_PLAN_CACHE;
  if (dir === undefined) delete process.env.HOMELAB_PLAN_CACHE;
  else process.env.HOMELAB_PLAN_CACHE = dir;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.HOMELAB_PLAN_CACHE;
    else process.env.HOMELAB_PLAN_CACHE = saved;
  }
}

test("a plan's key is its stack, stack file and preview flag; runs with a monitor, a program, synthesizers or invokes have none", () => {
  const key = planKey({ stack: "lab", stackFile });
  assert.match(String(key), /^[0-9a-f]{64}$/);
  assert.equal(planKey({ stack: "lab", stackFile, preview: false }), key);
  assert.equal(planKey({ stack: "lab", stackFile, monitor: undefined }), key);
  assert.notEqual(planKey({ stack: "lab", stackFile, preview: true }), key);
  assert.notEqual(planKey({ stack: "home", stackFile }), key);
  assert.notEqual(planKey({ stack: "lab", stackFile: { ...stackFile, secretKeys: ["homelab:domain"] } }), key);
  for (const extra of [{ monitor: new RecordingMonitor() }, { program: {} }, { synth: {} }, { invokes: {} }]) {
    assert.equal(planKey({ stack: "lab", stackFile, ...extra }), undefined, Object.keys(extra)[0]);
  }
});

test("a cached plan is planned once, each caller gets its own copy, and a failed plan is not kept", async () => {
  const dir = mkdtempSync(join(tmpdir(), "plan-cache-test-"));
  let runs = 0;
  const plan = async () => ({ run: ++runs, resources: [{ name: "a", parent: null, extra: undefined }] });
  const opts = { stack: `once-${process.pid}`, stackFile };
  const [a, b] = await withCacheDir(dir, async () => [await cachedPlan(opts, plan), await cachedPlan(opts, plan)]);
  assert.equal(runs, 1);
  assert.deepStrictEqual(a, { run: 1, resources: [{ name: "a", parent: null, extra: undefined }] });
  assert.deepStrictEqual(b, a);
  a.resources[0].name = "edited";
  assert.equal(b.resources[0].name, "a", "the copies share nothing");
  assert.deepEqual(readdirSync(dir), [`${planKey(opts)}.bin`], "one entry, no temporary file left");

  const failing = { stack: `fails-${process.pid}`, stackFile };
  let attempts = 0;
  const fail = async () => {
    attempts++;
    throw new Error("config: invalid");
  };
  await withCacheDir(dir, async () => {
    await assert.rejects(cachedPlan(failing, fail), /^Error: config: invalid$/);
    await assert.rejects(cachedPlan(failing, fail), /^Error: config: invalid$/);
  });
  assert.equal(attempts, 2);
});

test("an entry another process wrote is used as it is; without the cache directory every call plans", async () => {
  const dir = mkdtempSync(join(tmpdir(), "plan-cache-test-"));
  const opts = { stack: `other-${process.pid}`, stackFile };
  writeFileSync(join(dir, `${planKey(opts)}.bin`), serialize({ from: "the other process" }));
  let runs = 0;
  const plan = async () => ({ from: `this process, run ${++runs}` });
  assert.deepEqual(await withCacheDir(dir, () => cachedPlan(opts, plan)), { from: "the other process" });
  assert.equal(runs, 0);
  const uncached = { stack: `uncached-${process.pid}`, stackFile };
  await withCacheDir(undefined, async () => {
    assert.deepEqual(await cachedPlan(uncached, plan), { from: "this process, run 1" });
    assert.deepEqual(await cachedPlan(uncached, plan), { from: "this process, run 2" });
  });
});

test("a plan another process is planning is waited for; a lock whose process is gone is not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "plan-cache-test-"));
  const opts = { stack: `waited-${process.pid}`, stackFile };
  const entry = join(dir, `${planKey(opts)}.bin`);
  // "Another process" (this one's pid: alive) holds the lock and writes the entry a little later.
  writeFileSync(`${entry}.lock`, String(process.pid));
  setTimeout(() => writeFileSync(entry, serialize({ from: "the holder" })), 200);
  let runs = 0;
  const plan = async () => ({ from: `this process, run ${++runs}` });
  assert.deepEqual(await withCacheDir(dir, () => cachedPlan(opts, plan)), { from: "the holder" });
  assert.equal(runs, 0);

  const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
  const orphan = { stack: `orphan-${process.pid}`, stackFile };
  const orphanEntry = join(dir, `${planKey(orphan)}.bin`);
  writeFileSync(`${orphanEntry}.lock`, gone);
  assert.deepEqual(await withCacheDir(dir, () => cachedPlan(orphan, plan)), { from: "this process, run 1" });
});

test("the test files are split into groups of about equal time, each in name order", () => {
  const ms: Record<string, number> = { a: 10, b: 9, c: 5, d: 4, e: 1, f: 1 };
  assert.deepEqual(
    balance(Object.keys(ms), (f) => ms[f], 2),
    [
      ["a", "d", "e"],
      ["b", "c", "f"],
    ],
  );
  assert.deepEqual(
    balance(["x", "y"], () => 1, 4),
    [["x"], ["y"]],
  );
});

test("a plan in the plan worker is the plan of this thread; an invalid config comes back as the ConfigError it is", async () => {
  const file = readStackFile(join(ROOT, "Pulumi.home.yaml"));
  const there = await planInWorkerValue<PlanResult>({ stack: "home", stackFile: file });
  const here = await runPlanFresh({ stack: "home", stackFile: file });
  assert.deepStrictEqual(there, here);

  const bad = { config: { "homelab:domain": "not a domain" }, secretKeys: [], secureDigests: {} };
  const inThread = await runPlanFresh({ stack: "bad", stackFile: bad }).then(
    () => assert.fail("the invalid config planned"),
    (e: unknown) => e,
  );
  const fromWorker = await planInWorkerValue({ stack: "bad", stackFile: bad }).then(
    () => assert.fail("the invalid config planned in the worker"),
    (e: unknown) => e,
  );
  assert.ok(inThread instanceof ConfigError && fromWorker instanceof ConfigError, `${String(fromWorker)}`);
  assert.deepEqual(fromWorker.errors, inThread.errors);
  assert.ok(fromWorker.errors.length > 0);
});
