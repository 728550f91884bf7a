// The pull request's one diff comment: found by a hidden marker on any page of the PR's comments,
// edited in place, created only when none exists. Run by actions/github-script in
// .github/workflows/pr-diff-comment.yml (from the default branch, on pr-diff.yml's artifact);
// tested with a fake client in test/workflows.test.ts.
"use strict";

const { readFileSync } = require("node:fs");
const { join } = require("node:path");

/** Hidden in the rendered comment; identifies ours among everyone's. The diff's markdown starts
 * with it (COMMENT_MARKER in src/plan/diffFormat.ts); added here to every other body. */
const MARKER = "<!-- homelab-infra:offline-diff -->";
/** GitHub refuses a comment body above 65,536 characters. */
const MAX_BODY = 65536;
/** The login of the workflows' GITHUB_TOKEN. Only its comment is ours: editing another bot's
 * comment fails with 403 (audit row 12). */
const BOT_LOGIN = "github-actions[bot]";
/** The files that compute the comment: a PR that changes them computed its own verdict. */
const SELF_COMPUTED = [/^src\/plan\//, /^scripts\//, /^package(-lock)?\.json$/, /^\.github\//];

/** The paths among a PR's changed files that compute the comment (sorted, each once). */
function selfComputedPaths(files) {
  return [...new Set(files.filter((f) => SELF_COMPUTED.some((re) => re.test(f))))].sort();
}

/** The lines under the marker that say which commit the comment describes and whose code made it. */
function provenance({ headSha, touched }) {
  const lines = [
    `_Offline diff of ${headSha}, computed by this pull request's own code (pr-diff.yml runs the PR's src/plan): it is a reviewing aid, not a verdict; pr-preview's real preview is the authority._`,
  ];
  if (touched.length > 0) {
    const shown = touched.slice(0, 20).map((f) => `\`${f}\``);
    const more = touched.length > shown.length ? ` and ${touched.length - shown.length} more` : "";
    lines.push("", `> ⚠️ **This PR changes the code that computed this comment** (${shown.join(", ")}${more}): read those changes before trusting the diff below.`);
  }
  return lines.join("\n");
}

/** Caps a body at GitHub's limit, saying so and where the whole report is. */
function capped(body, runUrl) {
  if (body.length <= MAX_BODY) return body;
  // The diff keeps itself well below the limit; this is the last guard.
  const note = `\n\n_(truncated: the comment reached GitHub's 65,536-character limit; the full report is in the pr-diff-full artifact of ${runUrl})_\n`;
  return body.slice(0, MAX_BODY - note.length) + note;
}

/**
 * The comment's body for a diff that ran (exit 0): the marker, the commit and the provenance, then
 * the diff's markdown. An empty output is not "no changes" (the diff prints its table even then):
 * it is a failure, and says so.
 */
function commentBody(diffMarkdown, { headSha, runUrl, touched = [] }) {
  if (diffMarkdown.trim() === "") return failureBody({ status: 0, headSha, runUrl, why: "it printed nothing" });
  const text = diffMarkdown.trimEnd();
  const rest = text.startsWith(MARKER) ? text.slice(MARKER.length).replace(/^\n/, "") : text;
  return capped(`${MARKER}\n${provenance({ headSha, touched })}\n\n${rest}\n`, runUrl);
}

/**
 * The comment's body when there is no diff to show: the diff exited non-zero (1 invalid config,
 * 2 usage, 3 a bug), or the job failed before it ran (status null). It replaces the previous diff,
 * which described an older commit.
 */
function failureBody({ status, headSha, runUrl, why }) {
  const what = status === null ? "diff failed (the job failed before the diff ran)" : `diff failed (exit ${status}${why ? `: ${why}` : ""})`;
  return `${MARKER}\n**Offline plan diff:** ${what} for ${headSha}: see ${runUrl}\n`;
}

/**
 * Creates or edits the sticky comment. Only github-actions[bot]'s comment with the marker counts: a
 * person quoting the marker, or another bot, does not get their comment overwritten.
 * Returns what it did, for the log and the tests.
 */
async function upsertStickyComment({ github, context, core, body, issueNumber }) {
  const { owner, repo } = context.repo;
  // A workflow_run event has no issue of its own: the caller names the PR.
  const issue_number = issueNumber ?? context.issue.number;
  const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });
  const ours = comments.find((c) => c.user && c.user.login === BOT_LOGIN && typeof c.body === "string" && c.body.includes(MARKER));
  if (ours) {
    if (ours.body === body) {
      core.info(`comment ${ours.id} is up to date`);
      return { action: "unchanged", id: ours.id };
    }
    await github.rest.issues.updateComment({ owner, repo, comment_id: ours.id, body });
    core.info(`updated comment ${ours.id}`);
    return { action: "updated", id: ours.id };
  }
  const created = await github.rest.issues.createComment({ owner, repo, issue_number, body });
  core.info(`created comment ${created.data.id}`);
  return { action: "created", id: created.data.id };
}

