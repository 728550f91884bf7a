// Composes one stack: the layers in order, each using only the layers below it.
//   metal    -> Proxmox provider, cloud images, VMs
//   cluster  -> K3s on the VMs, GPU nodes, kubeconfig and Kubernetes provider
//   system   -> MetalLB, cert-manager, Traefik, storage, device plugin, monitoring
//   platform -> Flux, DNS
//   apps     -> the app catalog
import * as pulumi from "@pulumi/pulumi";
import { buildApps } from "./apps";
import type { LoadedStack } from "./config/loader";
import { buildCluster } from "./cluster";
import { buildMetal } from "./metal";
import { buildPlatform } from "./platform";
import { DnsRecords } from "./platform/dns";
import { buildSystem, grafanaHost } from "./system";

/** Builds every resource of the stack and returns the stack outputs. */
export function buildHomelab(stack: LoadedStack): Record<string, pulumi.Input<unknown>> {
  const { config, secrets } = stack;
  const metal = buildMetal(config, secrets);

  // Cluster: k3s on the VMs (GPU nodes included), the kubeconfig and the Kubernetes provider.
  const cluster = buildCluster(config, metal);

  // System: MetalLB, cert-manager and the issuers, Traefik's configuration, storage, monitoring.
  const system = buildSystem(config, cluster);

  // Platform, DNS: Cloudflare records for the wildcard and the apex at Traefik's address.
  if (config.dns.enabled) {
    new DnsRecords("dns", {
      zoneId: config.dns.zoneId,
      domain: config.domain,
      address: config.dns.address,
      apiToken: config.dns.apiToken,
      proxied: config.dns.proxied,
      ttl: config.dns.ttl,
    });
  }

  // Platform, Flux: the flux-operator and one FluxInstance syncing the stack's Git path.
  const platform = buildPlatform(config, stack.stack, cluster);

  // Apps: each enabled catalog app as Flux objects, after the system layer and Flux's CRDs.
  const apps = buildApps(config, cluster, system, platform);

  return {
    vms: Object.fromEntries(config.machines.map((v) => [v.name, v.ip])),
    kubeconfig: cluster.kubeconfig,
    apiServer: cluster.apiServer,
    // Secret: what a restore from an etcd snapshot needs (README, day two).
    k3sToken: cluster.k3sToken,
    // Only what the stack has (an undefined output is a warning on every run).
    ...(system.traefikIp !== undefined ? { traefikIp: system.traefikIp } : {}),
    ...(system.clusterIssuer !== undefined ? { clusterIssuer: system.clusterIssuer } : {}),
    // The generated root CAs (public): what clients install to trust the internal domains.
    ...(Object.keys(system.caCertificates).length > 0 ? { caCertificates: system.caCertificates } : {}),
    ...(config.monitoring.enabled && config.cluster.traefik ? { grafanaUrl: `https://${grafanaHost(config)}` } : {}),
    // The public deploy key to add (read-only) to the Git host, for an ssh:// flux.url.
    ...(platform.fluxDeployKey !== undefined ? { fluxDeployKey: platform.fluxDeployKey } : {}),
    ...(Object.keys(apps.urls).length > 0 ? { appUrls: apps.urls } : {}),
  };
}
