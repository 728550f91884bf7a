// The Kubernetes objects the system layer creates besides Helm releases: MetalLB pools, ACME
// issuers, the wildcard certificate, Traefik's configuration and middlewares, the NFS StorageClass.
// Pure: tested directly (and against @kubernetes-models where a model exists).
import { ISSUER_PRODUCTION, ISSUER_STAGING, LAN_ONLY_MIDDLEWARE, REDIRECT_MIDDLEWARE, STORAGE_NFS } from "./conventions";
import { traefikValuesContent, type TraefikValuesArgs } from "./values";

/** The namespace k3s runs its bundled Traefik in (and where its default TLS store lives). */
export const TRAEFIK_NAMESPACE = "kube-system";
/** Secret cert-manager writes the wildcard certificate to (in TRAEFIK_NAMESPACE). */
export const WILDCARD_TLS_SECRET = "wildcard-tls";
/** Secret (in cert-manager's namespace) holding the Cloudflare API token, and its key. */
export const CLOUDFLARE_TOKEN_SECRET = { name: "cloudflare-api-token", key: "api-token" } as const;
/** The provisioner name csi-driver-nfs registers. */
export const NFS_PROVISIONER = "nfs.csi.k8s.io";
/** PVC directories on the share: `{namespace}-{pvc-name}` (seed 003); the driver expands the placeholders. */
export const NFS_SUBDIR_PATTERN = "${pvc.metadata.namespace}-${pvc.metadata.name}";

export const ACME_SERVERS = {
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
  production: "https://acme-v02.api.letsencrypt.org/directory",
} as const;
export type AcmeEnvironment = keyof typeof ACME_SERVERS;

/** The ClusterIssuer name for an environment (certManager.issuer in config). */
export function issuerName(env: AcmeEnvironment): string {
  return env === "production" ? ISSUER_PRODUCTION : ISSUER_STAGING;
}

// MetalLB ------------------------------------------------------------------------------------------

export function ipAddressPool(args: { name: string; namespace: string; range: string }) {
  return {
    apiVersion: "metallb.io/v1beta1",
    kind: "IPAddressPool",
    metadata: { name: args.name, namespace: args.namespace },
    spec: { addresses: [args.range], autoAssign: true },
  };
}

export function l2Advertisement(args: { name: string; namespace: string; pool: string }) {
  return {
    apiVersion: "metallb.io/v1beta1",
    kind: "L2Advertisement",
    metadata: { name: args.name, namespace: args.namespace },
    spec: { ipAddressPools: [args.pool] },
  };
}

// cert-manager -------------------------------------------------------------------------------------

/** An ACME ClusterIssuer solving DNS-01 on Cloudflare with the token Secret of cert-manager's namespace. */
export function acmeClusterIssuer(args: { env: AcmeEnvironment; email: string }) {
  const name = issuerName(args.env);
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name },
    spec: {
      acme: {
        email: args.email,
        server: ACME_SERVERS[args.env],
        privateKeySecretRef: { name: `${name}-account-key` },
        solvers: [{ dns01: { cloudflare: { apiTokenSecretRef: { name: CLOUDFLARE_TOKEN_SECRET.name, key: CLOUDFLARE_TOKEN_SECRET.key } } } }],
      },
    },
  };
}

/**
 * The ClusterIssuer of a configured issuer name: Let's Encrypt's built-in ones by environment,
 * any other (certManager.issuers) under its own name.
 */
export function clusterIssuerName(configured: string): string {
  return configured === "staging" || configured === "production" ? issuerName(configured) : configured;
}

/** Secret (in cert-manager's namespace) holding a generated root CA's tls.crt and tls.key. */
export function caSecretName(issuer: string): string {
  return `${issuer}-ca`;
}

/** A CA ClusterIssuer: signs with the key pair in caSecretName(name), in cert-manager's namespace (its cluster resource namespace). */
export function caClusterIssuer(args: { name: string }) {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name: args.name },
    spec: { ca: { secretName: caSecretName(args.name) } },
  };
}

/**
 * Annotations of cert-manager's HTTP-01 solver Ingress. Traefik's web entry point redirects every
 * request to HTTPS (values.ts), so the ACME server's GET of http://<host>/.well-known/acme-challenge/
 * arrives over HTTPS: the solver's router must be a TLS one on websecure. step-ca follows the
 * redirect and does not verify the certificate it meets there (acme/client.go: InsecureSkipVerify).
 */
export const HTTP01_SOLVER_ANNOTATIONS: Readonly<Record<string, string>> = {
  "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
  "traefik.ingress.kubernetes.io/router.tls": "true",
};

/**
 * An ACME ClusterIssuer for an external server (step-ca): its root as caBundle (base64 of the PEM,
 * as cert-manager wants it), challenges over HTTP-01 through Traefik or DNS-01 on Cloudflare.
 */
