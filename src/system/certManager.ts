// CertManagerIssuer: cert-manager with its CRDs; when a domain uses Let's Encrypt, the Cloudflare
// API token as a Secret in its namespace and ACME ClusterIssuers for Let's Encrypt staging and
// production (DNS-01 on Cloudflare); the stack's other issuers (a generated root CA, an external
// ACME server such as step-ca); and one wildcard Certificate per domain (`*.<domain>` and `<domain>`).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { IssuerConfig } from "../config/domainsSchema";
import { CHARTS, chartRelease } from "./charts";
import { SYSTEM_NAMESPACES } from "./conventions";
import { InternalCa } from "./internalCa";
import { acmeClusterIssuer, CLOUDFLARE_TOKEN_SECRET, externalAcmeClusterIssuer, issuerName, wildcardCertificate, wildcardSecretName, type AcmeEnvironment } from "./manifests";
import { certManagerValues, mergeValues } from "./values";

export const TYPE = "homelab:system:CertManagerIssuer";

/**
 * A DNS-01 order waits for the TXT record to propagate before Let's Encrypt validates it; a few
 * minutes is normal, 15 leaves room for a slow resolver without hanging an `up` for good.
 */
export const CERTIFICATE_TIMEOUT_SECONDS = 900;

/** One wildcard certificate: the domain, the ClusterIssuer that signs it, and its key (undefined: homelab:domain). */
export interface WildcardSpec {
  readonly key: string | undefined;
  readonly domain: string;
  readonly clusterIssuer: string;
}

export interface CertManagerIssuerArgs {
  /** cert-manager chart version (config versions.certManager, e.g. v1.19.1). */
  readonly chartVersion: string;
  /** ACME account e-mail for Let's Encrypt (config certManager.email). Undefined: no Let's Encrypt issuers. */
  readonly letsEncryptEmail?: string;
  /** Cloudflare API token with Zone:DNS:Edit on the domains' zone (secret), for DNS-01. Undefined: no token Secret. */
  readonly cloudflareApiToken?: pulumi.Input<string>;
  /** ip:port resolvers for the DNS-01 self-check (config certManager.recursiveNameservers). */
  readonly recursiveNameservers: readonly string[];
  /** The ClusterIssuer of homelab:domain (the stack output clusterIssuer). */
  readonly clusterIssuer: string;
  /** The other issuers the domains use, by ClusterIssuer name (config certManager.issuers). Default none. */
  readonly issuers?: Readonly<Record<string, IssuerConfig>>;
  /** The wildcard certificates, in `wildcardNamespace`. Default none. */
  readonly wildcards?: readonly WildcardSpec[];
  /** Namespace of the wildcard certificates (Traefik's, whose default TLS store reads them). */
  readonly wildcardNamespace?: string;
  /** Namespace of cert-manager (and of the Secrets ClusterIssuers read). Default cert-manager. */
  readonly namespace?: string;
  /** Resources the namespace and release are created after (the cluster's readiness). Default none. */
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
  /** Helm values merged over the component's (escape hatch). Default none. */
  readonly values?: Record<string, unknown>;
}

