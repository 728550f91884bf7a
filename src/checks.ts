// Config checks that need knowledge from layers above config (e.g. the app catalog's names).
// Run by the entry point with the schema's own checks, before any resource is registered.
import { appChecks } from "./apps/checks";
import type { StackConfig } from "./config/schema";
import { fluxChecks } from "./platform/fluxRender";

export const EXTRA_CHECKS: ReadonlyArray<(config: StackConfig) => string[]> = [fluxChecks, appChecks];
