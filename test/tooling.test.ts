// The files a person picks the project up with: the Makefile's verbs, direnv's .envrc.example, the
// Node.js pin for version managers, the secret scan and the pre-commit hook.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createEngine } from "@secretlint/node";
import { requireTool, shellcheck } from "./validators";

const ROOT = join(__dirname, "..");
const read = (f: string) => readFileSync(join(ROOT, f), "utf8");
const run = (cmd: string, args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = process.env) => spawnSync(cmd, args, { cwd, encoding: "utf8", env });

/** A token-shaped string built at run time, so no secret-looking literal sits in the repository. */
const FAKE_GITHUB_TOKEN = `ghp_${"DKRYfmt07ELSZgnu18FMTahov29GNUbipw3A"}`;

describe("Makefile", () => {
  // Without STACK from the environment (a direnv .envrc may export it).
  const env = { ...process.env };
  delete env.STACK;
  delete env.BASE;
  const make = (...args: string[]) => run("make", ["--no-print-directory", ...args], ROOT, env);

  test("make help lists every verb", (t) => {
    if (!requireTool(t, "make")) return;
    const r = make("help");
    assert.equal(r.status, 0, r.stderr);
    const verbs = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => /^ {2}make (\S+) +\S/.exec(l)?.[1]);
    assert.deepEqual(verbs, ["help", "plan", "diff", "adopt", "preview", "up", "test", "lint", "format", "format-check", "hooks"]);
    assert.equal(make().stdout, r.stdout, "help is the default goal");
  });

  test("make -n shows what each verb runs", (t) => {
    if (!requireTool(t, "make")) return;
    const guard = (verb: string) => `test -n "lab" || { echo "make ${verb}: set STACK, e.g. make ${verb} STACK=lab" >&2; exit 2; }`;
    const expected: Record<string, string[]> = {
      "plan STACK=lab": [guard("plan"), "npm run -s plan -- --stack lab"],
      diff: ["npm run -s diff -- --base-ref main --all --format markdown"],
      "diff BASE=origin/main": ["npm run -s diff -- --base-ref origin/main --all --format markdown"],
      "adopt STACK=lab": [guard("adopt"), "npm run -s adopt -- --stack lab"],
      "preview STACK=lab": [guard("preview"), "pulumi preview --stack lab --diff --refresh"],
      "up STACK=lab": [guard("up"), "pulumi up --stack lab --diff"],
      test: ["npm test"],
      lint: ["npm run -s lint", "npm run -s secrets"],
      "format-check": ["npm run -s format:check"],
      hooks: ["git config core.hooksPath .githooks"],
    };
    for (const [args, lines] of Object.entries(expected)) {
      const r = make("-n", ...args.split(" "));
      assert.equal(r.status, 0, `${args}: ${r.stderr}`);
      assert.deepEqual(r.stdout.trimEnd().split("\n"), lines, args);
    }
  });

  test("a verb that needs a stack refuses to run without one", (t) => {
    if (!requireTool(t, "make")) return;
    for (const verb of ["plan", "adopt", "preview", "up"]) {
      const r = make(verb);
      assert.equal(r.status, 2, verb);
      assert.match(r.stderr, new RegExp(`^make ${verb}: set STACK, e.g. make ${verb} STACK=lab\n`));
    }
  });
});

