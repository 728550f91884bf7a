// The pre-commit check (.githooks/pre-commit): every staged file, read from the index, through
// secretlint (the repository's .secretlintrc.json) and Prettier's check (.prettierrc.json,
// .prettierignore). Prints what is wrong and exits 1; exits 0 when all is clean.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { createEngine } from "@secretlint/node";
import * as prettier from "prettier";

const git = (...args) => execFileSync("git", args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
const root = git("rev-parse", "--show-toplevel").trim();
// Added, copied, modified or renamed: deleted files have nothing left to check.
const staged = git("diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z").split("\0").filter(Boolean);

const secretlint = await createEngine({ cwd: root, configFilePath: join(root, ".secretlintrc.json"), formatter: "compact", color: false, maskSecrets: true });
const problems = [];
for (const file of staged) {
  const content = git("show", `:${file}`);
  if (content.includes("\0")) continue; // binary
  const scan = await secretlint.executeOnContent({ content, filePath: join(root, file) });
  if (!scan.ok) problems.push(scan.output.trim());
  const info = await prettier.getFileInfo(join(root, file), { ignorePath: join(root, ".prettierignore") });
  if (info.ignored || info.inferredParser === null) continue;
  const options = await prettier.resolveConfig(join(root, file));
  if (!(await prettier.check(content, { ...options, filepath: join(root, file) }))) problems.push(`${file}: not formatted (npx prettier --write ${file})`);
}
if (problems.length > 0) {
  process.stderr.write(`pre-commit: ${problems.length} problem(s) in the staged files:\n${problems.join("\n")}\n`);
  process.exit(1);
}
