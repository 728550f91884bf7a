// The system layer: the cluster services every stack stands on, each through the cluster's
// Kubernetes provider and after the cluster is ready.
//   MetalLB pool -> Traefik (pinned address, wildcard default certificate, middlewares)
//   cert-manager -> ClusterIssuers -> wildcard Certificate -> Traefik
//   NFS CSI driver -> nfs-client StorageClass; Longhorn (optional) -> storage readiness
//   ingress (Traefik, middlewares, issuers) -> kube-prometheus-stack with Grafana's ingress
import type * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/types";
import type { HomelabConfig } from "../config/loader";
import type { StackConfig } from "../config/schema";
import { CertManagerIssuer } from "./certManager";
import { STORAGE_LOCAL } from "./conventions";
import { Longhorn } from "./longhorn";
import { TRAEFIK_NAMESPACE, WILDCARD_TLS_SECRET } from "./manifests";
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

  let certManager: CertManagerIssuer | undefined;
  if (cfg.certManager.enabled) {
    certManager = new CertManagerIssuer(
      "cert-manager",
      {
        chartVersion: cfg.certManager.chartVersion,
        email: cfg.certManager.email,
        cloudflareApiToken: cfg.certManager.cloudflareApiToken,
        recursiveNameservers: cfg.certManager.recursiveNameservers,
        issuer: cfg.certManager.issuer,
        // Traefik's default TLS store reads its certificate from its own namespace.
        wildcard: cfg.cluster.traefik ? { domain: cfg.domain, namespace: TRAEFIK_NAMESPACE } : undefined,
        createAfter: clusterReady,
      },
      opts,
    );
  }

  const traefik = cfg.cluster.traefik
    ? new TraefikConfig(
        "traefik",
        {
          loadBalancerIp: cfg.traefik.loadBalancerIp,
          defaultCertificateSecret: certManager?.certificate ? WILDCARD_TLS_SECRET : undefined,
          lanAllowlist: lanAllowlist(cfg),
          createAfter: [...clusterReady, ...(metallb?.ready ?? []), ...(certManager?.certificate ? [certManager.certificate] : [])],
        },
        opts,
      )
    : undefined;

  // With the wildcard as Traefik's default certificate, an ingress orders no certificate of its own.
  const ingressIssuer = certManager?.certificate ? undefined : certManager?.clusterIssuer;
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
          connection: { host: tn.host, port: tn.port, allowInsecure: tn.allowInsecure },
          nfs: tn.nfs,
          iscsi: tn.iscsi,
          apiKey: tn.apiKey,
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
        createAfter: [...clusterReady, ...ingressReady],
      },
      opts,
    );
  }

  return {
    clusterIssuer: certManager?.clusterIssuer,
    ingressIssuer,
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
