// The system layer: the cluster services every stack stands on, each through the cluster's
// Kubernetes provider and after the cluster is ready.
//   MetalLB pool -> Traefik (pinned address, wildcard default certificate, middlewares)
//   cert-manager -> ClusterIssuers (Let's Encrypt, a generated root CA, step-ca) -> a wildcard Certificate per domain -> Traefik
//   NFS CSI driver -> nfs-client StorageClass; Longhorn (optional) -> storage readiness
//   ingress (Traefik, middlewares, issuers) -> kube-prometheus-stack with Grafana's ingress
import type * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/types";
import type { HomelabConfig } from "../config/loader";
import type { StackConfig } from "../config/schema";
import { stackDomains, usedIssuers, issuesWildcards, type StackDomain } from "../config/domains";
import { CertManagerIssuer, type WildcardSpec } from "./certManager";
import { STORAGE_LOCAL } from "./conventions";
import { Longhorn } from "./longhorn";
import { clusterIssuerName, TRAEFIK_NAMESPACE, WILDCARD_TLS_SECRET, wildcardSecretName } from "./manifests";
import { MetalLbPool } from "./metallb";
import { TruenasStorage } from "./democraticCsi";
import { Monitoring } from "./monitoring";
import { NfsStorage } from "./nfs";
import { TraefikConfig } from "./traefik";
import type { System } from "./types";

export type { System } from "./types";

/** Grafana's host under the stack's domain. */
export function grafanaHost(cfg: StackConfig): string {
  return `${cfg.monitoring.grafanaHost}.${cfg.domain}`;
}

/**
 * The CIDRs the `lan-only` middleware admits: config traefik.lanAllowlist (else the VM subnet), and
 * always the pod network. A pod calling an app by its public name reaches Traefik from its pod
 * address (kube-proxy keeps pod-to-LoadBalancer traffic inside the cluster, without SNAT), so
 * without the pod CIDR n8n calling another app's webhook would get 403.
 */
export function lanAllowlist(cfg: StackConfig): string[] {
  return [...new Set([...(cfg.traefik.lanAllowlist ?? [cfg.network.subnet]), cfg.cluster.clusterCidr])];
}

