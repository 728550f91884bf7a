// CertManagerIssuer: cert-manager with its CRDs, the Cloudflare API token as a Secret in its
// namespace, ACME ClusterIssuers for Let's Encrypt staging and production (DNS-01 on Cloudflare),
// and optionally one wildcard Certificate for `*.<domain>` and `<domain>`.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, chartRelease } from "./charts";
import { SYSTEM_NAMESPACES } from "./conventions";
import { acmeClusterIssuer, CLOUDFLARE_TOKEN_SECRET, issuerName, wildcardCertificate, type AcmeEnvironment } from "./manifests";
import { certManagerValues, mergeValues } from "./values";

export const TYPE = "homelab:system:CertManagerIssuer";

/**
 * A DNS-01 order waits for the TXT record to propagate before Let's Encrypt validates it; a few
 * minutes is normal, 15 leaves room for a slow resolver without hanging an `up` for good.
 */
export const CERTIFICATE_TIMEOUT_SECONDS = 900;

export interface CertManagerIssuerArgs {
  /** cert-manager chart version (config versions.certManager, e.g. v1.19.1). */
  readonly chartVersion: string;
  /** ACME account e-mail (config certManager.email). */
  readonly email: string;
  /** Cloudflare API token with Zone:DNS:Edit on the domain's zone (secret). */
  readonly cloudflareApiToken: pulumi.Input<string>;
  /** ip:port resolvers for the DNS-01 self-check (config certManager.recursiveNameservers). */
  readonly recursiveNameservers: readonly string[];
  /** Which issuer the wildcard certificate uses (config certManager.issuer). */
  readonly issuer: AcmeEnvironment;
  /** The wildcard certificate for `*.<domain>` and `<domain>`, in `namespace`. Default none. */
  readonly wildcard?: { readonly domain: string; readonly namespace: string };
  /** Namespace of cert-manager (and of the token Secret ClusterIssuers read). Default cert-manager. */
  readonly namespace?: string;
  /** Resources the namespace and release are created after (the cluster's readiness). Default none. */
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
  /** Helm values merged over the component's (escape hatch). Default none. */
  readonly values?: Record<string, unknown>;
}

export class CertManagerIssuer extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly tokenSecret: k8s.core.v1.Secret;
  /** Both ClusterIssuers, by environment. */
  public readonly issuers: Readonly<Record<AcmeEnvironment, k8s.apiextensions.CustomResource>>;
  /** The ClusterIssuer the stack uses (letsencrypt-staging or letsencrypt-prod). */
  public readonly clusterIssuer: string;
  public readonly certificate: k8s.apiextensions.CustomResource | undefined;
  /** Ready once both issuers have an ACME account and the wildcard certificate (if any) is issued. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: CertManagerIssuerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const namespaceName = args.namespace ?? SYSTEM_NAMESPACES.certManager;
    const after = args.createAfter ?? [];

    const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: namespaceName } }, { parent: this, dependsOn: after });
    this.tokenSecret = new k8s.core.v1.Secret(
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

    const issuer = (env: AcmeEnvironment) => {
      const manifest = acmeClusterIssuer({ env, email: args.email });
      return new k8s.apiextensions.CustomResource(
        `${name}-${issuerName(env)}`,
        // Ready means the ACME account is registered: a wrong e-mail or an unreachable ACME server
        // fails the `up` here instead of at the first certificate.
        { ...manifest, metadata: { ...manifest.metadata, annotations: { "pulumi.com/waitFor": "condition=Ready" } } },
        { parent: this, dependsOn: [this.release, this.tokenSecret] },
      );
    };
    this.issuers = { staging: issuer("staging"), production: issuer("production") };
    this.clusterIssuer = issuerName(args.issuer);

    if (args.wildcard) {
      const manifest = wildcardCertificate({ name: "wildcard", namespace: args.wildcard.namespace, domain: args.wildcard.domain, issuer: this.clusterIssuer });
      this.certificate = new k8s.apiextensions.CustomResource(
        `${name}-wildcard`,
        {
          ...manifest,
          metadata: {
            ...manifest.metadata,
            // Resolve only once the certificate is issued, so `ingressReady` means HTTPS works.
            annotations: { "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": String(CERTIFICATE_TIMEOUT_SECONDS) },
          },
        },
        { parent: this, dependsOn: [this.release, this.issuers[args.issuer]] },
      );
    }
    this.ready = [this.issuers.staging, this.issuers.production, ...(this.certificate ? [this.certificate] : [])];
    this.registerOutputs({ release: this.release, clusterIssuer: this.clusterIssuer, certificate: this.certificate });
  }
}
