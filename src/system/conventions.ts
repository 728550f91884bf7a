// Conventions the system layer guarantees to platform and apps (seed 003): storage classes,
// the cluster issuers, the middlewares.

/** k3s's bundled local-path provisioner: databases (fast local I/O, backed up by pg_dump). */
export const STORAGE_LOCAL = "local-path";
/** NFS CSI StorageClass for app data; PVC directories are `{namespace}-{pvc-name}`. */
export const STORAGE_NFS = "nfs-client";
/** Longhorn's StorageClass, when enabled. */
export const STORAGE_LONGHORN = "longhorn";
/** Every StorageClass a stack can have, for config that names one (apps.<name>.storageClass). */
export const STORAGE_CLASSES = [STORAGE_LOCAL, STORAGE_NFS, STORAGE_LONGHORN] as const;

/** Namespaces the system layer creates (and deletes with its services); apps never share them. */
export const SYSTEM_NAMESPACES = {
  metallb: "metallb-system",
  certManager: "cert-manager",
  longhorn: "longhorn-system",
  monitoring: "monitoring",
} as const;

export const ISSUER_STAGING = "letsencrypt-staging";
export const ISSUER_PRODUCTION = "letsencrypt-prod";

/**
 * Traefik middleware (namespace default) redirecting HTTP to HTTPS, `default-redirect-https@kubernetescrd`:
 * kept for manifests that follow seed 003; the redirect itself happens at Traefik's web entry point.
 */
export const REDIRECT_MIDDLEWARE = { name: "redirect-https", namespace: "default" } as const;
/** Traefik middleware (namespace default) allowing only LAN clients (seed 004). */
export const LAN_ONLY_MIDDLEWARE = { name: "lan-only", namespace: "default" } as const;

/** Traefik's reference for a middleware CRD: `<namespace>-<name>@kubernetescrd`. */
export function middlewareRef(m: { readonly name: string; readonly namespace: string }): string {
  return `${m.namespace}-${m.name}@kubernetescrd`;
}
