// Authentik's forward auth (seed 004): one Traefik Middleware in Authentik's namespace that asks the
// embedded outpost whether a request may pass, and the per-app opt-in (`apps.<name>.auth:
// authentik`) that puts it on the app's ingress after the lan-only allow-list. Pure.
import type { StackConfig } from "../config/schema";
import { middlewareRef } from "../system/conventions";
import { appDefinition } from "./custom";
import { AUTHENTIK_SERVER } from "./seedApps";

/** The Middleware's name (in Authentik's namespace): `<ns>-authentik-forward-auth@kubernetescrd`. */
export const FORWARD_AUTH_NAME = "authentik-forward-auth";

/**
 * The headers the outpost answers with and Traefik copies onto the request to the app, as
 * Authentik's Traefik integration lists them (docs.goauthentik.io, add-secure-apps/providers/proxy/
 * server_traefik). `authorization` is left out: it is only for providers that send HTTP basic auth.
 */
export const AUTHENTIK_RESPONSE_HEADERS = [
  "X-authentik-username",
  "X-authentik-groups",
  "X-authentik-entitlements",
  "X-authentik-email",
  "X-authentik-name",
  "X-authentik-uid",
  "X-authentik-jwt",
  "X-authentik-meta-jwks",
  "X-authentik-meta-outpost",
  "X-authentik-meta-provider",
  "X-authentik-meta-app",
  "X-authentik-meta-version",
] as const;

/** Where the Middleware lives: Authentik's namespace (apps.authentik.namespace, default authentik). */
export function forwardAuthMiddleware(cfg: Pick<StackConfig, "apps">): { name: string; namespace: string } | undefined {
  const entry = cfg.apps.authentik;
  if (entry === undefined || !entry.enabled) return undefined;
  const def = appDefinition("authentik", entry);
  return def === undefined ? undefined : { name: FORWARD_AUTH_NAME, namespace: entry.namespace ?? def.namespace };
}

/**
 * The traefik.io/v1alpha1 Middleware (fields as Traefik v3's CRD has them; k3s 1.34 ships Traefik
 * chart 37.1). The embedded outpost answers on Authentik's server Service (port 80 -> 9000), so no
 * outpost deployment is needed; it also handles the login callback, which reaches it through this
 * same middleware (a signed query string), so the app needs no second route.
 */
export function renderForwardAuthMiddleware(at: { name: string; namespace: string }) {
  return {
    apiVersion: "traefik.io/v1alpha1",
    kind: "Middleware",
    metadata: { name: at.name, namespace: at.namespace },
    spec: {
      forwardAuth: {
        address: `http://${AUTHENTIK_SERVER.service}.${at.namespace}.svc.cluster.local/outpost.goauthentik.io/auth/traefik`,
        // Traefik's own X-Forwarded-* (host, URI, proto) are what the outpost builds the redirect from.
        trustForwardHeader: true,
        authResponseHeaders: [...AUTHENTIK_RESPONSE_HEADERS],
      },
    },
  };
}

/** The router.middlewares reference of the Middleware. */
export function forwardAuthRef(at: { name: string; namespace: string }): string {
  return middlewareRef(at);
}

/** The keys forwardAuthChecks reads. */
export const FORWARD_AUTH_CHECK_KEYS = ["apps"] as const;

/** apps.<name>.auth: Authentik must run, and the app must have an ingress to protect. */
export function forwardAuthChecks(cfg: Pick<StackConfig, (typeof FORWARD_AUTH_CHECK_KEYS)[number]>): string[] {
  const errors: string[] = [];
  const authentik = forwardAuthMiddleware(cfg);
  for (const [name, entry] of Object.entries(cfg.apps)) {
    if (entry.auth === undefined || !entry.enabled) continue;
    if (name === "authentik") {
      errors.push("apps.authentik.auth: Authentik's own login page cannot sit behind its forward auth (every request would redirect to itself); remove auth");
      continue;
    }
    if (authentik === undefined) {
      errors.push(`apps.${name}.auth: authentik needs the Authentik app, and apps.authentik is not enabled; add apps.authentik (with its version) or remove apps.${name}.auth`);
    }
    const def = appDefinition(name, entry);
    if (def !== undefined && (def.ingress === undefined || entry.host === "")) {
      errors.push(`apps.${name}.auth: ${name} has no ingress for the forward auth to protect; remove auth`);
    }
  }
  return errors;
}
