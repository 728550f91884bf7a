// Outside validators (Debian's cloud-init and shellcheck). A test that needs one runs it when it is
// installed and reports a visible skip when it is not; under CI (CI=true) a missing one fails.
//
// Their verdicts are kept in node_modules/.cache/homelab-validators, keyed by a hash of the
// validator's own version line, its arguments and the document: a validator is a function of
// those, so a document the suite checked before, unchanged, under the same release, gets the verdict
// it got then (the suite checks about a hundred scripts, each 30 to 300 ms of shellcheck, and cloud-init
// starts Python for every document). Any change of the document or the release runs the validator
// again; a fresh clone (CI) runs every one. HOMELAB_NO_VALIDATOR_CACHE=1 runs them all every time.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

const CACHE = join(__dirname, "..", "node_modules", ".cache", "homelab-validators");

const installed = new Map<string, boolean>();
export function hasTool(tool: string): boolean {
  let found = installed.get(tool);
  if (found === undefined) {
    found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).status === 0;
    installed.set(tool, found);
  }
  return found;
}

/** True when `tool` can run; otherwise skips the test (or throws under CI). */
export function requireTool(t: TestContext, tool: string, debianPackage = tool): boolean {
  if (hasTool(tool)) return true;
  if (process.env.CI === "true") throw new Error(`${tool} is required under CI: apt-get install ${debianPackage}`);
  t.skip(`${tool} not installed (apt-get install ${debianPackage})`);
  return false;
}

function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "homelab-")), name);
  writeFileSync(path, content);
  return path;
}

const versions = new Map<string, string>();
/** The validator's own version line(s), once per process. */
function versionOf(tool: string): string {
  let v = versions.get(tool);
  if (v === undefined) {
    const r = spawnSync(tool, ["--version"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${tool} --version failed: ${r.stderr}`);
    v = r.stdout.trim();
    versions.set(tool, v);
  }
  return v;
}

/** `run()`'s verdict on `document`, from the cache when this release has judged it before. */
export function verdict(tool: string, args: readonly string[], document: string, run: () => string): string {
  if (process.env.HOMELAB_NO_VALIDATOR_CACHE === "1") return run();
  const key = createHash("sha256")
    .update(`${versionOf(tool)}\0${args.join("\0")}\0`)
    .update(document)
    .digest("hex");
  const file = join(CACHE, tool, `${key}.txt`);
  try {
    return readFileSync(file, "utf8");
  } catch {
    // not judged yet
  }
  const out = run();
  try {
    mkdirSync(join(CACHE, tool), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, out);
    renameSync(tmp, file);
  } catch {
    // a cache that cannot be written only costs time
  }
  return out;
}

/** Runs shellcheck on a script; returns its findings ("" when clean). */
export function shellcheck(script: string, shell = "sh"): string {
  const args = ["--shell", shell, "--severity", "style"];
  return verdict("shellcheck", args, script, () => {
    const r = spawnSync("shellcheck", [...args, tempFile("script.sh", script)], { encoding: "utf8" });
    return r.status === 0 ? "" : `${r.stdout}${r.stderr}`;
  });
}

/** Runs `cloud-init schema` on a user-data document; returns its complaints ("" when valid). */
export function cloudInitSchema(userData: string): string {
  const args = ["schema", "--config-file"];
  return verdict("cloud-init", args, userData, () => {
    const r = spawnSync("cloud-init", [...args, tempFile("user-data.yaml", userData)], { encoding: "utf8" });
    return r.status === 0 ? "" : `${r.stdout}${r.stderr}`;
  });
}
