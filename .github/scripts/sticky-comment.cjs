// The pull request's one diff comment: found by a hidden marker on any page of the PR's comments,
// edited in place (also to "no changes" once a PR is reverted to clean), created only when none
// exists. Run by actions/github-script in .github/workflows/pr-diff-comment.yml (from the default
// branch, on pr-diff.yml's artifact); tested with a fake client in test/workflows.test.ts.
"use strict";

const { readFileSync } = require("node:fs");
const { join } = require("node:path");

/** Hidden in the rendered comment; identifies ours among everyone's. The diff's markdown starts
 * with it (COMMENT_MARKER in src/plan/diffFormat.ts); added here when the diff printed nothing. */
const MARKER = "<!-- homelab-infra:offline-diff -->";
/** GitHub refuses a comment body above 65,536 characters. */
const MAX_BODY = 65536;

/** The comment's body: the marker, then the diff (or "no changes" when it printed nothing). */
function commentBody(diffMarkdown) {
  const text = diffMarkdown.trim() === "" ? "**Offline plan diff:** no changes." : diffMarkdown.trimEnd();
  const body = text.startsWith(MARKER) ? `${text}\n` : `${MARKER}\n${text}\n`;
  if (body.length <= MAX_BODY) return body;
  // The diff collapses and truncates itself well below the limit; this is the last guard.
  const note = "\n\n_(truncated: the comment reached GitHub's 65,536-character limit; the workflow run's summary has the whole diff)_\n";
  return body.slice(0, MAX_BODY - note.length) + note;
}

/**
 * Creates or edits the sticky comment. Only a comment by a bot (the workflow's token) with the
 * marker counts: a person quoting the marker does not get their comment overwritten.
 * Returns what it did, for the log and the tests.
 */
async function upsertStickyComment({ github, context, core, body: diffMarkdown, issueNumber }) {
  const { owner, repo } = context.repo;
  // A workflow_run event has no issue of its own: the caller names the PR.
  const issue_number = issueNumber ?? context.issue.number;
  const body = commentBody(diffMarkdown);
  const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });
  const ours = comments.find((c) => c.user && c.user.type === "Bot" && typeof c.body === "string" && c.body.includes(MARKER));
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
 * Posts the comment from pr-diff.yml's artifact (pr.json: `{"number", "head_sha"}`, diff.md).
 * The artifact was written by a run of the PR's code, so nothing in it is trusted: the number must
 * be a positive integer, the sha must be the sha this workflow_run event names (GitHub's, not the
 * artifact's word), and it must still be the PR's head: a newer push makes the diff stale, and a
 * number pointing at someone else's PR cannot match. Anything else is skipped with a reason.
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
  const runSha = context.payload.workflow_run.head_sha;
  if (meta.head_sha !== runSha) return skip(`the artifact's head sha ${JSON.stringify(meta.head_sha)} is not the run's ${runSha}`);
  const { owner, repo } = context.repo;
  const { data: pr } = await github.rest.pulls.get({ owner, repo, pull_number: number });
  if (pr.state !== "open") return skip(`PR #${number} is ${pr.state}`);
  if (pr.head.sha !== runSha) return skip(`PR #${number}'s head is now ${pr.head.sha}, the diff is of ${runSha} (stale)`);
  let body;
  try {
    body = readFileSync(join(dir, "diff.md"), "utf8");
  } catch (e) {
    return skip(`diff.md is not readable (${e.message})`);
  }
  return upsertStickyComment({ github, context, core, body, issueNumber: number });
}

module.exports = { MARKER, MAX_BODY, commentBody, upsertStickyComment, commentFromArtifact };
