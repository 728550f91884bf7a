// Pure rendering for the Flux bootstrap: the FluxInstance the flux-operator reconciles, the Git
// credentials it syncs with, and the config checks that go with them. No Pulumi resources here.
import type { StackConfig } from "../config/schema";
import { toYaml } from "../lib/serialize";

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

/**
 * GitHub's published SSH host keys (docs.github.com, "GitHub's SSH key fingerprints"). Pinned here
 * rather than fetched with ssh-keyscan at plan time, which would trust whatever answers.
 */
export const GITHUB_KNOWN_HOSTS = [
  "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
  "github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=",
  "github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aNUkY4Ue1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOBYfNqltV9/hWCqBywINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCflmO+5Z8CSSNY7GidjMIZ7Q4zMjA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tKSb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYirYgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqNj4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S5hpQs+p1vN1/wsjk=",
] as const;

export interface GitUrl {
  readonly scheme: "ssh" | "https";
  /** Host name without user or port. */
  readonly host: string;
  readonly port: number | undefined;
}

/** Splits an ssh:// or https:// Git URL. Throws for anything else (the schema admits only those). */
export function parseGitUrl(url: string): GitUrl {
  const m = /^(ssh|https):\/\/(?:[^@/]+@)?([^:/]+)(?::(\d+))?\//.exec(url);
  if (!m) throw new Error(`flux.url: ${JSON.stringify(url)} is not an ssh:// or https:// Git URL with a path`);
  return { scheme: m[1] as GitUrl["scheme"], host: m[2].toLowerCase(), port: m[3] === undefined ? undefined : Number(m[3]) };
}

/**
 * The known_hosts file for an ssh:// URL: GitHub's published keys for github.com (port 22), else the
 * configured lines. Undefined when neither applies (fluxChecks reports that as a config error).
 */
export function knownHostsFor(url: string, configured: readonly string[] | undefined): string | undefined {
  const git = parseGitUrl(url);
  if (configured !== undefined && configured.length > 0) return `${configured.join("\n")}\n`;
  if (git.host === "github.com" && (git.port === undefined || git.port === 22)) return `${GITHUB_KNOWN_HOSTS.join("\n")}\n`;
  return undefined;
}

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
export function fluxChecks(cfg: StackConfig): string[] {
  const errors: string[] = [];
  const flux = cfg.flux;
  if (!flux.enabled || flux.url === undefined) return errors;
  const git = parseGitUrl(flux.url);
  if (git.scheme === "ssh" && knownHostsFor(flux.url, flux.knownHosts) === undefined) {
    errors.push(
      `flux.knownHosts: is required because flux.url points at ${git.host}${git.port ? `:${git.port}` : ""}, whose SSH host keys are not built in; set it to the output of \`ssh-keyscan${git.port ? ` -p ${git.port}` : ""} ${git.host}\` after checking the fingerprints`,
    );
  }
  if (git.scheme === "https" && flux.knownHosts !== undefined) {
    errors.push(`flux.knownHosts: is only used with an ssh:// flux.url; remove it`);
  }
  return errors;
}
