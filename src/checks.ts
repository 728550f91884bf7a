// Config checks that need knowledge from layers above config (e.g. the app catalog's names).
// Run by the entry point with the schema's own checks, before any resource is registered.
import type { StackConfig } from "./config/schema";

export const EXTRA_CHECKS: ReadonlyArray<(config: StackConfig) => string[]> = [];
