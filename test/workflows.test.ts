// The GitHub workflows (.github/workflows): valid for GitHub's workflow schema (action-validator,
// offline), and the properties that keep them safe: the triggers, the fork guard in front of the
// self-hosted runner, no secrets where a fork's code runs, minimal permissions, actions pinned to
// a version, one operation per stack at a time, and the sticky comment found by its marker.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { COMMENT_MARKER } from "../src/plan/diffFormat";
import { requireTool, shellcheck } from "./validators";

const ROOT = join(__dirname, "..");
const DIR = join(ROOT, ".github", "workflows");
const FILES = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const text = (f: string) => readFileSync(join(DIR, f), "utf8");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  id?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  "runs-on": string | string[];
  if?: string;
  environment?: string;
  permissions?: unknown;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  strategy?: { matrix: { stack: string[] } };
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  "run-name"?: string;
  permissions: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, Job>;
}
const wf = (f: string) => parse(text(f)) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);
const pulumiStep = (w: Workflow) => steps(w).find((s) => s.uses?.startsWith("pulumi/actions@"))!;

/** The stacks of the project: Pulumi.<name>.yaml at the root (stacks/ holds examples, not deployments). */
const STACKS = readdirSync(ROOT)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();

const FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository";
/** The self-hosted runner's labels, as the README names them. */
const LAN_RUNNER = ["self-hosted", "homelab-lan"];

test("the four workflows are there", () => {
  assert.deepEqual(FILES, ["pr-diff-comment.yml", "pr-diff.yml", "pr-preview.yml", "up.yml"]);
});

describe("action-validator (GitHub's workflow schema)", () => {
  for (const f of FILES) {
    test(`${f} is a valid workflow`, () => {
      const r = validateWorkflow(text(f));
      assert.deepEqual(r.errors, [], JSON.stringify(r.errors, null, 2));
    });
  }
  test("it does catch a broken workflow (the validator is really running)", () => {
    const broken = text("up.yml").replace("runs-on:", "runs_on:");
    assert.notDeepEqual(validateWorkflow(broken).errors, []);
    const unquotedColon = "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - name: a: b\n        run: true\n";
    assert.equal(validateWorkflow(unquotedColon).errors[0]!.code, "parse_error");
  });
});

