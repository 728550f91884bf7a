// The pull request's one diff comment: found by a hidden marker on any page of the PR's comments,
// edited in place (also to "no changes" once a PR is reverted to clean), created only when none
// exists. Run by actions/github-script in .github/workflows/pr-diff.yml; tested with a fake client
// in test/workflows.test.ts.
"use strict";

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
async function upsertStickyComment({ github, context, core, body: diffMarkdown }) {
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
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

module.exports = { MARKER, MAX_BODY, commentBody, upsertStickyComment };
