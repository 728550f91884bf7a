// Config checks that need knowledge from layers above config (e.g. the app catalog's names).
// Run by the entry point with the schema's own checks, before any resource is registered.
import { APP_CHECK_KEYS, APP_HOST_CHECK_KEYS, appChecks, appHostChecks, appWarnings } from "./apps/checks";
import { FORWARD_AUTH_CHECK_KEYS, forwardAuthChecks } from "./apps/forwardAuth";
import { needing, type ConfigCheck } from "./config/validate";
import { fluxChecks, fluxWarnings } from "./platform/fluxRender";
import { systemChecks, traefikWarnings } from "./system/checks";

/** Each runs when the keys it reads parsed (`needing`), so a broken key hides no other check. */
export const EXTRA_CHECKS: ReadonlyArray<ConfigCheck> = [
  needing(["flux", "versions"], (cfg) => ({ errors: fluxChecks(cfg), warnings: fluxWarnings(cfg) })),
  needing(APP_CHECK_KEYS, appChecks),
  needing(APP_HOST_CHECK_KEYS, appHostChecks),
  needing(FORWARD_AUTH_CHECK_KEYS, forwardAuthChecks),
  needing(["versions", "storage", "monitoring"], systemChecks),
  needing(["versions", "cluster"], (cfg) => ({ errors: [], warnings: traefikWarnings(cfg) })),
  needing(["apps", "storage"], appWarnings),
];
