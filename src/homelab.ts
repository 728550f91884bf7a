// Composes one stack: the layers in order, each using only the layers below it.
//   metal    -> Proxmox provider, cloud images, VMs
//   cluster  -> K3s on the VMs, GPU nodes, kubeconfig and Kubernetes provider
//   system   -> MetalLB, cert-manager, Traefik, storage, device plugin, monitoring
//   platform -> Flux, DNS
//   apps     -> the app catalog
import * as pulumi from "@pulumi/pulumi";
import type { LoadedStack } from "./config/loader";
import { buildCluster } from "./cluster";
import { buildMetal } from "./metal";
import { DnsRecords } from "./platform/dns";
import { buildSystem, grafanaHost } from "./system";

/** Builds every resource of the stack and returns the stack outputs. */
export function buildHomelab(stack: LoadedStack): Record<string, pulumi.Input<unknown>> {
  const { config, secrets } = stack;
  const metal = buildMetal(config, secrets);

  // Cluster: k3s on the VMs (GPU nodes included), the kubeconfig and the Kubernetes provider.
  const cluster = buildCluster(config, metal);

  // System: MetalLB, cert-manager and the issuers, Traefik's configuration, storage, monitoring.
  const system = buildSystem(config, secrets, cluster);

  // Platform, DNS: Cloudflare records for the wildcard and the apex at Traefik's address.
  if (config.dns.enabled) {
    new DnsRecords("dns", {
      zoneId: config.dns.zoneId!,
      domain: config.domain,
      address: system.traefikIp!,
      apiToken: secrets.cloudflareApiToken!,
      proxied: config.dns.proxied,
      ttl: config.dns.ttl,
    });
  }

  return {
    vms: Object.fromEntries([...metal.vms].map(([name, vm]) => [name, vm.ipAddress])),
    kubeconfig: cluster.kubeconfig,
    apiServer: cluster.apiServer,
    // Only what the stack has (an undefined output is a warning on every run).
    ...(system.traefikIp !== undefined ? { traefikIp: system.traefikIp } : {}),
    ...(system.clusterIssuer !== undefined ? { clusterIssuer: system.clusterIssuer } : {}),
    ...(config.monitoring.enabled ? { grafanaUrl: `https://${grafanaHost(config)}` } : {}),
  };
}
