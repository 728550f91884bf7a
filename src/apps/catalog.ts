// The app catalog: the seeds' applications, each one typed entry. Chart sources are real and
// maintained: their own chart where one is maintained (Ollama, Home Assistant), else bjw-s
// app-template (a generic chart, https://bjw-s-labs.github.io/helm-charts/docs/app-template/) with
// the app's own pinned image in apps/<name>/values.yaml. The chart version is pinned per stack
// (apps.<name>.version). Enabling an app is one entry under homelab:apps.
import { gpuScheduling } from "../cluster/conventions";
import { mergeValues } from "../system/values";
import { SEED_APPS } from "./seedApps";
import { MAIN_HTTP, templateApp } from "./template";
import type { AppDefinition, ValuesContext } from "./types";
import { urlOf } from "./values";

export { APP_TEMPLATE } from "./template";

/** Home Assistant's configuration.yaml on first start: trust the ingress controller's pods. */
export function homeAssistantConfig(trustedProxy: string): string {
  return [
    "# Loads default set of integrations. Do not remove.",
    "default_config:",
    "http:",
    "  use_x_forwarded_for: true",
    "  trusted_proxies:",
    `    - ${trustedProxy}`,
    "frontend:",
    "  themes: !include_dir_merge_named themes",
    "automation: !include automations.yaml",
    "script: !include scripts.yaml",
    "scene: !include scenes.yaml",
    "",
  ].join("\n");
}

const ollama: AppDefinition = {
  name: "ollama",
  description: "Local LLM inference engine (API)",
  // The chart's registry moved (otwld/ollama-helm README at ollama-1.24.0: "We are migrating the
  // registry from https://otwld.github.io/ollama-helm/ ... to https://helm.otwld.com/").
  source: { kind: "helm", url: "https://helm.otwld.com/", chart: "ollama" },
  namespace: "ai",
  ingress: { service: "ollama", port: 11434 },
  volumes: [{ name: "models", kind: "data", size: 100, mountPath: "/root/.ollama" }],
  gpu: "required",
  secrets: [],
  timeout: "20m",
  values: (ctx: ValuesContext) => {
    const gpu = gpuScheduling();
    return {
      fullnameOverride: ctx.app,
      persistentVolume: { enabled: true, existingClaim: ctx.volumes.models.claim },
      runtimeClassName: gpu.runtimeClassName,
      nodeSelector: gpu.nodeSelector,
      tolerations: gpu.tolerations,
      resources: { limits: gpu.resources.limits },
    };
  },
};

const homeAssistant: AppDefinition = {
  name: "home-assistant",
  description: "Home automation hub",
  source: { kind: "helm", url: "https://pajikos.github.io/home-assistant-helm-chart/", chart: "home-assistant" },
  namespace: "applications",
  ingress: { service: "home-assistant", port: 8123 },
  // The recorder database is SQLite in /config. The chart's StatefulSet claims it: existing-claim
  // support arrived late in the chart, its volumeClaimTemplate works in every version, and
  // Kubernetes keeps such claims when the release is uninstalled.
  volumes: [{ name: "config", kind: "database", size: 5, mountPath: "/config", claimedBy: "chart" }],
  gpu: "none",
  secrets: [],
  timeout: "10m",
  values: (ctx) => ({
    fullnameOverride: ctx.app,
    persistence: { enabled: true, storageClass: ctx.volumes.config.storageClass, size: `${ctx.volumes.config.size}Gi` },
    configuration: { enabled: true, trusted_proxies: [ctx.clusterCidr], templateConfig: homeAssistantConfig(ctx.clusterCidr) },
  }),
};

const postgresql = templateApp({
  name: "postgresql",
  description: "Relational database (official postgres image), nightly pg_dumpall to the NFS backup share",
  namespace: "infrastructure",
  volumes: [{ name: "data", kind: "database", size: 20, mountPath: "/var/lib/postgresql/data" }],
  gpu: "none",
  secrets: [{ key: "password", length: 32, env: "POSTGRES_PASSWORD" }],
  backup: "pg_dump",
  timeout: "10m",
});

const redisBase = templateApp({
  name: "redis",
  description: "Cache and message broker (official redis image, AOF persistence)",
  namespace: "infrastructure",
  volumes: [{ name: "data", kind: "database", size: 5, mountPath: "/data" }],
  gpu: "none",
  // The password reaches redis in a config file from the Secret, not on its command line.
  secrets: [{ key: "password", length: 32 }],
  derivedSecrets: (s) => ({ "redis.conf": `requirepass ${s.password}\nappendonly yes\ndir /data\n` }),
  timeout: "10m",
});
const redis: AppDefinition = {
  ...redisBase,
  values: (ctx) =>
    mergeValues(redisBase.values(ctx), {
      persistence: { config: { type: "secret", name: ctx.secretName, globalMounts: [{ path: "/etc/redis/redis.conf", subPath: "redis.conf", readOnly: true }] } },
    }),
};

const minio = templateApp(
  {
    name: "minio",
    description: "S3-compatible object storage (last community image; MinIO is maintenance-only)",
    namespace: "infrastructure",
    ingress: { appTemplate: { service: "main", port: "api" } },
    // The web console listens on its own port (values.yaml `--console-address :9001`).
    consoleIngress: { appTemplate: { service: "main", port: "console" } },
    // MinIO does not support NFS backends: its drive stays on local-path.
    volumes: [{ name: "data", kind: "database", size: 100, mountPath: "/data" }],
    gpu: "none",
    secrets: [{ key: "root-password", length: 32, env: "MINIO_ROOT_PASSWORD" }],
    timeout: "10m",
  },
  // Behind a proxy the console must know its public URL (its redirects, e.g. after login).
  (ctx) => (ctx.consoleHost === undefined ? {} : { MINIO_BROWSER_REDIRECT_URL: `https://${ctx.consoleHost}` }),
);