/**
 * Posts the comment from pr-diff.yml's artifact (pr.json: `{"number", "head_sha", "diff_status"}`,
 * and diff.md when the diff exited 0). The artifact was written by a run of the PR's code, so
 * nothing in it is trusted: the number must be a positive integer, the sha must be the sha this
 * workflow_run event names (GitHub's, not the artifact's word), and it must still be the PR's head:
 * a newer push makes the diff stale, and a number pointing at someone else's PR cannot match. The
 * status must be an exit code or null. Anything else is skipped with a reason. The run's URL and
 * the PR's changed files come from GitHub, not from the artifact.
 */
async function commentFromArtifact({ github, context, core, dir }) {
  const skip = (reason) => {
    core.info(`not commenting: ${reason}`);
    return { action: "skipped", reason };
  };
  let meta;
  try {
    meta = JSON.parse(readFileSync(join(dir, "pr.json"), "utf8"));
  } catch (e) {
    return skip(`pr.json is not readable JSON (${e.message})`);
  }
  const number = meta === null || typeof meta !== "object" ? undefined : meta.number;
  if (!Number.isSafeInteger(number) || number < 1) return skip(`the PR number ${JSON.stringify(number)} is not a positive integer`);
  const run = context.payload.workflow_run;
  const runSha = run.head_sha;
  if (meta.head_sha !== runSha) return skip(`the artifact's head sha ${JSON.stringify(meta.head_sha)} is not the run's ${runSha}`);
  const status = meta.diff_status;
  if (status !== null && !(Number.isInteger(status) && status >= 0 && status <= 255)) return skip(`the diff status ${JSON.stringify(status)} is not an exit code or null`);
  const { owner, repo } = context.repo;
  const { data: pr } = await github.rest.pulls.get({ owner, repo, pull_number: number });
  if (pr.state !== "open") return skip(`PR #${number} is ${pr.state}`);
  if (pr.head.sha !== runSha) return skip(`PR #${number}'s head is now ${pr.head.sha}, the diff is of ${runSha} (stale)`);
  const runUrl = run.html_url;
  let body;
  if (status !== 0) {
    body = failureBody({ status, headSha: runSha, runUrl });
  } else {
    let markdown;
    try {
      markdown = readFileSync(join(dir, "diff.md"), "utf8");
    } catch (e) {
      return skip(`diff.md is not readable (${e.message})`);
    }
    const files = await github.paginate(github.rest.pulls.listFiles, { owner, repo, pull_number: number, per_page: 100 });
    body = commentBody(markdown, { headSha: runSha, runUrl, touched: selfComputedPaths(files.flatMap((f) => [f.filename, f.previous_filename ?? []].flat())) });
  }
  return upsertStickyComment({ github, context, core, body, issueNumber: number });
}

module.exports = { MARKER, MAX_BODY, BOT_LOGIN, selfComputedPaths, commentBody, failureBody, upsertStickyComment, commentFromArtifact };
