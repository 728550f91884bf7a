// pr-preview.yml's one input from the pull request: the head's Pulumi.<stack>.yaml, as data.
// The preview runs the base's program (checked out from main) with the stack's secrets on the LAN
// runner. The head's stack file is the only thing of the PR it takes, and a stack file can still
// turn the preview against the lab: it names where the providers connect with those secrets
// (homelab:proxmox: the Proxmox provider sends its API token to `endpoint` and the root SSH key to
// each node's `address`, src/metal/index.ts), and a `secure:` value moved under a plain key is read
// by the program as plain text (Pulumi decrypts every secure value it is given) and printed in the
// preview. So the file is fetched by the API at the event's head sha (never checked out), checked
// against the base's file, and only then written over it. Tested in test/workflows.test.ts.
"use strict";

const { readFileSync, writeFileSync } = require("node:fs");
const { parse } = require("yaml");

/** The secret `homelab:<key>`s, read by the program with requireSecret only (src/config/schema.ts
 * SECRET_KEYS: test/workflows.test.ts keeps the two lists equal). */
const SECRET_KEYS = ["proxmoxApiToken", "sshPrivateKey", "cloudflareApiToken", "fluxGitToken", "sopsAgeKey", "etcdS3SecretKey", "truenasApiKey", "piholePassword"];

const FIX =
  "pr-preview does not preview such a change (it would hand the stack's credentials to what the PR names): review it, then preview it from a maintainer's machine or after the merge";

const isSecure = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v.secure === "string";
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Every `secure:` value in a config tree, with its dotted path. */
function secureValues(node, path, out = []) {
  if (isSecure(node)) out.push({ path, ciphertext: node.secure });
  else if (node !== null && typeof node === "object") for (const [k, v] of Object.entries(node)) secureValues(v, path === "" ? k : `${path}.${k}`, out);
  return out;
}

/**
 * The reasons the head's stack file may not be previewed with the stack's secrets, all at once
 * ([] when it may). The base's file is the trusted one: what it says is what `up` already uses.
 */
function checkStackFile(file, baseText, headText) {
  let base;
  let head;
  try {
    head = parse(headText);
  } catch (e) {
    return [`${file}: not valid YAML (${e.message.split("\n")[0]})`];
  }
  base = parse(baseText) ?? {};
  if (head === null || typeof head !== "object" || Array.isArray(head)) return [`${file}: not a mapping of stack settings`];
  const errors = [];
  for (const key of new Set([...Object.keys(base), ...Object.keys(head)]))
    if (key !== "config" && !same(base[key], head[key])) errors.push(`${file}: ${key} changed: how the stack's secrets are decrypted is the base's; ${FIX}`);
  const baseConfig = base.config ?? {};
  const headConfig = head.config ?? {};
  for (const key of [...new Set([...Object.keys(baseConfig), ...Object.keys(headConfig)])].sort()) {
    if (!key.startsWith("homelab:") && !same(baseConfig[key], headConfig[key]))
      errors.push(`${file}: config ${key} changed: only homelab: keys may change (a provider's own config); ${FIX}`);
    else if (key === "homelab:proxmox" && !same(baseConfig[key], headConfig[key]))
      errors.push(`${file}: config homelab:proxmox changed: the Proxmox provider sends its API token to its endpoint and the SSH key to its nodes' addresses; ${FIX}`);
  }
  // Where each ciphertext is in the base (a ciphertext is unique to its value and key, but the
  // placeholders of an undeployed stack repeat).
  const where = new Map();
  for (const s of secureValues(baseConfig, "")) where.set(s.ciphertext, [...(where.get(s.ciphertext) ?? []), s.path]);
  for (const { path, ciphertext } of secureValues(headConfig, "")) {
    const secretKey = path.startsWith("homelab:") && SECRET_KEYS.includes(path.slice("homelab:".length));
    if (!secretKey)
      errors.push(
        `${file}: config ${path} is a secure value: only ${SECRET_KEYS.map((k) => `homelab:${k}`).join(", ")} are read as secrets, anything else is read as plain text; ${FIX}`,
      );
    else if (where.has(ciphertext) && !where.get(ciphertext).includes(path))
      errors.push(`${file}: config ${path} holds the ciphertext of ${where.get(ciphertext).join(", ")}: a secret moved to another key; ${FIX}`);
  }
  return errors;
}

/** The head's Pulumi.<stack>.yaml (through the API, never a checkout), the base's (the workspace) and the verdict. */
async function headStackFile({ github, context, stack, headSha }) {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(stack)) throw new Error(`stack ${JSON.stringify(stack)} is not a stack name`);
  if (!/^[0-9a-f]{40}$/.test(headSha)) throw new Error(`head sha ${JSON.stringify(headSha)} is not a commit sha`);
  const file = `Pulumi.${stack}.yaml`;
  const { data } = await github.rest.repos.getContent({ ...context.repo, path: file, ref: headSha, mediaType: { format: "raw" } });
  const headText = String(data);
  const baseText = readFileSync(file, "utf8");
  return { file, headText, baseText, errors: checkStackFile(file, baseText, headText) };
}

const escapeHtml = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * What the environment's reviewer approves, before any secret: pr-preview's first job (GitHub-hosted,
 * no environment) checks every stack's file at the labelled head sha and writes the sha, each file's
 * verdict and the PR's file view to the job summary. Fails, listing every reason, when one may not
 * be previewed, so nobody is asked to approve it.
 */
async function reviewHeadStackFiles({ github, context, core, stacks, headSha, number }) {
  const lines = [
    `Head ${headSha} of #${number}: read its stack-file changes (${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/pull/${number}/files) before approving a preview.`,
    "",
  ];
  const refused = [];
  for (const stack of stacks) {
    const { file, headText, baseText, errors } = await headStackFile({ github, context, stack, headSha });
    lines.push(`${file}: ${errors.length > 0 ? "refused" : headText === baseText ? "as on main" : "changed, may be previewed"}`, ...errors.map((e) => `  - ${e}`));
    refused.push(...errors);
  }
  await core.summary.addRaw(`<pre>${escapeHtml(lines.join("\n"))}</pre>\n`).write();
  if (refused.length > 0) core.setFailed(`cannot be previewed:\n${refused.map((e) => `- ${e}`).join("\n")}`);
  return { refused };
}

/**
 * Fetches Pulumi.<stack>.yaml at the event's head sha through the API (never a checkout of the
 * head), checks it against the base's file in the workspace and writes it there. Fails the step,
 * listing every reason, when it may not be previewed.
 */
async function useHeadStackFile({ github, context, core, stack, headSha }) {
  const { file, headText, baseText, errors } = await headStackFile({ github, context, stack, headSha });
  if (errors.length > 0) {
    core.setFailed(`${file} at ${headSha} cannot be previewed:\n${errors.map((e) => `- ${e}`).join("\n")}`);
    return { action: "refused", errors };
  }
  writeFileSync(file, headText);
  core.info(baseText === headText ? `${file} at ${headSha} is the base's` : `${file} at ${headSha} is previewed with the base's program`);
  return { action: baseText === headText ? "unchanged" : "written" };
}

module.exports = { SECRET_KEYS, checkStackFile, reviewHeadStackFiles, useHeadStackFile };
