// Config checks that need knowledge from layers above config (e.g. the app catalog's names).
// Run by the entry point with the schema's own checks, before any resource is registered.
import { appChecks, appWarnings } from "./apps/checks";
import type { StackConfig } from "./config/schema";
import type { ExtraCheckResult } from "./config/validate";
import { fluxChecks, fluxWarnings } from "./platform/fluxRender";
import { systemChecks } from "./system/checks";

export const EXTRA_CHECKS: ReadonlyArray<(config: StackConfig) => string[] | ExtraCheckResult> = [
  (cfg) => ({ errors: fluxChecks(cfg), warnings: fluxWarnings(cfg) }),
  appChecks,
  systemChecks,
  appWarnings,
];
