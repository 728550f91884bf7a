// Pure rendering for the Flux bootstrap: the FluxInstance the flux-operator reconciles, the Git
// credentials it syncs with, and the config checks that go with them. No Pulumi resources here.
import type { StackConfig } from "../config/schema";
import { parseGitUrl } from "../config/git";
import { toYaml } from "../lib/serialize";
import { checkFluxVersion } from "./fluxVersions";

// Git URLs and known hosts are read by the config layer too (the resolved model carries them).
export { GITHUB_KNOWN_HOSTS, knownHostsFor, parseGitUrl, type GitUrl } from "../config/git";

/** Namespace of the operator, the FluxInstance and the Flux controllers (the operator's default). */
export const FLUX_NAMESPACE = "flux-system";
/** The operator's chart, published only as an OCI artifact. */
export const FLUX_OPERATOR_CHART = "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator";
/** Registry of the upstream Flux controller images. */
export const FLUX_REGISTRY = "ghcr.io/fluxcd";
/** The controllers this program needs: Git sync (source, kustomize), app releases (helm), events (notification). */
export const FLUX_COMPONENTS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"] as const;
/** Secret holding the Git credentials; the name `flux bootstrap` uses, so a bootstrapped repo keeps working. */
export const GIT_AUTH_SECRET = "flux-system";
/** Secret with the age key SOPS-encrypted manifests are decrypted with. */
export const SOPS_SECRET = "sops-age";
export const SOPS_SECRET_KEY = "age.agekey";

/** The repository path Flux syncs: config flux.path, else `clusters/<stack>`. */
export function syncPath(configured: string | undefined, stack: string): string {
  return configured ?? `clusters/${stack}`;
}

export interface FluxInstanceArgs {
  /** Exact Flux version, e.g. 2.7.3 (config versions.flux). */
  readonly fluxVersion: string;
  readonly url: string;
  readonly branch: string;
  readonly path: string;
  /** Sync interval, e.g. 10m. */
  readonly interval: string;
  /** Name of the Secret with the Git credentials; omitted for a public https repository. */
  readonly pullSecret: string | undefined;
  /** Decrypt SOPS-encrypted manifests in the synced path with the `sops-age` Secret. */
  readonly sops: boolean;
  /** Extra metadata annotations (Pulumi's await annotation). */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The JSON patch that turns on SOPS decryption for the sync Kustomization the operator generates. */
export function sopsDecryptionPatch(): string {
  return toYaml([{ op: "add", path: "/spec/decryption", value: { provider: "sops", secretRef: { name: SOPS_SECRET } } }]);
}

/**
 * The one FluxInstance (name `flux`, as the operator requires). `wait: false`: the instance turns
 * Ready once the Flux manifests (CRDs first) are applied, without waiting for the Git sync to be
 * healthy. The first sync can only succeed after the deploy key printed by this very `pulumi up`
 * has been added to the Git host, so waiting on it would dead-lock the first run; the sync's own
 * health is reported by its GitRepository and Kustomization (`flux get all -n flux-system`).
 */
export function renderFluxInstance(args: FluxInstanceArgs) {
  return {
    apiVersion: "fluxcd.controlplane.io/v1",
    kind: "FluxInstance",
    metadata: {
      name: "flux",
      namespace: FLUX_NAMESPACE,
      ...(args.annotations ? { annotations: { ...args.annotations } } : {}),
    },
    spec: {
      distribution: { version: args.fluxVersion, registry: FLUX_REGISTRY },
      components: [...FLUX_COMPONENTS],
      cluster: { type: "kubernetes", networkPolicy: true, domain: "cluster.local" },
      wait: false,
      sync: {
        kind: "GitRepository",
        url: args.url,
        ref: `refs/heads/${args.branch}`,
        path: args.path,
        interval: args.interval,
        ...(args.pullSecret !== undefined ? { pullSecret: args.pullSecret } : {}),
      },
      ...(args.sops ? { kustomize: { patches: [{ patch: sopsDecryptionPatch(), target: { kind: "Kustomization" } }] } } : {}),
    },
  };
}

/** Config checks for Flux that need the rendering rules above. */
export function fluxChecks(cfg: Pick<StackConfig, "flux" | "versions">): string[] {
  const errors: string[] = [];
  const flux = cfg.flux;
  if (!flux.enabled || flux.url === undefined) return errors;
  const git = parseGitUrl(flux.url);
  // A missing known_hosts for an ssh:// host is reported where the model needs it (config/resolve.ts).
  if (git.scheme === "https" && flux.knownHosts !== undefined) {
    errors.push(`flux.knownHosts: is only used with an ssh:// flux.url; remove it`);
  }
  const { fluxOperator, flux: fluxVersion } = cfg.versions;
  if (fluxOperator !== undefined && fluxVersion !== undefined) errors.push(...checkFluxVersion(fluxOperator, fluxVersion).errors);
  return errors;
}

/** Config warnings for Flux: a version pair this program cannot judge. */
export function fluxWarnings(cfg: Pick<StackConfig, "flux" | "versions">): string[] {
  const { fluxOperator, flux } = cfg.versions;
  if (!cfg.flux.enabled || fluxOperator === undefined || flux === undefined) return [];
  return checkFluxVersion(fluxOperator, flux).warnings;
}