describe("every workflow", () => {
  test("pins each action to a full version (vX.Y.Z), never a branch or a moving major tag", () => {
    for (const f of FILES) {
      const uses = steps(wf(f)).flatMap((s) => (s.uses ? [s.uses] : []));
      assert.ok(uses.length > 0, f);
      for (const u of uses) assert.match(u, /^[\w.-]+\/[\w.-]+@v\d+\.\d+\.\d+$/, `${f}: ${u}`);
    }
  });

  test("has minimal top-level permissions and no job widens them", () => {
    const expected: Record<string, Record<string, string>> = {
      "pr-diff-comment.yml": { actions: "read", contents: "read", "pull-requests": "write" },
      "pr-diff.yml": { contents: "read" },
      "pr-preview.yml": { contents: "read", "pull-requests": "write" },
      "up.yml": { contents: "read" },
    };
    for (const f of FILES) {
      const w = wf(f);
      assert.deepEqual(w.permissions, expected[f], f);
      for (const [name, job] of Object.entries(w.jobs)) assert.equal(job.permissions, undefined, `${f}: job ${name} sets its own permissions`);
      assert.doesNotMatch(text(f), /write-all|pull_request_target/, f);
      // workflow_run runs with write access after untrusted code: only the comment workflow, which runs none.
      if (f !== "pr-diff-comment.yml")
        assert.deepEqual(
          Object.keys(w.on).filter((t) => t === "workflow_run"),
          [],
          f,
        );
    }
  });

  test("puts no expression inside a shell script (untrusted values go through env)", () => {
    for (const f of FILES) for (const s of steps(wf(f))) if (s.run) assert.doesNotMatch(s.run, /\$\{\{/, `${f}: ${s.name ?? s.run}`);
  });

  test("checks out without leaving the token in the clone", () => {
    for (const f of FILES) {
      const checkouts = steps(wf(f)).filter((s) => s.uses?.startsWith("actions/checkout@"));
      assert.equal(checkouts.length, 1, f);
      assert.equal(checkouts[0]!.with?.["persist-credentials"], false, f);
    }
  });

  test("takes Node.js from .nvmrc (the comment workflow installs nothing: github-script brings its Node)", () => {
    for (const f of FILES.filter((f) => f !== "pr-diff-comment.yml")) {
      const node = steps(wf(f)).filter((s) => s.uses?.startsWith("actions/setup-node@"));
      assert.deepEqual(
        node.map((s) => s.with?.["node-version-file"]),
        [".nvmrc"],
        f,
      );
    }
  });

  test("shell steps are shellcheck-clean (bash, as GitHub runs them)", (t) => {
    if (!requireTool(t, "shellcheck")) return;
    for (const f of FILES) for (const s of steps(wf(f))) if (s.run) assert.equal(shellcheck(s.run, "bash"), "", `${f}: ${s.name ?? s.run}`);
  });
});

describe("pr-diff.yml: the offline diff on every pull request", () => {
  const w = wf("pr-diff.yml");
  const job = w.jobs.diff!;

  test("runs on pull requests to main, on a GitHub-hosted runner, with no secret at all", () => {
    assert.deepEqual(w.on, { pull_request: { branches: ["main"] } });
    assert.deepEqual(Object.keys(w.jobs), ["diff"]);
    assert.equal(job["runs-on"], "ubuntu-24.04");
    assert.doesNotMatch(text("pr-diff.yml"), /secrets\./);
    assert.equal(job.if, undefined, "forks get the diff too");
    assert.deepEqual(w.concurrency, { group: "pr-diff-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
  });

  test("tests, then diffs every stack against the PR's base commit (fetched: full history)", () => {
    assert.equal(job.steps[0]!.with?.["fetch-depth"], 0);
    const ci = job.steps.find((s) => s.run === "bash .ci/run");
    assert.ok(ci, "the CI script runs (install, validators, npm test)");
    const diff = job.steps.find((s) => s.id === "diff")!;
    assert.ok(job.steps.indexOf(ci) < job.steps.indexOf(diff), "test before diff");
    assert.deepEqual(diff.env, { BASE_SHA: "${{ github.event.pull_request.base.sha }}" });
    assert.match(diff.run!, /^ {0}npm run -s diff -- --base-ref "\$BASE_SHA" --all --format markdown > diff\.md$/m);
    assert.match(diff.run!, /cat diff\.md >> "\$GITHUB_STEP_SUMMARY"/);
  });

  test("has no write permission anywhere and posts no comment itself: it uploads the diff for pr-diff-comment.yml", () => {
    assert.deepEqual(w.permissions, { contents: "read" });
    assert.doesNotMatch(text("pr-diff.yml"), /: *write\b/);
    assert.equal(
      job.steps.find((s) => s.uses?.startsWith("actions/github-script@")),
      undefined,
    );
    const record = job.steps.find((s) => s.run?.includes("pr.json"))!;
    assert.equal(record.if, "always() && steps.diff.outcome == 'success'");
    assert.deepEqual(record.env, { PR_NUMBER: "${{ github.event.pull_request.number }}", HEAD_SHA: "${{ github.event.pull_request.head.sha }}" });
    const upload = job.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"))!;
    assert.equal(upload.if, record.if);
    assert.deepEqual(upload.with, { name: "pr-diff", path: "diff.md\npr.json\n", "if-no-files-found": "error", "retention-days": 1 });
    const i = (s: Step) => job.steps.indexOf(s);
    assert.ok(i(job.steps.find((s) => s.id === "diff")!) < i(record) && i(record) < i(upload));
    const fail = job.steps.at(-1)!;
    assert.equal(fail.if, "steps.diff.outputs.status != '0'", "a failed diff still fails the job, after the upload");
  });

  test("pr.json as the record step writes it is what the comment workflow parses", (t) => {
    if (!requireTool(t, "bash")) return;
    const run = job.steps.find((s) => s.run?.includes("pr.json"))!.run!;
    const dir = mkdtempSync(join(tmpdir(), "prjson-"));
    try {
      const r = spawnSync("bash", ["-c", run], { cwd: dir, env: { PATH: process.env.PATH, PR_NUMBER: "42", HEAD_SHA: "a".repeat(40) } });
      assert.equal(r.status, 0, String(r.stderr));
      assert.deepEqual(JSON.parse(readFileSync(join(dir, "pr.json"), "utf8")), { number: 42, head_sha: "a".repeat(40) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("pr-diff-comment.yml: the sticky comment, for forks too, without running the PR's code", () => {
  const w = wf("pr-diff-comment.yml");
  const job = w.jobs.comment!;

  test("runs when the pr-diff workflow (by its name) completes, for pull_request runs not cancelled", () => {
    assert.deepEqual(w.on, { workflow_run: { workflows: [wf("pr-diff.yml").name], types: ["completed"] } });
    assert.equal(wf("pr-diff.yml").name, "pr-diff");
    assert.deepEqual(Object.keys(w.jobs), ["comment"]);
    assert.equal(job.if, "github.event.workflow_run.event == 'pull_request' && github.event.workflow_run.conclusion != 'cancelled'");
    assert.equal(job["runs-on"], "ubuntu-24.04");
    assert.doesNotMatch(text("pr-diff-comment.yml"), /secrets\./);
  });

  test("has exactly the permissions it needs", () => {
    assert.deepEqual(w.permissions, { actions: "read", contents: "read", "pull-requests": "write" });
  });

  test("never checks out or runs the PR's code: the default branch only, no npm, no run step", () => {
    const checkout = job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"));
    assert.deepEqual(
      checkout.map((s) => s.with),
      [{ "persist-credentials": false }],
      "no ref, no repository: workflow_run checks out the default branch",
    );
    assert.doesNotMatch(text("pr-diff-comment.yml"), /\bref:|repository:|head\.ref|head_sha/);
    assert.deepEqual(
      job.steps.filter((s) => s.run !== undefined),
      [],
    );
    assert.doesNotMatch(text("pr-diff-comment.yml"), /\bnpm\b|setup-node|\.ci\/run/);
  });

  test("downloads the other run's artifact outside the checkout, only when it exists, then posts from the default branch's script", () => {
    const [, find, download, post] = job.steps;
    assert.equal(find!.id, "find");
    assert.match(String(find!.with?.script), /listWorkflowRunArtifacts\(\{ \.\.\.context\.repo, run_id: context\.payload\.workflow_run\.id, name: "pr-diff" \}\)/);
    assert.match(download!.uses!, /^actions\/download-artifact@/);
    assert.deepEqual(download!.with, {
      name: "pr-diff",
      path: "${{ runner.temp }}/pr-diff",
      "run-id": "${{ github.event.workflow_run.id }}",
      "github-token": "${{ github.token }}",
    });
    assert.equal(download!.if, "steps.find.outputs.found == 'true'");
    assert.equal(post!.if, download!.if);
    assert.deepEqual(post!.env, { ARTIFACT_DIR: download!.with!.path });
    assert.match(String(post!.with?.script), /require\("\.\/\.github\/scripts\/sticky-comment\.cjs"\)/);
    assert.match(String(post!.with?.script), /commentFromArtifact\(\{ github, context, core, dir: process\.env\.ARTIFACT_DIR \}\)/);
    assert.equal(job.steps.length, 4);
  });
});

describe("pr-preview.yml: a real preview per stack, same-repository PRs only", () => {
  const w = wf("pr-preview.yml");
  const job = w.jobs.preview!;

  test("is guarded against forks and runs on the LAN runner", () => {
    assert.deepEqual(w.on, { pull_request: { branches: ["main"] } });
    assert.deepEqual(Object.keys(w.jobs), ["preview"]);
    assert.equal(job.if, FORK_GUARD);
    assert.deepEqual(job["runs-on"], LAN_RUNNER);
  });

  test("one job per stack of the project, one operation per stack at a time", () => {
    assert.deepEqual([...job.strategy!.matrix.stack].sort(), STACKS);
    assert.deepEqual(job.concurrency, { group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
  });

  test("pulumi/actions previews with diff, refresh and a PR comment", () => {
    const p = pulumiStep(w);
    assert.equal(p.with?.command, "preview");
    assert.equal(p.with?.["stack-name"], "${{ matrix.stack }}");
    assert.equal(p.with?.diff, true);
    assert.equal(p.with?.refresh, true);
    assert.equal(p.with?.["comment-on-pr"], true);
    assert.deepEqual(p.env, { PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" });
  });
});

describe("up.yml: pulumi up per stack after a merge", () => {
  const w = wf("up.yml");
  const job = w.jobs.up!;

  test("runs on pushes to main only, behind the stack's environment, on the LAN runner", () => {
    assert.deepEqual(w.on, { push: { branches: ["main"] } });
    assert.equal(job.environment, "${{ matrix.stack }}");
    assert.deepEqual(job["runs-on"], LAN_RUNNER);
    assert.deepEqual([...job.strategy!.matrix.stack].sort(), STACKS);
  });

  test("shares the per-stack concurrency group with the preview and is never cancelled half-way", () => {
    assert.deepEqual(job.concurrency, wf("pr-preview.yml").jobs.preview!.concurrency);
  });

  test("pulumi/actions runs up on the matrix stack", () => {
    const p = pulumiStep(w);
    assert.equal(p.with?.command, "up");
    assert.equal(p.with?.["stack-name"], "${{ matrix.stack }}");
    assert.equal(p.with?.["comment-on-pr"], undefined);
  });
});

test("the Pulumi CLI the workflows install is the SDK's version (package.json)", () => {
  const sdk = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies["@pulumi/pulumi"];
  for (const f of ["pr-preview.yml", "up.yml"]) assert.equal(pulumiStep(wf(f)).with?.["pulumi-version"], sdk, f);
});

test("the README names the self-hosted runner's label and the environments", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  assert.match(readme, /`homelab-lan`/);
  assert.match(readme, /required reviewers/);
  for (const f of FILES) assert.ok(readme.includes(`.github/workflows/${f}`), f);
});

// The sticky comment script, driven with a fake Octokit: the real one pages at 100 comments.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS file without types, as github-script loads it
const sticky = require("../.github/scripts/sticky-comment.cjs") as {
  MARKER: string;
  MAX_BODY: number;
  commentBody(markdown: string): string;
  upsertStickyComment(args: { github: unknown; context: unknown; core: unknown; body: string; issueNumber?: number }): Promise<{ action: string; id: number }>;
  commentFromArtifact(args: { github: unknown; context: unknown; core: unknown; dir: string }): Promise<{ action: string; id?: number; reason?: string }>;
};

interface FakeComment {
  id: number;
  body: string;
  user: { type: "Bot" | "User" };
}
function fakeGithub(pages: FakeComment[][], pr: { state: string; head: { sha: string } } = { state: "open", head: { sha: "c".repeat(40) } }) {
  const calls: string[] = [];
  const listComments = () => {
    throw new Error("listComments is called through paginate");
  };
  const github = {
    paginate: async (method: unknown, params: Record<string, unknown>) => {
      assert.equal(method, listComments);
      assert.deepEqual(params, { owner: "o", repo: "r", issue_number: 7, per_page: 100 });
      calls.push(`list ${pages.length} pages`);
      return pages.flat();
    },
    rest: {
      pulls: {
        get: async (p: Record<string, unknown>) => {
          calls.push(`get pull ${JSON.stringify(p)}`);
          return { data: pr };
        },
      },
      issues: {
        listComments,
        updateComment: async (p: { comment_id: number; body: string }) => void calls.push(`update ${p.comment_id} ${p.body}`),
        createComment: async (p: { issue_number: number; body: string }) => {
          calls.push(`create on ${p.issue_number} ${p.body}`);
          return { data: { id: 99 } };
        },
      },
    },
  };
  const context = { repo: { owner: "o", repo: "r" }, issue: { number: 7 }, payload: { workflow_run: { head_sha: "c".repeat(40) } } };
  const core = { info: () => undefined };
  return { github, context, core, calls };
}

describe("the sticky comment", () => {
  test("uses the diff's own marker, and does not repeat it", () => {
    assert.equal(sticky.MARKER, COMMENT_MARKER);
    assert.equal(sticky.commentBody(`${COMMENT_MARKER}\n## Offline plan diff\n`), `${COMMENT_MARKER}\n## Offline plan diff\n`);
  });

  const page = (n: number, from: number): FakeComment[] => Array.from({ length: n }, (_, i) => ({ id: from + i, body: "lgtm", user: { type: "User" } }));

  test("is found by its marker on a later page and edited, not duplicated", async () => {
    const ours: FakeComment = { id: 250, body: `${sticky.MARKER}\nold diff\n`, user: { type: "Bot" } };
    const f = fakeGithub([page(100, 1), page(100, 101), [...page(49, 201), ours]]);
    const r = await sticky.upsertStickyComment({ ...f, body: "## Offline plan diff\n| lab | 1 |\n" });
    assert.deepEqual(r, { action: "updated", id: 250 });
    assert.deepEqual(f.calls, ["list 3 pages", `update 250 ${sticky.MARKER}\n## Offline plan diff\n| lab | 1 |\n`]);
  });

  test("is edited to the diff's 'no changes' when the PR is back to clean, and left alone when equal", async () => {
    const ours: FakeComment = { id: 5, body: `${sticky.MARKER}\nlab: 1 to replace\n`, user: { type: "Bot" } };
    const f = fakeGithub([[ours]]);
    await sticky.upsertStickyComment({ ...f, body: "lab: no changes\n" });
    assert.deepEqual(f.calls.at(-1), `update 5 ${sticky.MARKER}\nlab: no changes\n`);
    const same = fakeGithub([[{ ...ours, body: `${sticky.MARKER}\nlab: no changes\n` }]]);
    assert.deepEqual(await sticky.upsertStickyComment({ ...same, body: "lab: no changes\n" }), { action: "unchanged", id: 5 });
    assert.equal(sticky.commentBody(""), `${sticky.MARKER}\n**Offline plan diff:** no changes.\n`);
  });

  test("is created when there is none; a person quoting the marker is not overwritten", async () => {
    const quoted: FakeComment = { id: 3, body: `> ${sticky.MARKER}\nwhy is this replaced?`, user: { type: "User" } };
    const f = fakeGithub([[quoted]]);
    assert.deepEqual(await sticky.upsertStickyComment({ ...f, body: "diff" }), { action: "created", id: 99 });
    assert.deepEqual(f.calls, ["list 1 pages", `create on 7 ${sticky.MARKER}\ndiff\n`]);
  });

  test("stays within GitHub's 65,536 characters and says it was truncated", () => {
    const body = sticky.commentBody("x".repeat(100_000));
    assert.equal(body.length, sticky.MAX_BODY);
    assert.ok(body.startsWith(`${sticky.MARKER}\nxxx`));
    assert.match(body, /_\(truncated: the comment reached GitHub's 65,536-character limit; the workflow run's summary has the whole diff\)_\n$/);
    assert.equal(sticky.commentBody("short").length, `${sticky.MARKER}\nshort\n`.length);
  });
});

describe("the sticky comment from pr-diff.yml's artifact (untrusted content)", () => {
  const SHA = "c".repeat(40);
  const withArtifact = async (files: Record<string, string>, f: ReturnType<typeof fakeGithub>) => {
    const dir = mkdtempSync(join(tmpdir(), "prdiff-"));
    try {
      for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
      return await sticky.commentFromArtifact({ ...f, dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const meta = (number: unknown, head_sha: unknown = SHA) => JSON.stringify({ number, head_sha });

  test("posts on the artifact's PR when its head is still the run's head sha", async () => {
    const f = fakeGithub([[]]);
    assert.deepEqual(await withArtifact({ "pr.json": meta(7), "diff.md": "diff\n" }, f), { action: "created", id: 99 });
    assert.deepEqual(f.calls, [`get pull {"owner":"o","repo":"r","pull_number":7}`, "list 1 pages", `create on 7 ${sticky.MARKER}\ndiff\n`]);
  });

  test("skips a stale diff: the PR has a newer head than the diffed commit", async () => {
    const f = fakeGithub([[]], { state: "open", head: { sha: "d".repeat(40) } });
    const r = await withArtifact({ "pr.json": meta(7), "diff.md": "diff" }, f);
    assert.deepEqual(r, { action: "skipped", reason: `PR #7's head is now ${"d".repeat(40)}, the diff is of ${SHA} (stale)` });
    assert.equal(f.calls.length, 1, "read the PR, wrote nothing");
  });

  test("skips an artifact whose sha is not the run's (a number pointing at another PR), a closed PR, and malformed content", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ "pr.json": meta(7, "e".repeat(40)), "diff.md": "x" }, `the artifact's head sha "${"e".repeat(40)}" is not the run's ${SHA}`],
      [{ "pr.json": meta("7; rm -rf /"), "diff.md": "x" }, `the PR number "7; rm -rf /" is not a positive integer`],
      [{ "pr.json": meta("7"), "diff.md": "x" }, `the PR number "7" is not a positive integer`],
      [{ "pr.json": meta(0), "diff.md": "x" }, "the PR number 0 is not a positive integer"],
      [{ "pr.json": meta(1.5), "diff.md": "x" }, "the PR number 1.5 is not a positive integer"],
      [{ "pr.json": "null", "diff.md": "x" }, "the PR number undefined is not a positive integer"],
    ];
    for (const [files, reason] of cases) {
      const f = fakeGithub([[]]);
      assert.deepEqual(await withArtifact(files, f), { action: "skipped", reason });
      assert.deepEqual(f.calls, [], reason);
    }
    const notJson = await withArtifact({ "pr.json": "{", "diff.md": "x" }, fakeGithub([[]]));
    assert.match(notJson.reason!, /^pr\.json is not readable JSON \(/);
    const closed = fakeGithub([[]], { state: "closed", head: { sha: SHA } });
    assert.deepEqual(await withArtifact({ "pr.json": meta(7), "diff.md": "x" }, closed), { action: "skipped", reason: "PR #7 is closed" });
    const noDiff = await withArtifact({ "pr.json": meta(7) }, fakeGithub([[]]));
    assert.match(noDiff.reason!, /^diff\.md is not readable \(ENOENT/);
  });
});
