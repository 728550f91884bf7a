// What the system layer hands to platform and apps.
import type * as pulumi from "@pulumi/pulumi";

export interface System {
  /** ClusterIssuer that app ingresses use (letsencrypt-staging or letsencrypt-prod); undefined without cert-manager. */
  readonly clusterIssuer: string | undefined;
  /** StorageClass names available in this stack. */
  readonly storageClasses: { readonly local: string; readonly nfs?: string; readonly longhorn?: string };
  /** Ready once ingress works end to end (Traefik configured, middlewares and issuers in place). */
  readonly ingressReady: pulumi.Resource[];
  /** Traefik's LoadBalancer address, when pinned. */
  readonly traefikIp: string | undefined;
}
