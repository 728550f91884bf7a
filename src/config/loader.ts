// Reads the `homelab:` namespace of the running stack's config, validates it, and hands out the
// secret keys as Pulumi secrets. Nothing is registered here; a bad config stops the program before
// the first resource with every problem listed.
import * as pulumi from "@pulumi/pulumi";
import { isConfigSecret } from "../lib/pulumiInternals";
import type { Homelab } from "./model";
import { SECRET_KEYS, type SecretKey } from "./schema";
import { validateStackConfig, type SecretPresence, type ValidateOptions } from "./validate";

export const NAMESPACE = "homelab";

/** The secrets every stack has; those of optional features are in the model (`Homelab`). */
export interface Secrets {
  readonly proxmoxApiToken: pulumi.Output<string>;
  readonly sshPrivateKey: pulumi.Output<string>;
}

/** The resolved config the program builds from: secrets as Pulumi secrets. */
export type HomelabConfig = Homelab<pulumi.Output<string>>;

export interface LoadedStack {
  readonly stack: string;
  readonly config: HomelabConfig;
  readonly secrets: Secrets;
  readonly warnings: string[];
}

/** Raised for an invalid config: a RunError prints its message without a stack trace. */
export class ConfigError extends pulumi.RunError {
  constructor(readonly errors: string[]) {
    super(`invalid stack config (${errors.length} problem${errors.length === 1 ? "" : "s"}):\n${errors.map((e) => `  - ${e}`).join("\n")}`);
  }
}

/** Parses one config value: maps and lists arrive as JSON text, scalars as strings. */
export function parseConfigValue(value: string): unknown {
  const t = value.trimStart();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

/**
 * The `homelab:` keys of the running stack (without the namespace), which secrets are present, and
 * which plain keys hold a secret value (the engine marks a whole key secret when any value in it is).
 */
export function readRawConfig(): { raw: Record<string, unknown>; secrets: Record<SecretKey, SecretPresence>; secretValuedKeys: string[] } {
  const all = pulumi.runtime.allConfig();
  const raw: Record<string, unknown> = {};
  const prefix = `${NAMESPACE}:`;
  for (const key of Object.keys(all).sort()) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = parseConfigValue(all[key]);
  }
  const secrets = Object.fromEntries(
    SECRET_KEYS.map((k) => {
      const full = `${prefix}${k}`;
      const presence: SecretPresence = all[full] === undefined ? "absent" : isConfigSecret(full) ? "secret" : "plain";
      return [k, presence];
    }),
  ) as Record<SecretKey, SecretPresence>;
  const secretValuedKeys = Object.keys(raw).filter((k) => !(SECRET_KEYS as readonly string[]).includes(k) && isConfigSecret(`${prefix}${k}`));
  return { raw, secrets, secretValuedKeys };
}

/** Validates the running stack's config or throws a ConfigError naming every problem. */
export function loadStack(extraChecks: ValidateOptions["extraChecks"] = []): LoadedStack {
  const { raw, secrets, secretValuedKeys } = readRawConfig();
  const config = new pulumi.Config(NAMESPACE);
  const result = validateStackConfig(raw, { secrets, extraChecks, secretValuedKeys, secretValue: (k) => config.requireSecret(k) });
  if (!result.ok) throw new ConfigError(result.errors);
  return {
    stack: pulumi.getStack(),
    config: result.config,
    warnings: result.warnings,
    secrets: {
      proxmoxApiToken: config.requireSecret("proxmoxApiToken"),
      sshPrivateKey: config.requireSecret("sshPrivateKey"),
    },
  };
}