export function buildSystem(cfg: HomelabConfig, cluster: Cluster): System {
  const opts: pulumi.ComponentResourceOptions = { providers: { kubernetes: cluster.provider } };
  const clusterReady = cluster.ready;

  const metallb = cfg.metallb.enabled
    ? new MetalLbPool("metallb", { chartVersion: cfg.metallb.chartVersion, range: cfg.metallb.range, createAfter: clusterReady }, opts)
    : undefined;

  // Domains and their issuers: a wildcard certificate per domain whose issuer can sign one (all but
  // ACME over HTTP-01), served from Traefik's default TLS store; the others' ingresses order their own.
  const domains = stackDomains(cfg);
  const used = usedIssuers(cfg);
  const kindOf = new Map(used.map((i) => [i.name, i.kind] as const));
  let certManager: CertManagerIssuer | undefined;
  if (cfg.certManager.enabled) {
    const wildcards: WildcardSpec[] = cfg.cluster.traefik
      ? domains
          .filter((d) => kindOf.has(d.issuer) && issuesWildcards(kindOf.get(d.issuer)!))
          .map((d) => ({ key: d.key, domain: d.name, clusterIssuer: clusterIssuerName(d.issuer) }))
      : [];
    certManager = new CertManagerIssuer(
      "cert-manager",
      {
        chartVersion: cfg.certManager.chartVersion,
        // Let's Encrypt's issuers whenever they can work (an e-mail and the token), used by a domain
        // or not: moving every domain to another issuer deletes nothing a Certificate of the user's may name.
        letsEncryptEmail: cfg.certManager.cloudflareApiToken !== undefined ? cfg.certManager.email : undefined,
        cloudflareApiToken: cfg.certManager.cloudflareApiToken,
        recursiveNameservers: cfg.certManager.recursiveNameservers,
        clusterIssuer: clusterIssuerName(cfg.certManager.issuer),
        // Every declared issuer, used by a domain or not (a Certificate of the user's may name it).
        issuers: cfg.certManager.issuers,
        wildcards,
        // Traefik's default TLS store reads its certificates from its own namespace.
        wildcardNamespace: TRAEFIK_NAMESPACE,
        createAfter: clusterReady,
      },
      opts,
    );
  }
  const wildcardOf = (d: StackDomain) => certManager?.certificates[d.name];

  const primaryWildcard = certManager?.certificate;
  const traefik = cfg.cluster.traefik
    ? new TraefikConfig(
        "traefik",
        {
          loadBalancerIp: cfg.traefik.loadBalancerIp,
          defaultCertificateSecret: primaryWildcard ? WILDCARD_TLS_SECRET : undefined,
          certificateSecrets: domains.filter((d) => d.key !== undefined && wildcardOf(d) !== undefined).map((d) => wildcardSecretName(d.key)),
          lanAllowlist: lanAllowlist(cfg),
          createAfter: [...clusterReady, ...(metallb?.ready ?? []), ...Object.values(certManager?.certificates ?? {})],
        },
        opts,
      )
    : undefined;

  // A domain with its wildcard in Traefik's store orders no certificate per ingress; one without
  // (ACME over HTTP-01, or no Traefik) names its ClusterIssuer on each ingress.
  const ingressIssuers: Record<string, string | undefined> = Object.fromEntries(
    domains.map((d) => [d.name, certManager === undefined || wildcardOf(d) !== undefined ? undefined : clusterIssuerName(d.issuer)]),
  );
  const ingressIssuer = ingressIssuers[cfg.domain];
  const ingressReady = [...(metallb?.ready ?? []), ...(certManager?.ready ?? []), ...(traefik?.ready ?? [])];

  const nfs = cfg.storage.nfs.enabled
    ? new NfsStorage(
        "nfs",
        {
          chartVersion: cfg.storage.nfs.chartVersion,
          server: cfg.storage.nfs.server,
          share: cfg.storage.nfs.share,
          mountOptions: cfg.storage.nfs.mountOptions,
          createAfter: clusterReady,
        },
        opts,
      )
    : undefined;

  const tn = cfg.storage.truenas;
  const truenas = tn.enabled
    ? new TruenasStorage(
        "truenas",
        {
          chartVersion: tn.chartVersion,
          driverImage: tn.driverImage,
          connection: { host: tn.host, port: tn.port, allowInsecure: tn.allowInsecure },
          nfs: tn.nfs,
          iscsi: tn.iscsi,
          apiKey: tn.apiKey,
          hasGpuNode: cfg.nodes.some((n) => n.role === "gpu"),
          createAfter: clusterReady,
        },
        opts,
      )
    : undefined;

  const longhorn = cfg.storage.longhorn.enabled
    ? new Longhorn(
        "longhorn",
        {
          chartVersion: cfg.storage.longhorn.chartVersion,
          replicas: cfg.storage.longhorn.replicas,
          tolerateGpuTaint: cfg.nodes.some((n) => n.role === "gpu"),
          allowUninstall: cfg.storage.longhorn.allowUninstall,
          createAfter: clusterReady,
        },
        opts,
      )
    : undefined;

  if (cfg.monitoring.enabled) {
    new Monitoring(
      "monitoring",
      {
        chartVersion: cfg.monitoring.chartVersion,
        retention: cfg.monitoring.retention,
        storageSize: cfg.monitoring.storageSize,
        storageClass: STORAGE_LOCAL,
        // Without Traefik there is no ingress: Grafana is reached by kubectl port-forward.
        grafanaHost: cfg.cluster.traefik ? grafanaHost(cfg) : undefined,
        clusterIssuer: ingressIssuer,
        logs: cfg.monitoring.logs.enabled
          ? {
              lokiVersion: cfg.monitoring.logs.lokiVersion,
              alloyVersion: cfg.monitoring.logs.alloyVersion,
              retention: cfg.monitoring.logs.retention,
              storageSize: cfg.monitoring.logs.storageSize,
            }
          : undefined,
        createAfter: [...clusterReady, ...ingressReady],
      },
      opts,
    );
  }

  return {
    clusterIssuer: certManager?.clusterIssuer,
    ingressIssuer,
    ingressIssuers,
    caCertificates: Object.fromEntries(Object.entries(certManager?.internalCas ?? {}).map(([n, ca]) => [n, ca.certPem])),
    storageClasses: {
      local: STORAGE_LOCAL,
      ...(nfs ? { nfs: nfs.storageClassName } : {}),
      ...(longhorn ? { longhorn: longhorn.storageClassName } : {}),
      ...(truenas?.storageClasses.nfs ? { truenasNfs: truenas.storageClasses.nfs } : {}),
      ...(truenas?.storageClasses.iscsi ? { truenasIscsi: truenas.storageClasses.iscsi } : {}),
    },
    ingressReady,
    storageReady: [...(nfs ? [nfs.storageClass] : []), ...(longhorn ? [longhorn.release] : []), ...(truenas?.releases ?? [])],
    traefikIp: cfg.cluster.traefik ? cfg.traefik.loadBalancerIp : undefined,
  };
}
