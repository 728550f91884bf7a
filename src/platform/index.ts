// The platform layer: what apps stand on. Flux (the operator, one FluxInstance syncing the stack's
// Git path) through the cluster's Kubernetes provider, once the cluster is ready.
import type * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/types";
import type { HomelabConfig } from "../config/loader";
import { FluxBootstrap } from "./flux";
import { syncPath } from "./fluxRender";
import type { Platform } from "./types";

export type { Platform } from "./types";
export { FluxBootstrap } from "./flux";

export function buildPlatform(cfg: HomelabConfig, stack: string, cluster: Cluster): Platform {
  if (!cfg.flux.enabled) return { fluxReady: [], fluxDeployKey: undefined };
  const opts: pulumi.ComponentResourceOptions = { providers: { kubernetes: cluster.provider } };
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
