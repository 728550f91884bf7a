// The diff command: the two plan-file form and its JSON contract, the --base-ref form (a real
// temporary git worktree, removed afterwards), usage errors and exit codes, the secret guard, and
// the 65,536-character limit of the comment on the 150-VM stack.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { stringify } from "yaml";
import { generatedStackDoc } from "../scripts/generatedStack";
import { diffPlans, OPS } from "../src/plan/diff";
import { refuseSecrets, runDiffCli } from "../src/plan/diffCli";
import { COMMENT_BUDGET, COMMENT_LIMIT, COMMENT_MARKER, toDiffMarkdown } from "../src/plan/diffFormat";
import { toPlanJson, type PlanJson } from "../src/plan/format";
import { parseStackFile, runPlan } from "../src/plan/run";
import { ROOT, stackDoc } from "./harness";

async function diffCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const status = await runDiffCli(args, { cwd: ROOT, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { status, stdout, stderr };
}

const planOf = async (config: Record<string, unknown>, stack = "lab"): Promise<PlanJson> => toPlanJson(await runPlan({ stack, stackFile: parseStackFile(stringify({ config })) }));

describe("diff --base --head", () => {
  test("compares two plan files: the JSON contract, the markdown comment, the text", async () => {
    const dir = mkdtempSync(join(tmpdir(), "diff-cli-"));
    const config = stackDoc();
    const base = await planOf(config);
    config["homelab:nodes"][0].vmid = 219;
    const head = await planOf(config);
    writeFileSync(join(dir, "a.json"), JSON.stringify(base));
    writeFileSync(join(dir, "b.json"), JSON.stringify(head));

    const json = await diffCli(["--base", join(dir, "a.json"), "--head", join(dir, "b.json"), "--format", "json"]);
    assert.equal(json.status, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { stacks: Record<string, any>[] };
    assert.deepEqual(Object.keys(doc), ["stacks"]);
    const s = doc.stacks[0];
    assert.deepEqual(Object.keys(s), ["stack", "summary", "changes", "blockers", "warnings"]);
    assert.deepEqual(Object.keys(s.summary), [...OPS]);
    for (const c of s.changes) {
      for (const k of ["urn", "type", "name", "op", "reasons", "properties", "confidence"]) assert.ok(k in c, `${c.name} has ${k}`);
      assert.ok(OPS.includes(c.op));
      assert.ok(["exact", "table", "advisory"].includes(c.confidence));
      for (const p of c.properties) assert.deepEqual(Object.keys(p).slice(0, 4), ["path", "old", "new", "forcesReplacement"]);
    }
    for (const n of [...s.blockers, ...s.warnings]) assert.deepEqual(Object.keys(n), ["urn", "message"]);
    assert.equal(s.blockers[0].urn, "urn:pulumi:lab::homelab::homelab:metal:ProxmoxVm$proxmoxve:index/vmLegacy:VmLegacy::k3s-server-01-vm");

    const md = await diffCli(["--base", join(dir, "a.json"), "--head", join(dir, "b.json"), "--format", "markdown"]);
    assert.equal(md.status, 0, md.stderr);
    const lines = md.stdout.split("\n");
    assert.equal(lines[0], COMMENT_MARKER);
    const n = s.summary as Record<string, number>;
    assert.equal(lines[5], `| lab | 0 | 0 | ${n.replace} | 0 | ${n.same} | 1 | ${s.warnings.length} |`);
    assert.ok(
      lines.slice(0, 10).some((l) => /k3s-server-01-vm is protected and would be replaced/.test(l)),
      "the blocker is in the first lines",
    );
    assert.match(md.stdout, /<details><summary>metal: \d+ to replace<\/summary>/);

    const text = await diffCli(["--base", join(dir, "a.json"), "--head", join(dir, "b.json")]);
    assert.equal(text.status, 0);
    assert.equal(text.stdout.split("\n")[1], `  lab: 0 to create, 0 to update, ${n.replace} to replace, 0 to delete, ${n.same} unchanged, 1 BLOCKER(S)`);
    assert.match(text.stdout.split("\n")[3], /^ {2}lab: k3s-server-01-vm is protected/);
    for (const out of [json.stdout, md.stdout, text.stdout]) assert.doesNotMatch(out, /plan-placeholder-|plan-random-|PRIVATE KEY/);
  });

  test("usage errors exit 2 and name the problem", async () => {
    for (const [args, message] of [
      [[], /^give either --base and --head, or --base-ref\n/],
      [["--base", "a.json"], /^give both --base and --head\n/],
      [["--base-ref", "HEAD"], /^give exactly one of --stack, --config and --all\n/],
      [["--base-ref", "no-such-ref-xyz", "--all"], /^unknown git ref 'no-such-ref-xyz'/],
      [["--base-ref", "HEAD", "--all", "--format", "html"], /^--format must be text, markdown or json, not 'html'\n/],
      [["--base", "nope.json", "--head", "nope.json"], /^no plan file .*nope\.json\n/],
    ] as const) {
      const r = await diffCli([...args]);
      assert.equal(r.status, 2, args.join(" "));
      assert.equal(r.stdout, "");
      assert.match(r.stderr, message);
    }
  });

  test("the secret guard refuses output that holds a secret of either plan", () => {
    assert.throws(
      () => refuseSecrets("token: plan-placeholder-homelab-proxmoxApiToken", ["plan-placeholder-homelab-proxmoxApiToken"]),
      /^Error: refusing to print the diff: 1 secret value\(s\) would appear in it$/,
    );
    assert.doesNotThrow(() => refuseSecrets("token: [secret]", ["plan-placeholder-homelab-proxmoxApiToken"]));
  });
});

describe("diff --base-ref", () => {
  test("plans the stack at the ref in a temporary worktree, in this process, and removes the worktree", async () => {
    // A parent of our own: other checkouts of the repository may run this test at the same time.
    const parent = mkdtempSync(join(tmpdir(), "diff-worktree-"));
    const r = await diffCli(["--base-ref", "HEAD", "--stack", "home", "--format", "json"], { HOMELAB_DIFF_WORKTREE: "1", HOMELAB_DIFF_TMPDIR: parent });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { stacks: { stack: string; summary: Record<string, number> }[] };
    assert.deepEqual(
      doc.stacks.map((s) => s.stack),
      ["home"],
    );
    assert.ok(doc.stacks[0].summary.same > 0);
    assert.deepEqual(readdirSync(parent), [], "the temporary worktree is removed");
    const listed = execFileSync("git", ["worktree", "list", "--porcelain"], { cwd: ROOT, encoding: "utf8" });
    assert.ok(!listed.includes(parent), "and git no longer lists it");
  });
});

describe("the pull-request comment on the 150-VM stack", () => {
  test("stays under GitHub's limit: collapsed, then cut with a line saying what was left out", async () => {
    const head = await planOf(generatedStackDoc(150).config, "big");
    const empty: PlanJson = { stack: "big", resources: [], outputs: {}, secureConfig: {} };
    // Everything new, and everything changed at once (every input of every VM and command).
    const touched: PlanJson = {
      ...head,
      resources: head.resources.map((r) => (r.custom ? { ...r, inputs: { ...r.inputs, description: `${String(r.inputs.description ?? "")}\nchanged\nover\nlines` } } : r)),
    };
    for (const d of [diffPlans(empty, head), diffPlans(head, touched)]) {
      const md = toDiffMarkdown({ stacks: [d, d] }, { fullCommand: "npm run -s diff -- --base-ref main --all --format json" });
      assert.ok(md.length <= COMMENT_LIMIT, `${md.length} characters`);
      assert.ok(md.startsWith(`${COMMENT_MARKER}\n`));
      assert.match(md, /\*\*(Left out|Property details left out) to stay under GitHub's 65536-character limit/);
      assert.match(md, /`npm run -s diff -- --base-ref main --all --format json`/);
    }
  });
});

describe("the comment over the limit: blockers capped, what is left out counted, the full report linked (audit workflow finding 6)", () => {
  test("the empty diff: the table, 'No changes', the footer, nothing said to be left out", async () => {
    const p = await planOf(stackDoc());
    const md = toDiffMarkdown({ stacks: [diffPlans(p, p)] }, { fullReportUrl: "https://github.com/o/r/actions/runs/1/artifacts/2" });
    const same = p.resources.length;
    assert.equal(
      md,
      [
        COMMENT_MARKER,
        "## Offline plan diff",
        "",
        "| stack | create | update | replace | delete | unchanged | blockers | warnings |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        `| lab | 0 | 0 | 0 | 0 | ${same} | 0 | 0 |`,
        "",
        "No changes: every resource of every stack stays as it is.",
        "",
        "### lab",
        "",
        "no changes",
        "",
        '_Offline: drift, values providers compute and secret values are not visible here; see "Reviewing a change" in the README; [the full report](https://github.com/o/r/actions/runs/1/artifacts/2)._',
        "",
      ].join("\n"),
    );
  });
  test("the 150-VM stack with every agent renamed (290 blockers, 92,127 characters before): under the budget, '… and N more blockers', never 'complete'", async () => {
    const base = await planOf(generatedStackDoc(150).config, "big");
    const doc = generatedStackDoc(150);
    const agents = doc.config["homelab:nodes"].filter((n: { role: string }) => n.role === "agent");
    for (const n of agents) n.name = n.name.replace("k3s-agent-", "k3s-worker-");
    const d = diffPlans(base, await planOf(doc.config, "big"));
    assert.equal(agents.length, 145);
    assert.equal(d.blockers.length, 290, "a VMID and an address per renamed agent");
    const url = "https://github.com/o/r/actions/runs/1/artifacts/2";
    for (const opts of [{ fullReportUrl: url }, { fullCommand: "npm run -s diff -- --base-ref main --all --format text" }]) {
      const md = toDiffMarkdown({ stacks: [d] }, opts);
      assert.ok(md.length <= COMMENT_BUDGET, `${md.length} characters`);
      assert.ok(COMMENT_BUDGET < COMMENT_LIMIT);
      const shown = md.split("\n").filter((l) => l.startsWith("- **big**: ") && d.blockers.some((b) => l.endsWith(b.message))).length;
      const full = opts.fullReportUrl ? `[the full report](${url})` : "the full report: `npm run -s diff -- --base-ref main --all --format text`";
      assert.ok(shown > 0 && shown < 290);
      assert.ok(md.includes(`- **… and ${290 - shown} more blockers**, left out to stay under GitHub's comment limit; ${full}\n`));
      assert.match(md, new RegExp(`\\*\\*Left out to stay under GitHub's 65536-character limit:\\*\\* ${290 - shown} of the 290 blockers, \\d+ of the \\d+ warnings, `));
      assert.doesNotMatch(md, /blockers and warnings above are complete/);
      assert.ok(md.includes(`The counts in the table are complete; ${full}.`));
    }
  });
  test("--full-report-url: markdown only, an https URL a link cannot break on", async () => {
    for (const [args, message] of [
      [["--full-report-url", "https://x.example/a"], "--full-report-url goes with --format markdown"],
      [
        ["--format", "markdown", "--full-report-url", "https://x.example/a) [y](z"],
        "--full-report-url must be an https URL without spaces, parentheses or brackets, not 'https://x.example/a) [y](z'",
      ],
      [
        ["--format", "markdown", "--full-report-url", "http://x.example/a"],
        "--full-report-url must be an https URL without spaces, parentheses or brackets, not 'http://x.example/a'",
      ],
    ] as const) {
      const r = await diffCli(["--base-ref", "HEAD", "--stack", "home", ...args]);
      assert.equal(r.status, 2);
      assert.ok(r.stderr.startsWith(message), r.stderr);
    }
  });
});
