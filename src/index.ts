// Entry point: validate the stack config (nothing is registered when it is invalid), compose the
// stack, export its outputs.
import * as pulumi from "@pulumi/pulumi";
import { EXTRA_CHECKS } from "./checks";
import { loadStack } from "./config/loader";
import { buildHomelab } from "./homelab";

export = (() => {
  const stack = loadStack(EXTRA_CHECKS);
  for (const w of stack.warnings) pulumi.log.warn(w);
  return buildHomelab(stack);
})();
