// Plans shared by the test processes of one `npm test` run (scripts/test.ts sets
// HOMELAB_PLAN_CACHE to a fresh temporary directory and removes it afterwards). The suite plans the
// lab stack, unchanged, about thirty times over its files; the first plan is kept, the others are
// copies of it. Without the variable (npm run plan, npm run diff, a single test file run by hand)
// nothing is cached.
//
// A plan is a function of the program (every file under src/ and apps/, and what is installed) and
// of its input (stack name, stack file, preview or not); the key is a hash of all of them, so a
// program or stack edited during a run is planned again. Runs with a monitor, another checkout's
// program, or synthesizers or invoke handlers of their own are never cached. Each caller gets its
// own deep copy (v8 serialization keeps undefined and every plain value as it was), so a test that
// edits a plan edits only its copy. Entries are written aside and renamed (atomic). The process that
// plans an entry first holds `<key>.lock` (created exclusively, removed when done); another process
// that wants the same plan meanwhile waits for the entry instead of planning it too on the same
// cores, and plans it itself if the holder ends without one (a failed plan, a dead process).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";

/** What a plan's input is (src/plan/run.ts RunOptions without the parts that cannot be cached). */
export interface PlanInput {
  readonly stack: string;
  readonly stackFile: unknown;
  readonly preview?: boolean;
}

const ROOT = join(__dirname, "..", "..");
/** The option keys a cached plan may have; anything else (monitor, program, synth, invokes) is run every time. */
const CACHEABLE = new Set(["stack", "stackFile", "preview"]);

let programHash: string | undefined;
/** A hash of every file the program runs or reads: src/, apps/, and npm's record of node_modules. */
function program(): string {
  if (programHash === undefined) {
    const h = createHash("sha256");
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else h.update(`${path}\0`).update(readFileSync(path)).update("\0");
      }
    };
    walk(join(ROOT, "src"));
    walk(join(ROOT, "apps"));
    try {
      h.update(readFileSync(join(ROOT, "node_modules", ".package-lock.json")));
    } catch {
      h.update("no node_modules/.package-lock.json");
    }
    programHash = h.digest("hex");
  }
  return programHash;
}

/** The cache directory of this run, or undefined when plans are not cached. */
export function planCacheDir(): string | undefined {
  return process.env.HOMELAB_PLAN_CACHE || undefined;
}

/** The cache key of a plan, or undefined when it cannot be cached. */
export function planKey(opts: Record<string, unknown>): string | undefined {
  if (Object.entries(opts).some(([k, v]) => v !== undefined && !CACHEABLE.has(k))) return undefined;
  const input: PlanInput = { stack: opts.stack as string, stackFile: opts.stackFile, preview: opts.preview === true };
  return createHash("sha256").update(program()).update(JSON.stringify(input)).digest("hex");
}

/** True while the process that wrote `lock` (its pid) runs and the lock is there. */
function held(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, "utf8"));
  } catch {
    return false;
  }
  if (!(pid > 0)) return true; // created, its pid not written yet
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The entry another process is writing, once it is there; undefined when this process is to plan it. */
async function waitForOther(file: string): Promise<Buffer | undefined> {
  const lock = `${file}.lock`;
  try {
    writeFileSync(lock, String(process.pid), { flag: "wx" });
    return undefined;
  } catch {
    // another process holds it
  }
  for (let waited = 0; waited < 300_000; waited += 50) {
    try {
      return readFileSync(file);
    } catch {
      if (!held(lock)) return undefined;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

/** This process's entries (serialized), and plans under way, by key. */
const memory = new Map<string, Promise<Buffer>>();

/** The plan of `opts` from the cache, or `plan()` (then kept); every call gets a copy of its own. */
export async function cachedPlan<T>(opts: Record<string, unknown>, plan: () => Promise<T>): Promise<T> {
  const dir = planCacheDir();
  const key = dir === undefined ? undefined : planKey(opts);
  if (dir === undefined || key === undefined) return plan();
  const file = join(dir, `${key}.bin`);
  let entry = memory.get(key);
  if (!entry) {
    entry = (async () => {
      try {
        return readFileSync(file);
      } catch {
        // not planned yet
      }
      const other = await waitForOther(file);
      if (other) return other;
      try {
        const bytes = serialize(await plan());
        try {
          const tmp = `${file}.${process.pid}.tmp`;
          writeFileSync(tmp, bytes);
          renameSync(tmp, file);
        } catch {
          // A directory gone or full only costs the other processes a plan of their own.
        }
        return bytes;
      } finally {
        try {
          if (readFileSync(`${file}.lock`, "utf8") === String(process.pid)) unlinkSync(`${file}.lock`);
        } catch {
          // already gone
        }
      }
    })();
    memory.set(key, entry);
    // A plan that fails (an invalid config) is not kept: the next call runs it again and fails alike.
    entry.catch(() => memory.delete(key));
  }
  return deserialize(await entry) as T;
}