const n8n = templateApp(
  {
    name: "n8n",
    description: "Workflow automation (SQLite in its data directory)",
    namespace: "applications",
    ingress: MAIN_HTTP,
    volumes: [{ name: "data", kind: "database", size: 5, mountPath: "/home/node/.n8n" }],
    gpu: "none",
    secrets: [{ key: "encryption-key", length: 48, env: "N8N_ENCRYPTION_KEY" }],
    timeout: "10m",
  },
  (ctx) =>
    ctx.host === undefined ? { N8N_SECURE_COOKIE: "false" } : { N8N_HOST: ctx.host, N8N_PROTOCOL: "https", WEBHOOK_URL: `${urlOf(ctx)}/`, N8N_EDITOR_BASE_URL: `${urlOf(ctx)}/` },
);

const stableDiffusion = templateApp(
  {
    name: "stable-diffusion-webui",
    // ai-dock/stable-diffusion-webui has had no commit since 2024-08-16 (v1.10.1, CUDA 12.1):
    // the image gets no fixes; apps/stable-diffusion-webui/README.md says how to swap it.
    description: "AUTOMATIC1111 Stable Diffusion WebUI (ai-dock CUDA image, unmaintained since 2024-08; password-protected)",
    namespace: "ai",
    ingress: MAIN_HTTP,
    volumes: [{ name: "workspace", kind: "data", size: 100, mountPath: "/workspace" }],
    gpu: "required",
    secrets: [{ key: "web-password", length: 32, env: "WEB_PASSWORD" }],
    timeout: "30m",
  },
  (ctx) => (ctx.host === undefined ? {} : { WEBUI_URL: urlOf(ctx) }),
);

const jupyter = templateApp({
  name: "jupyter",
  description: "Jupyter Lab (PyTorch CUDA image; the GPU is optional)",
  namespace: "ai",
  ingress: MAIN_HTTP,
  volumes: [{ name: "work", kind: "data", size: 20, mountPath: "/home/jovyan/work" }],
  gpu: "optional",
  secrets: [{ key: "token", length: 48, env: "JUPYTER_TOKEN" }],
  timeout: "20m",
});

const plex = templateApp(
  {
    name: "plex",
    description: "Plex Media Server (library database in /config, media from the shared library)",
    namespace: "media",
    ingress: MAIN_HTTP,
    volumes: [{ name: "config", kind: "database", size: 20, mountPath: "/config" }],
    mediaLibrary: true,
    gpu: "optional",
    secrets: [],
    timeout: "15m",
  },
  (ctx) => ({
    ...(ctx.host === undefined ? {} : { PLEX_ADVERTISE_URL: `${urlOf(ctx)}:443` }),
    ...(ctx.gpu ? { NVIDIA_DRIVER_CAPABILITIES: "all" } : {}),
  }),
);

const arr = (name: string, description: string) =>
  templateApp({
    name,
    description,
    namespace: "media",
    ingress: MAIN_HTTP,
    // SQLite: the *arr apps corrupt their database on NFS.
    volumes: [{ name: "config", kind: "database", size: 5, mountPath: "/config" }],
    mediaLibrary: true,
    gpu: "none",
    secrets: [],
    timeout: "10m",
  });

const paperless = templateApp(
  {
    name: "paperless-ngx",
    description: "Document management (SQLite data dir on local-path, documents on NFS, Redis broker sidecar)",
    namespace: "applications",
    ingress: MAIN_HTTP,
    volumes: [
      { name: "data", kind: "database", size: 5, mountPath: "/usr/src/paperless/data" },
      { name: "media", kind: "data", size: 50, mountPath: "/usr/src/paperless/media" },
    ],
    gpu: "none",
    secrets: [
      { key: "secret-key", length: 64, env: "PAPERLESS_SECRET_KEY" },
      { key: "admin-password", length: 32, env: "PAPERLESS_ADMIN_PASSWORD" },
    ],
    timeout: "15m",
  },
  (ctx) => (ctx.host === undefined ? {} : { PAPERLESS_URL: urlOf(ctx) }),
);

const mealie = templateApp(
  {
    name: "mealie",
    description: "Recipe manager (SQLite)",
    namespace: "applications",
    ingress: MAIN_HTTP,
    volumes: [{ name: "data", kind: "database", size: 5, mountPath: "/app/data" }],
    gpu: "none",
    secrets: [],
    timeout: "10m",
  },
  (ctx) => (ctx.host === undefined ? {} : { BASE_URL: urlOf(ctx) }),
);

const actual = templateApp({
  name: "actual",
  description: "Actual Budget server (SQLite)",
  namespace: "applications",
  ingress: MAIN_HTTP,
  volumes: [{ name: "data", kind: "database", size: 2, mountPath: "/data" }],
  gpu: "none",
  secrets: [],
  timeout: "10m",
});

/** Every catalog app by name. */
export const CATALOG: ReadonlyMap<string, AppDefinition> = new Map(
  [
    postgresql,
    redis,
    minio,
    n8n,
    homeAssistant,
    ollama,
    stableDiffusion,
    jupyter,
    plex,
    arr("radarr", "Movie collection manager"),
    arr("sonarr", "TV series collection manager"),
    paperless,
    mealie,
    actual,
    ...SEED_APPS,
  ].map((d) => [d.name, d]),
);
