// bjw-s app-template, the generic chart the catalog runs plain images on, and the helper that
// turns a catalog entry into an app-template app (shared by catalog.ts and seedApps.ts).
import type { AppDefinition, ValuesContext } from "./types";
import { appTemplateValues } from "./values";

/** The web Service of an app-template app as the catalog's values.yaml files define it: `service.main`, port `http`. */
export const MAIN_HTTP = { appTemplate: { service: "main", port: "http" } } as const;

/** bjw-s app-template, published as an OCI artifact. */
export const APP_TEMPLATE = { kind: "oci", url: "oci://ghcr.io/bjw-s-labs/helm/app-template" } as const;

/** An app-template app: the shared computed values plus app-specific env. */
export function templateApp(def: Omit<AppDefinition, "source" | "values">, env: (ctx: ValuesContext) => Record<string, unknown> = () => ({})): AppDefinition {
  const full: AppDefinition = { ...def, source: APP_TEMPLATE, values: (ctx) => appTemplateValues(full, ctx, env(ctx)) };
  return full;
}