export function externalAcmeClusterIssuer(args: { name: string; server: string; caBundle: string; email?: string; solver: "http01" | "cloudflare" }) {
  const solver =
    args.solver === "http01"
      ? { http01: { ingress: { ingressClassName: "traefik", ingressTemplate: { metadata: { annotations: { ...HTTP01_SOLVER_ANNOTATIONS } } } } } }
      : { dns01: { cloudflare: { apiTokenSecretRef: { name: CLOUDFLARE_TOKEN_SECRET.name, key: CLOUDFLARE_TOKEN_SECRET.key } } } };
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name: args.name },
    spec: {
      acme: {
        ...(args.email !== undefined ? { email: args.email } : {}),
        server: args.server,
        caBundle: Buffer.from(args.caBundle.trim() + "\n").toString("base64"),
        privateKeySecretRef: { name: `${args.name}-account-key` },
        solvers: [solver],
      },
    },
  };
}

/** The Secret a domain's wildcard certificate is written to: WILDCARD_TLS_SECRET for homelab:domain, `wildcard-<key>-tls` for homelab:domains.<key>. */
export function wildcardSecretName(key: string | undefined): string {
  return key === undefined ? WILDCARD_TLS_SECRET : `wildcard-${key}-tls`;
}

/** The wildcard certificate for `*.<domain>` and `<domain>`, written to `secretName` (default WILDCARD_TLS_SECRET). */
export function wildcardCertificate(args: { name: string; namespace: string; domain: string; issuer: string; secretName?: string }) {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: args.name, namespace: args.namespace },
    spec: {
      secretName: args.secretName ?? WILDCARD_TLS_SECRET,
      dnsNames: [`*.${args.domain}`, args.domain],
      issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: args.issuer },
    },
  };
}

// Traefik ------------------------------------------------------------------------------------------

/** k3s's way to customise a packaged chart: a HelmChartConfig named like the chart, in kube-system. */
export function traefikHelmChartConfig(args: TraefikValuesArgs) {
  return {
    apiVersion: "helm.cattle.io/v1",
    kind: "HelmChartConfig",
    metadata: { name: "traefik", namespace: TRAEFIK_NAMESPACE },
    spec: { valuesContent: traefikValuesContent(args) },
  };
}

/**
 * The `redirect-https` middleware of seed 003's convention (default-redirect-https@kubernetescrd).
 * The program's own ingresses do not reference it (Traefik's web entry point already redirects every
 * request to :443, so the middleware only ever saw HTTPS); it stays so that manifests written to the
 * seed's convention still resolve (a router naming a missing middleware is refused by Traefik).
 */
export function redirectHttpsMiddleware() {
  return {
    apiVersion: "traefik.io/v1alpha1",
    kind: "Middleware",
    metadata: { name: REDIRECT_MIDDLEWARE.name, namespace: REDIRECT_MIDDLEWARE.namespace },
    spec: { redirectScheme: { scheme: "https", permanent: true } },
  };
}

/** The `lan-only` middleware (seed 004): only clients from these CIDRs reach the router. */
export function lanOnlyMiddleware(sourceRange: readonly string[]) {
  return {
    apiVersion: "traefik.io/v1alpha1",
    kind: "Middleware",
    metadata: { name: LAN_ONLY_MIDDLEWARE.name, namespace: LAN_ONLY_MIDDLEWARE.namespace },
    spec: { ipAllowList: { sourceRange: [...sourceRange] } },
  };
}

// Storage ------------------------------------------------------------------------------------------

/**
 * The `nfs-client` StorageClass. Deleting a PVC deletes its PersistentVolume but keeps the
 * directory on the share (`onDelete: retain`): a PVC recreated under the same name finds its data
 * again, and nothing on the NAS is lost to a mistaken `kubectl delete`. `allowVolumeExpansion`: the
 * API refuses to grow a claim whose class does not allow it; csi-driver-nfs implements expansion
 * (v4.12.0 `pkg/nfs/nfs.go`, EXPAND_VOLUME), so a raised `storageSize` is an in-place update.
 */
export function nfsStorageClass(args: { server: string; share: string; mountOptions: readonly string[] }) {
  return {
    apiVersion: "storage.k8s.io/v1" as const,
    kind: "StorageClass" as const,
    metadata: { name: STORAGE_NFS },
    provisioner: NFS_PROVISIONER,
    parameters: { server: args.server, share: args.share, subDir: NFS_SUBDIR_PATTERN, onDelete: "retain" },
    reclaimPolicy: "Delete" as const,
    volumeBindingMode: "Immediate" as const,
    allowVolumeExpansion: true,
    mountOptions: [...args.mountOptions],
  };
}
