// What the platform layer hands to the apps layer.
import type * as pulumi from "@pulumi/pulumi";

export interface Platform {
  /** Ready once Flux's CRDs (HelmRelease, HelmRepository, OCIRepository) are established; empty without Flux. */
  readonly fluxReady: pulumi.Resource[];
  /** OpenSSH public deploy key to add to the Git host (ssh:// flux.url only). */
  readonly fluxDeployKey: pulumi.Output<string> | undefined;
}
