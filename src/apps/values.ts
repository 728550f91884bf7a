// Helm values of catalog apps, pure: the static part from `apps/<name>/values.yaml` (read at plan
// time, the same bytes every run), the computed part (claims, secrets, GPU scheduling, hosts), and
// the stack's escape hatch, merged in that order.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { gpuScheduling } from "../cluster/conventions";
import { mergeValues } from "../system/values";
import type { AppDefinition, ValuesContext } from "./types";

/** Repository root (src/apps/../..). */
export const APPS_DIR = join(__dirname, "..", "..", "apps");

export type Values = Record<string, unknown>;

function isObject(v: unknown): v is Values {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

const cache = new Map<string, Values>();

/** The static values of an app (`apps/<name>/values.yaml`); a missing or non-map file is a bug. */
export function staticValues(app: string, dir = APPS_DIR): Values {
  const path = join(dir, app, "values.yaml");
  const cached = cache.get(path);
  if (cached) return cached;
  const doc: unknown = parse(readFileSync(path, "utf8"));
  if (!isObject(doc)) throw new Error(`${path}: must hold a map of Helm values`);
  cache.set(path, doc);
  return doc;
}

/** The final values of an app: static file, then computed, then the stack's `values`. */
export function appValues(def: AppDefinition, ctx: ValuesContext, stackValues: Values, dir = APPS_DIR): Values {
  return mergeValues(mergeValues(def.staticValues ?? staticValues(def.name, dir), def.values(ctx)), stackValues);
}

/** A container env entry read from the app's Secret. */
export function secretEnv(secretName: string, key: string) {
  return { valueFrom: { secretKeyRef: { name: secretName, key } } };
}

/**
 * The computed values every app-template app shares: resource names fixed to the app's name, the
 * generated secrets as env of the main container, each volume from its pre-created claim, the
 * media library, and the GPU scheduling of the cluster layer's convention.
 */
export function appTemplateValues(def: AppDefinition, ctx: ValuesContext, env: Values = {}): Values {
  const secretEnvs: Values = {};
  for (const s of def.secrets) {
    if (s.env !== undefined && ctx.secretName !== undefined) secretEnvs[s.env] = secretEnv(ctx.secretName, s.key);
  }
  // Mounted into the main container only (app-template mounts `globalMounts` into every container,
  // so Paperless' Redis sidecar would get the documents too).
  const mainOnly = (path: string) => ({ advancedMounts: { main: { main: [{ path }] } } });
  const persistence: Values = {};
  for (const v of def.volumes) {
    persistence[v.name] = { existingClaim: ctx.volumes[v.name].claim, ...mainOnly(v.mountPath) };
  }
  if (def.mediaLibrary && ctx.mediaClaim !== undefined) {
    persistence.media = { existingClaim: ctx.mediaClaim, ...mainOnly("/media") };
  }
  const gpu = ctx.gpu ? gpuScheduling() : undefined;
  const container: Values = { env: { ...env, ...secretEnvs } };
  if (gpu) container.resources = { limits: gpu.resources.limits };
  return {
    global: { fullnameOverride: ctx.app },
    controllers: { main: { containers: { main: container } } },
    persistence,
    ...(gpu ? { defaultPodOptions: { runtimeClassName: gpu.runtimeClassName, nodeSelector: gpu.nodeSelector, tolerations: gpu.tolerations } } : {}),
  };
}

/** https://<host> of an app, or undefined without ingress. */
export function urlOf(ctx: ValuesContext): string | undefined {
  return ctx.host === undefined ? undefined : `https://${ctx.host}`;
}
