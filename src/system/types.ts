// What the system layer hands to platform and apps.
import type * as pulumi from "@pulumi/pulumi";

export interface System {
  /** ClusterIssuer that app ingresses use (letsencrypt-staging or letsencrypt-prod); undefined without cert-manager. */
  readonly clusterIssuer: string | undefined;
  /**
   * The ClusterIssuer an ingress names to order a certificate of its own; undefined when Traefik's
   * default certificate covers it (the wildcard `*.<domain>`, or Traefik's own without cert-manager).
   */
  readonly ingressIssuer: string | undefined;
  /** ingressIssuer per domain name (homelab:domain and homelab:domains). */
  readonly ingressIssuers: Readonly<Record<string, string | undefined>>;
  /** The generated root CAs' certificates (PEM, public) by issuer name; empty without any. */
  readonly caCertificates: Readonly<Record<string, pulumi.Output<string>>>;
  /** StorageClass names available in this stack. */
  readonly storageClasses: {
    readonly local: string;
    readonly nfs?: string;
    readonly longhorn?: string;
    /** democratic-csi's TrueNAS classes (storage.truenas). */
    readonly truenasNfs?: string;
    readonly truenasIscsi?: string;
  };
  /** Ready once ingress works end to end (Traefik configured, middlewares and issuers in place). */
  readonly ingressReady: pulumi.Resource[];
  /**
   * Ready once every class in `storageClasses` provisions volumes (the NFS driver and its class,
   * Longhorn); local-path is k3s's own. Claims wait for it: one created before its class exists
   * stays Pending while Pulumi waits for it to bind.
   */
  readonly storageReady: pulumi.Resource[];
  /** Traefik's LoadBalancer address, when pinned. */
  readonly traefikIp: string | undefined;
}
