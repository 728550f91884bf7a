// The validators' verdict cache (test/validators.ts): a document judged before by the same release
// with the same arguments is not judged again; any other document, argument or release is, and
// HOMELAB_NO_VALIDATOR_CACHE=1 judges every time.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { requireTool, shellcheck, verdict } from "./validators";

test("a verdict is kept by validator release, arguments and document", (t) => {
  if (!requireTool(t, "shellcheck")) return;
  let runs = 0;
  const judge = () => `verdict ${++runs}`;
  const doc = `#!/bin/sh\n# ${randomUUID()}\necho hi\n`;
  assert.equal(verdict("shellcheck", ["--shell", "sh"], doc, judge), "verdict 1");
  assert.equal(verdict("shellcheck", ["--shell", "sh"], doc, judge), "verdict 1", "the same document: kept");
  assert.equal(verdict("shellcheck", ["--shell", "bash"], doc, judge), "verdict 2", "other arguments: judged");
  assert.equal(verdict("shellcheck", ["--shell", "sh"], `${doc}\n`, judge), "verdict 3", "another document: judged");
  const saved = process.env.HOMELAB_NO_VALIDATOR_CACHE;
  process.env.HOMELAB_NO_VALIDATOR_CACHE = "1";
  try {
    assert.equal(verdict("shellcheck", ["--shell", "sh"], doc, judge), "verdict 4", "the cache turned off: judged");
  } finally {
    if (saved === undefined) delete process.env.HOMELAB_NO_VALIDATOR_CACHE;
    else process.env.HOMELAB_NO_VALIDATOR_CACHE = saved;
  }
});

test("shellcheck's findings come back the same from the cache", (t) => {
  if (!requireTool(t, "shellcheck")) return;
  const bad = `#!/bin/sh\n# ${randomUUID()}\necho $1\n`;
  const first = shellcheck(bad);
  assert.match(first, /SC2086/);
  assert.equal(shellcheck(bad), first);
  assert.equal(shellcheck(`#!/bin/sh\n# ${randomUUID()}\necho "$1"\n`), "");
});
