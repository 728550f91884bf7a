// The whole project type-checks (the TypeScript loader that runs the tests only transforms). A test
// of its own so the runner schedules it beside the other files instead of before them.
//
// `tsc --build` first asks whether anything changed since the last clean check (the project's files
// and tsconfig, by time and hash) and stops there when nothing did: 0.3 s instead of re-parsing the
// 2,800 declaration files of the SDK and providers (5 s) on every run. It does not look at those
// declaration files themselves, so a change of installed packages forces a full check.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { ROOT } from "./harness";

/** Next to tsconfig's tsBuildInfoFile: what was installed when the last clean check ran. */
const STAMP = join(ROOT, "node_modules", ".cache", "tsc", "installed.sha256");

function installed(): string {
  const h = createHash("sha256");
  // The project's lock file and npm's record of what is really in node_modules.
  for (const f of ["package-lock.json", join("node_modules", ".package-lock.json")]) {
    const path = join(ROOT, f);
    h.update(existsSync(path) ? readFileSync(path) : "absent");
  }
  return h.digest("hex");
}

test("tsc --noEmit reports no error", () => {
  const now = installed();
  const force = !existsSync(STAMP) || readFileSync(STAMP, "utf8") !== now;
  const args = [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "--build", ROOT, "--noEmit", ...(force ? ["--force"] : [])];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  mkdirSync(dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, now);
});
