// The schema of a custom app (`apps.<name>.custom`): an app that is not in the catalog, described
// in the stack. Either any Helm chart (a Helm repository over https://, or an OCI artifact) or a
// plain container image run through the catalog's generic chart (bjw-s app-template). The entry's
// other keys (version, namespace, host, lanOnly, gpu, storageSize, values) mean what they mean for
// a catalog app; cross-field checks live in src/apps/customChecks.ts.
import { z } from "zod";

const label = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a DNS label (lowercase letters, digits and '-')");
/** POSIX-ish environment variable name, as Kubernetes accepts in a container's env. */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name such as API_KEY");

export const customVolumeSchema = z.strictObject({
  /** Volume key; the claim is `<app>-<name>`. */
  name: label,
  /** database: local-path (SQLite, PostgreSQL); data: the data class (NFS, else Longhorn, else local-path). */
  kind: z.enum(["database", "data"]),
  /** GiB. */
  size: z.number().int().min(1).max(65_536),
  /** Where the container mounts it (image apps only; a chart mounts its claims through its own values). */
  mountPath: z
    .string()
    .regex(/^\/\S*$/, "must be an absolute path such as /config")
    .optional(),
});

export const customSecretSchema = z.strictObject({
  /** Key in the app's Secret `<app>-secrets`. */
  key: z.string().regex(/^[A-Za-z0-9._-]{1,253}$/, "must be a Secret key (letters, digits, '.', '_' and '-')"),
  /** Generated length (letters and digits). Default 32. */
  length: z.number().int().min(16).max(128).default(32),
  /** Environment variable the container reads it from (image apps only). */
  env: envName.optional(),
});

export const customAppSchema = z.strictObject({
  description: z.string().min(1).optional(),
  /** A Helm chart: `repository` is an https:// Helm repository (with `name`) or the oci:// chart itself. */
  chart: z
    .strictObject({
      repository: z.string().regex(/^(https:\/\/|oci:\/\/)[^\s/]+(\/\S*)?$/, "must be an https:// Helm repository or an oci:// chart URL"),
      /** Chart name in an https:// repository; not for oci:// (the URL names the chart). */
      name: z
        .string()
        .regex(/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/, "must be a chart name such as pihole")
        .optional(),
    })
    .optional(),
  /** A container image, run through bjw-s app-template (the entry's `version` is app-template's). */
  image: z
    .strictObject({
      /** e.g. ghcr.io/home-operations/lidarr */
      repository: z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._/-][a-z0-9]+)*)*$/, "must be an image repository such as ghcr.io/owner/app"),
      /** A release tag (no latest). */
      tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be an image tag such as 1.2.3"),
    })
    .optional(),
  /** The web service behind the ingress: its port, and for a chart the Service's name. */
  service: z
    .strictObject({
      /** Service name; image apps: the app name (default); charts: required, as the chart names it. */
      name: label.optional(),
      port: z.number().int().min(1).max(65_535),
    })
    .optional(),
  volumes: z.array(customVolumeSchema).default([]),
  secrets: z.array(customSecretSchema).default([]),
  /** Plain environment of the container (image apps only). */
  env: z.record(envName, z.string()).default({}),
  /** Mount the namespace's shared media library (NFS) at /media (image apps), like Plex and the *arr apps. */
  mediaLibrary: z.boolean().default(false),
  /** Helm's install/upgrade timeout in minutes. Default 10m. */
  timeout: z
    .string()
    .regex(/^\d+m$/, "must be minutes such as 10m")
    .default("10m"),
});

export type CustomAppConfig = z.output<typeof customAppSchema>;
