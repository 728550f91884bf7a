// The seed apps that joined the catalog with custom apps (seeds 001 and 004): Lidarr, Prowlarr,
// qBittorrent, Pi-hole, CopyParty and Text Generation WebUI on app-template with their own pinned
// images (apps/<name>/values.yaml), and Authentik on its own chart (goauthentik/helm).
import { mergeValues } from "../system/values";
import { MAIN_HTTP, templateApp } from "./template";
import type { AppDefinition } from "./types";
import { secretEnv } from "./values";

const lidarr = templateApp({
  name: "lidarr",
  description: "Music collection manager",
  namespace: "media",
  ingress: MAIN_HTTP,
  // SQLite: the *arr apps corrupt their database on NFS.
  volumes: [{ name: "config", kind: "database", size: 5, mountPath: "/config" }],
  mediaLibrary: true,
  gpu: "none",
  secrets: [],
  timeout: "10m",
});

const prowlarr = templateApp({
  name: "prowlarr",
  description: "Indexer manager for the *arr apps (in place of Jackett)",
  namespace: "media",
  ingress: MAIN_HTTP,
  volumes: [{ name: "config", kind: "database", size: 2, mountPath: "/config" }],
  gpu: "none",
  secrets: [],
  timeout: "10m",
});

const qbittorrent = templateApp({
  name: "qbittorrent",
  description: "BitTorrent client (web UI), downloading into the shared media library",
  namespace: "media",
  ingress: MAIN_HTTP,
  // Settings and fast-resume data; downloads go to /media (the media library) so the *arr apps
  // import them by hard link or move on the same filesystem.
  volumes: [{ name: "config", kind: "database", size: 2, mountPath: "/config" }],
  mediaLibrary: true,
  gpu: "none",
  secrets: [],
  timeout: "10m",
});

const pihole = templateApp({
  name: "pihole",
  description: "Pi-hole DNS filter (web UI through the ingress, DNS on a LoadBalancer address)",
  namespace: "network",
  ingress: MAIN_HTTP,
  // gravity.db and the query log are SQLite: local-path.
  volumes: [{ name: "etc", kind: "database", size: 2, mountPath: "/etc/pihole" }],
  gpu: "none",
  secrets: [{ key: "web-password", length: 32, env: "FTLCONF_webserver_api_password" }],
  timeout: "10m",
});

/** CopyParty's config file: one admin account owning the share, the indexes off the data volume. */
export function copypartyConfig(password: string): string {
  return ["[global]", "  e2dsa", "  hist: /cfg/hists", "[accounts]", `  admin: ${password}`, "[/]", "  /w", "  accs:", "    rwmda: admin", ""].join("\n");
}

const copypartyBase = templateApp({
  name: "copyparty",
  description: "CopyParty file server (files on the data class, its SQLite indexes on local-path)",
  namespace: "applications",
  ingress: MAIN_HTTP,
  volumes: [
    { name: "files", kind: "data", size: 100, mountPath: "/w" },
    { name: "state", kind: "database", size: 2, mountPath: "/cfg/hists" },
  ],
  gpu: "none",
  // The admin password reaches copyparty in its config file from the Secret, not on its command line.
  secrets: [{ key: "admin-password", length: 32 }],
  derivedSecrets: (s) => ({ "copyparty.conf": copypartyConfig(s["admin-password"]) }),
  timeout: "10m",
});
const copyparty: AppDefinition = {
  ...copypartyBase,
  values: (ctx) =>
    mergeValues(copypartyBase.values(ctx), {
      persistence: { config: { type: "secret", name: ctx.secretName, globalMounts: [{ path: "/cfg/copyparty.conf", subPath: "copyparty.conf", readOnly: true }] } },
    }),
};

const textGenerationWebui = templateApp({
  name: "text-generation-webui",
  description: "oobabooga Text Generation WebUI (Atinoda's NVIDIA image)",
  namespace: "ai",
  ingress: MAIN_HTTP,
  volumes: [{ name: "models", kind: "data", size: 100, mountPath: "/app/user_data/models" }],
  gpu: "required",
  secrets: [],
  timeout: "30m",
});

/** Authentik's Service for the web port: `<release>-server`, port 80. */
export const AUTHENTIK_SERVER = { service: "authentik-server", port: 80 } as const;

const authentik: AppDefinition = {
  name: "authentik",
  description: "Authentik identity provider (its chart, with the chart's PostgreSQL)",
  source: { kind: "helm", url: "https://charts.goauthentik.io", chart: "authentik" },
  namespace: "authentik",
  ingress: AUTHENTIK_SERVER,
  volumes: [{ name: "postgresql", kind: "database", size: 8, mountPath: "/bitnami/postgresql" }],
  gpu: "none",
  secrets: [
    { key: "secret-key", length: 64 },
    { key: "postgresql-password", length: 32 },
    { key: "postgres-password", length: 32 },
  ],
  timeout: "15m",
  values: (ctx) => {
    // Authentik declares secrets, so the catalog names its Secret; the fallback is that same name.
    const secret = ctx.secretName ?? `${ctx.app}-secrets`;
    return {
      global: {
        // env wins over the chart's own config Secret (envFrom), whose secret values stay empty.
        env: [
          { name: "AUTHENTIK_SECRET_KEY", ...secretEnv(secret, "secret-key") },
          { name: "AUTHENTIK_POSTGRESQL__PASSWORD", ...secretEnv(secret, "postgresql-password") },
        ],
      },
      postgresql: {
        enabled: true,
        auth: { existingSecret: secret, secretKeys: { userPasswordKey: "postgresql-password", adminPasswordKey: "postgres-password" } },
        primary: { persistence: { enabled: true, existingClaim: ctx.volumes.postgresql.claim } },
      },
    };
  },
};

export const SEED_APPS: readonly AppDefinition[] = [lidarr, prowlarr, qbittorrent, pihole, copyparty, textGenerationWebui, authentik];
