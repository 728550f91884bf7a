// Outside validators (Debian's cloud-init and shellcheck). A test that needs one runs it when it is
// installed and reports a visible skip when it is not; under CI (CI=true) a missing one fails.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

export function hasTool(tool: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).status === 0;
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

/** Runs shellcheck on a script; returns its findings ("" when clean). */
export function shellcheck(script: string, shell = "sh"): string {
  const r = spawnSync("shellcheck", ["--shell", shell, "--severity", "style", tempFile("script.sh", script)], { encoding: "utf8" });
  return r.status === 0 ? "" : `${r.stdout}${r.stderr}`;
}

/** Runs `cloud-init schema` on a user-data document; returns its complaints ("" when valid). */
export function cloudInitSchema(userData: string): string {
  const r = spawnSync("cloud-init", ["schema", "--config-file", tempFile("user-data.yaml", userData)], { encoding: "utf8" });
  return r.status === 0 ? "" : `${r.stdout}${r.stderr}`;
}
