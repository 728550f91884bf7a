// The platform layer: what apps stand on. Flux (the operator, one FluxInstance syncing the stack's
// Git path) through the cluster's Kubernetes provider, once the cluster is ready.
import type * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/types";
import type { Secrets } from "../config/loader";
import type { StackConfig } from "../config/schema";
import { FluxBootstrap } from "./flux";
import { syncPath } from "./fluxRender";
import type { Platform } from "./types";

export type { Platform } from "./types";
export { FluxBootstrap } from "./flux";

/** A pinned version; validation guarantees it whenever flux.enabled is true. */
function pinned(version: string | undefined, key: "fluxOperator" | "flux"): string {
  if (version === undefined) throw new Error(`versions.${key}: is required because flux.enabled is true`); // unreachable after validation
  return version;
}

export function buildPlatform(cfg: StackConfig, stack: string, secrets: Secrets, cluster: Cluster): Platform {
  if (!cfg.flux.enabled) return { fluxReady: [], fluxDeployKey: undefined };
  const opts: pulumi.ComponentResourceOptions = { providers: { kubernetes: cluster.provider } };
  const flux = new FluxBootstrap(
    "flux",
    {
      operatorVersion: pinned(cfg.versions.fluxOperator, "fluxOperator"),
      fluxVersion: pinned(cfg.versions.flux, "flux"),
      url: cfg.flux.url!,
      branch: cfg.flux.branch,
      path: syncPath(cfg.flux.path, stack),
      interval: cfg.flux.interval,
      knownHosts: cfg.flux.knownHosts,
      gitToken: secrets.fluxGitToken,
      sopsAgeKey: secrets.sopsAgeKey,
      createAfter: cluster.ready,
    },
    opts,
  );
  return { fluxReady: flux.ready, fluxDeployKey: flux.deployKey };
}