describe("direnv and the Node.js pin", () => {
  test(".envrc.example says where the state and the secrets' key come from, and is valid bash", (t) => {
    const envrc = read(".envrc.example");
    for (const v of ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_CONFIG_PASSPHRASE", "change-secrets-provider", "awskms://"]) assert.ok(envrc.includes(v), v);
    assert.match(envrc, /pulumi config set --secret/);
    if (requireTool(t, "shellcheck")) assert.equal(shellcheck(envrc, "bash"), "");
  });

  test(".envrc is git-ignored", () => {
    assert.ok(read(".gitignore").split("\n").includes(".envrc"));
  });

  test(".nvmrc and .node-version pin one exact Node.js release that package.json's engines allow", () => {
    const nvmrc = read(".nvmrc");
    assert.equal(read(".node-version"), nvmrc);
    const m = /^(\d+)\.(\d+)\.(\d+)\n$/.exec(nvmrc);
    assert.ok(m, nvmrc);
    const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
    const min = /^>=(\d+)$/.exec(engines);
    assert.ok(min, `engines.node is ${engines}: update this test with the range`);
    assert.ok(Number(m[1]) >= Number(min[1]));
    assert.equal(m[1], "22", "the release CI runs (.ci/run installs it where the machine's node is older)");
  });
});

describe("secret scanning", () => {
  test("secretlint finds a token, and passes the stack files (secure: placeholders, public SSH keys)", async () => {
    const engine = await createEngine({ cwd: ROOT, configFilePath: join(ROOT, ".secretlintrc.json"), formatter: "compact", color: false, maskSecrets: true });
    const leak = await engine.executeOnContent({ content: `token: ${FAKE_GITHUB_TOKEN}\n`, filePath: join(ROOT, "leak.yaml") });
    assert.equal(leak.ok, false);
    assert.match(leak.output, /GITHUB_TOKEN/);
    assert.ok(!leak.output.includes(FAKE_GITHUB_TOKEN), "the finding is masked");
    const stacks = [...readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f)), ...readdirSync(join(ROOT, "stacks")).map((f) => `stacks/${f}`), "docs/config-reference.yaml"];
    for (const f of stacks) {
      const r = await engine.executeOnContent({ content: read(f), filePath: join(ROOT, f) });
      assert.equal(r.ok, true, `${f}: ${r.output}`);
    }
  });
});

describe("the pre-commit hook", () => {
  test("is a POSIX shell script that runs scripts/pre-commit.mjs", (t) => {
    const hook = read(".githooks/pre-commit");
    assert.match(hook, /^#!\/bin\/sh\n/);
    assert.match(hook, /exec node "\$\(git rev-parse --show-toplevel\)\/scripts\/pre-commit\.mjs"/);
    if (requireTool(t, "shellcheck")) assert.equal(shellcheck(hook, "sh"), "");
  });

  test("checks what is staged: a secret or an unformatted file fails the commit, clean files pass", (t) => {
    if (!requireTool(t, "git")) return;
    const repo = mkdtempSync(join(tmpdir(), "homelab-hook-"));
    const git = (...args: string[]) => assert.equal(run("git", ["-c", "init.defaultBranch=main", ...args], repo).status, 0, args.join(" "));
    git("init", "-q");
    for (const f of [".secretlintrc.json", ".prettierrc.json", ".prettierignore"]) copyFileSync(join(ROOT, f), join(repo, f));
    const hook = () => run(process.execPath, [join(ROOT, "scripts", "pre-commit.mjs")], repo);

    writeFileSync(join(repo, "ok.ts"), 'export const answer = { value: 42, name: "answer" };\n');
    writeFileSync(join(repo, "notes.md"), "Markdown   is not   formatted by Prettier here.\n");
    git("add", "ok.ts", "notes.md");
    const clean = hook();
    assert.equal(clean.status, 0, clean.stderr);

    writeFileSync(join(repo, "ugly.ts"), "export const  answer={value:42}\n");
    writeFileSync(join(repo, "config.yaml"), `github: ${FAKE_GITHUB_TOKEN}\n`);
    git("add", "ugly.ts", "config.yaml");
    // The working tree is clean again; the index still holds both problems.
    writeFileSync(join(repo, "ugly.ts"), "export const answer = { value: 42 };\n");
    writeFileSync(join(repo, "config.yaml"), "github: none\n");
    const dirty = hook();
    assert.equal(dirty.status, 1);
    assert.match(dirty.stderr, /^pre-commit: 2 problem\(s\) in the staged files:\n/);
    assert.match(dirty.stderr, /config\.yaml: line 1, col \d+, Error - \[GITHUB_TOKEN\]/);
    assert.match(dirty.stderr, /\nugly\.ts: not formatted \(npx prettier --write ugly\.ts\)\n$/);
    assert.ok(!dirty.stderr.includes(FAKE_GITHUB_TOKEN));
  });
});
