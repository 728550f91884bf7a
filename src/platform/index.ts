// The platform layer: what apps stand on. Flux (the operator, one FluxInstance syncing the stack's
// Git path) through the cluster's Kubernetes provider, once the cluster is ready.
import type * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/types";
import { stackDomains } from "../config/domains";
import type { HomelabConfig } from "../config/loader";
import { ExternalDns } from "./externalDns";
import { FluxBootstrap } from "./flux";
import { syncPath } from "./fluxRender";
import type { Platform } from "./types";

export type { Platform } from "./types";
export { FluxBootstrap } from "./flux";

/** The TXT registry owner of a stack's records: two stacks on one zone never touch each other's. */
export function txtOwnerIdOf(cfg: Pick<HomelabConfig, "externalDns">, stack: string): string {
  return cfg.externalDns.txtOwnerId ?? `homelab-${stack}`;
}

export function buildPlatform(cfg: HomelabConfig, stack: string, cluster: Cluster): Platform {
  const opts: pulumi.ComponentResourceOptions = { providers: { kubernetes: cluster.provider } };
  const e = cfg.externalDns;
  if (e.enabled) {
    new ExternalDns(
      "external-dns",
      {
        chartVersion: e.chartVersion,
        provider: e.target.provider,
        credential: e.target.provider === "cloudflare" ? e.target.apiToken : e.target.password,
        pihole: e.target.provider === "pihole" ? { server: e.target.server, apiVersion: e.target.apiVersion, tlsSkipVerify: e.target.tlsSkipVerify } : undefined,
        sources: e.sources,
        policy: e.policy,
        txtOwnerId: txtOwnerIdOf(cfg, stack),
        zoneIds: e.zoneIds,
        // Every app host and Grafana's are one label under one of the stack's domains: nothing else is touched.
        domainFilters: stackDomains(cfg).map((d) => d.name),
        interval: e.interval,
        createAfter: cluster.ready,
      },
      opts,
    );
  }
  if (!cfg.flux.enabled) return { fluxReady: [], fluxDeployKey: undefined };
  const flux = new FluxBootstrap(
    "flux",
    {
      operatorVersion: cfg.flux.operatorVersion,
      fluxVersion: cfg.flux.fluxVersion,
      url: cfg.flux.url,
      branch: cfg.flux.branch,
      path: syncPath(cfg.flux.path, stack),
      interval: cfg.flux.interval,
      auth: cfg.flux.auth,
      sopsAgeKey: cfg.flux.sopsAgeKey,
      createAfter: cluster.ready,
    },
    opts,
  );
  return { fluxReady: flux.ready, fluxDeployKey: flux.deployKey };
}