export class CertManagerIssuer extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly tokenSecret: k8s.core.v1.Secret | undefined;
  /** Every ClusterIssuer by name (letsencrypt-staging, letsencrypt-prod, certManager.issuers). */
  public readonly issuers: Readonly<Record<string, k8s.apiextensions.CustomResource>>;
  /** The generated root CAs by issuer name. */
  public readonly internalCas: Readonly<Record<string, InternalCa>>;
  /** The ClusterIssuer of homelab:domain. */
  public readonly clusterIssuer: string;
  /** homelab:domain's wildcard certificate, when it has one. */
  public readonly certificate: k8s.apiextensions.CustomResource | undefined;
  /** Every wildcard certificate by domain name. */
  public readonly certificates: Readonly<Record<string, k8s.apiextensions.CustomResource>>;
  /** Ready once every issuer is Ready (an ACME account, a valid CA) and the wildcard certificates are issued. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: CertManagerIssuerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const namespaceName = args.namespace ?? SYSTEM_NAMESPACES.certManager;
    const after = args.createAfter ?? [];

    const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: namespaceName } }, { parent: this, dependsOn: after });
    this.tokenSecret =
      args.cloudflareApiToken === undefined
        ? undefined
        : new k8s.core.v1.Secret(
            `${name}-cloudflare-token`,
            {
              metadata: { name: CLOUDFLARE_TOKEN_SECRET.name, namespace: namespace.metadata.name },
              type: "Opaque",
              stringData: { [CLOUDFLARE_TOKEN_SECRET.key]: pulumi.secret(args.cloudflareApiToken) },
            },
            { parent: this, dependsOn: [namespace] },
          );
    this.release = chartRelease(
      `${name}-release`,
      {
        chart: CHARTS.certManager,
        version: args.chartVersion,
        releaseName: "cert-manager",
        namespace: namespace.metadata.name,
        values: mergeValues(certManagerValues({ recursiveNameservers: args.recursiveNameservers }), args.values ?? {}),
      },
      { parent: this, dependsOn: [namespace, ...after] },
    );
    const token = this.tokenSecret ? [this.tokenSecret] : [];
    // Ready means the issuer works: an ACME account registered (a wrong e-mail or an unreachable
    // server fails the `up` here instead of at the first certificate), a CA's key pair read.
    const waitReady = <T extends { metadata: Record<string, unknown> }>(m: T) => ({ ...m, metadata: { ...m.metadata, annotations: { "pulumi.com/waitFor": "condition=Ready" } } });

    const issuers: Record<string, k8s.apiextensions.CustomResource> = {};
    if (args.letsEncryptEmail !== undefined) {
      const email = args.letsEncryptEmail;
      for (const env of ["staging", "production"] as AcmeEnvironment[]) {
        issuers[issuerName(env)] = new k8s.apiextensions.CustomResource(`${name}-${issuerName(env)}`, waitReady(acmeClusterIssuer({ env, email })), {
          parent: this,
          dependsOn: [this.release, ...token],
        });
      }
    }
    const internalCas: Record<string, InternalCa> = {};
    for (const [issuer, cfg] of Object.entries(args.issuers ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (cfg.ca !== undefined) {
        const ca = new InternalCa(
          `${name}-${issuer}`,
          { issuer, commonName: cfg.ca.commonName, validityYears: cfg.ca.validityYears, namespace: namespace.metadata.name, createAfter: [namespace, this.release] },
          { parent: this },
        );
        internalCas[issuer] = ca;
        issuers[issuer] = ca.issuer;
      } else if (cfg.acme !== undefined) {
        const manifest = externalAcmeClusterIssuer({ name: issuer, server: cfg.acme.server, caBundle: cfg.acme.caBundle, email: cfg.acme.email, solver: cfg.acme.solver });
        issuers[issuer] = new k8s.apiextensions.CustomResource(`${name}-${issuer}`, waitReady(manifest), {
          parent: this,
          dependsOn: [this.release, ...(cfg.acme.solver === "cloudflare" ? token : [])],
        });
      }
    }
    this.issuers = issuers;
    this.internalCas = internalCas;
    this.clusterIssuer = args.clusterIssuer;

    const certificates: Record<string, k8s.apiextensions.CustomResource> = {};
    for (const w of args.wildcards ?? []) {
      const suffix = w.key === undefined ? "" : `-${w.key}`;
      const manifest = wildcardCertificate({
        name: `wildcard${suffix}`,
        namespace: args.wildcardNamespace ?? namespaceName,
        domain: w.domain,
        issuer: w.clusterIssuer,
        ...(w.key === undefined ? {} : { secretName: wildcardSecretName(w.key) }),
      });
      certificates[w.domain] = new k8s.apiextensions.CustomResource(
        `${name}-wildcard${suffix}`,
        {
          ...manifest,
          metadata: {
            ...manifest.metadata,
            // Resolve only once the certificate is issued, so `ingressReady` means HTTPS works.
            annotations: { "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": String(CERTIFICATE_TIMEOUT_SECONDS) },
          },
        },
        { parent: this, dependsOn: [this.release, ...(issuers[w.clusterIssuer] ? [issuers[w.clusterIssuer]] : [])] },
      );
    }
    this.certificates = certificates;
    this.certificate = (args.wildcards ?? []).filter((w) => w.key === undefined).map((w) => certificates[w.domain])[0];
    this.ready = [...Object.values(issuers), ...Object.values(certificates)];
    this.registerOutputs({ release: this.release, clusterIssuer: this.clusterIssuer, certificate: this.certificate });
  }
}
