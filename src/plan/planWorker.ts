// The test run's plans, in a worker thread of each test process (src/plan/run.ts `runPlan` sends
// the cacheable ones here while HOMELAB_PLAN_CACHE is set, i.e. under `npm test`).
//
// Why: Node's test runner (20 and 22 alike) enables, for its whole process, an async hook with a destroy callback
// (lib/internal/test_runner/harness.js, `setup`: it maps every async resource to its test). With
// it every promise is tracked at its creation and its collection, and a plan is mostly the SDK's
// promises: the lab plan took 490 ms inside a test against 180 ms outside one. A worker thread is
// an environment of its own, without the runner's hook: a plan runs there as it does under
// `npm run plan`, one at a time (the Pulumi runtime is global state of the thread), and comes back
// serialized, as the plan cache keeps it. The worker loads the SDK once per test process.
import { serialize, deserialize } from "node:v8";
import { isMainThread, parentPort, SHARE_ENV, Worker } from "node:worker_threads";
import { join } from "node:path";
import type { PlanInput } from "./planCache";

/** An error as it crosses the thread boundary: a ConfigError keeps its list of problems. */
interface WorkerError {
  readonly name: string;
  readonly message: string;
  readonly errors?: string[];
}

type Reply = { readonly id: number; readonly plan: Uint8Array } | { readonly id: number; readonly error: WorkerError };

let worker: Worker | undefined;
let next = 0;
const pending = new Map<number, { resolve: (bytes: Uint8Array) => void; reject: (e: Error) => void }>();

/**
 * The worker's young generation: three semi-spaces of 64 MB, against Node's 16 MB. A plan keeps
 * most of its promises and outputs alive until it ends, so with small semi-spaces every scavenge
 * copies them again: a third of a plan's time was the collector; with these, half as much.
 */
const YOUNG_GENERATION_MB = 192;

function start(): Worker {
  // Under the test run the worker inherits `--require scripts/load-ts.cjs` (preloads run in
  // workers too); required again here only where it is missing.
  const loader = join(__dirname, "..", "..", "scripts", "load-ts.cjs");
  const code = `if (!require("node:module")._extensions[".ts"]) require(${JSON.stringify(loader)});\nrequire(${JSON.stringify(__filename)}).serve();`;
  const w = new Worker(code, { eval: true, env: SHARE_ENV, stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
  w.on("message", (reply: Reply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (pending.size === 0) w.unref();
    if ("plan" in reply) p.resolve(reply.plan);
    else p.reject(rebuild(reply.error));
  });
  const fail = (e: Error) => {
    worker = undefined;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  w.on("error", fail);
  w.on("exit", (code) => fail(new Error(`the plan worker exited (code ${code}) with a plan under way`)));
  return w;
}

function rebuild(e: WorkerError): Error {
  if (e.errors !== undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ConfigError } = require("../config/loader") as typeof import("../config/loader");
    return new ConfigError(e.errors);
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** Plans `input` in this process's plan worker (started on first use); the plan, serialized. */
export function planInWorker(input: PlanInput): Promise<Uint8Array> {
  worker ??= start();
  const id = next++;
  const w = worker;
  // Held while a plan is under way, so a test awaiting it keeps the process alive; idle, it is not.
  w.ref();
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ id, input: serialize(input) });
  });
}

/** Plans `input` in the worker and gives the plan back as a value. */
export async function planInWorkerValue<T>(input: PlanInput): Promise<T> {
  return deserialize(await planInWorker(input)) as T;
}

/** The worker's side: plans each request in turn. */
export function serve(): void {
  if (isMainThread || !parentPort) throw new Error("serve() runs in the plan worker");
  const port = parentPort;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { runPlanFresh } = require("./run") as typeof import("./run");
  const { ConfigError } = require("../config/loader") as typeof import("../config/loader");
  /* eslint-enable @typescript-eslint/no-require-imports */
  let queue = Promise.resolve();
  port.on("message", (msg: { id: number; input: Uint8Array }) => {
    queue = queue.then(async () => {
      const input = deserialize(msg.input) as PlanInput & { stackFile: import("./run").StackFile };
      try {
        const plan = serialize(await runPlanFresh(input));
        port.postMessage({ id: msg.id, plan } satisfies Reply);
      } catch (e) {
        const error: WorkerError =
          e instanceof ConfigError ? { name: e.name, message: e.message, errors: e.errors } : { name: (e as Error)?.name ?? "Error", message: (e as Error)?.message ?? String(e) };
        port.postMessage({ id: msg.id, error } satisfies Reply);
      }
    });
  });
}
