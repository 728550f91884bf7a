// FluxBootstrap: the flux-operator chart and one FluxInstance that installs Flux and syncs the
// stack's Git path, with the credentials the sync needs (an SSH deploy key generated here, or an
// HTTPS token from config) and an optional SOPS age key. Everything lives in the cluster the
// caller's Kubernetes provider points at, so a rebuilt cluster (a new provider) is bootstrapped
// again by the next `pulumi up`; the deploy key is not tied to the cluster and stays valid.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { FLUX_NAMESPACE, FLUX_OPERATOR_CHART, GIT_AUTH_SECRET, parseGitUrl, renderFluxInstance, SOPS_SECRET, SOPS_SECRET_KEY } from "./fluxRender";

export const TYPE = "homelab:platform:FluxBootstrap";

export interface FluxBootstrapArgs {
  /** flux-operator chart version (config versions.fluxOperator). */
  readonly operatorVersion: string;
  /** Exact Flux version the instance runs (config versions.flux); the operator must ship its manifests. */
  readonly fluxVersion: string;
  /** ssh:// (deploy key) or https:// (token) Git URL (config flux.url). */
  readonly url: string;
  readonly branch: string;
  /** Path in the repository, e.g. clusters/lab. */
  readonly path: string;
  /** Sync interval, e.g. 10m. */
  readonly interval: string;
  /**
   * How Flux authenticates: for an ssh:// URL a deploy key generated here, checked against these
   * known_hosts (see `knownHostsFor`); for https:// a token (secret homelab:fluxGitToken).
   */
  readonly auth: { readonly kind: "deploy-key"; readonly knownHosts: string } | { readonly kind: "token"; readonly token: pulumi.Input<string> };
  /** age private key for SOPS decryption (secret homelab:sopsAgeKey). Optional. */
  readonly sopsAgeKey?: pulumi.Input<string>;
  /** Resources that must be ready before anything is installed (the cluster's readiness). */
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
}

export class FluxBootstrap extends pulumi.ComponentResource {
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly operator: k8s.helm.v3.Release;
  public readonly instance: k8s.apiextensions.CustomResource;
  /** OpenSSH public deploy key to add (read-only) to the Git host; undefined for https. */
  public readonly deployKey: pulumi.Output<string> | undefined;
  /** Ready once Flux's CRDs are established and its controllers applied. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: FluxBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const git = parseGitUrl(args.url);
    const after = args.createAfter ?? [];

    this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: FLUX_NAMESPACE } }, { parent: this, dependsOn: after });

    this.operator = new k8s.helm.v3.Release(
      `${name}-operator`,
      {
        name: "flux-operator",
        // An OCI chart is addressed by its full reference; repositoryOpts is only for HTTP repositories.
        chart: FLUX_OPERATOR_CHART,
        version: args.operatorVersion,
        namespace: FLUX_NAMESPACE,
        createNamespace: false,
        atomic: true,
        cleanupOnFail: true,
      },
      { parent: this, dependsOn: [this.namespace] },
    );

    let credentials: k8s.core.v1.Secret;
    const auth = args.auth;
    if ((git.scheme === "ssh") !== (auth.kind === "deploy-key")) {
      throw new Error(`FluxBootstrap ${name}: [auth] ${auth.kind} does not go with the ${git.scheme}:// [url]; a deploy key is for ssh://, a token for https://`);
    }
    if (auth.kind === "deploy-key") {
      const key = new tls.PrivateKey(`${name}-deploy-key`, { algorithm: "ED25519" }, { parent: this });
      this.deployKey = key.publicKeyOpenssh;
      credentials = new k8s.core.v1.Secret(
        `${name}-git-auth`,
        {
          metadata: { name: GIT_AUTH_SECRET, namespace: FLUX_NAMESPACE },
          type: "Opaque",
          stringData: {
            identity: pulumi.secret(key.privateKeyOpenssh),
            "identity.pub": key.publicKeyOpenssh,
            known_hosts: auth.knownHosts,
          },
        },
        { parent: this, dependsOn: [this.namespace] },
      );
    } else {
      this.deployKey = undefined;
      credentials = new k8s.core.v1.Secret(
        `${name}-git-auth`,
        {
          metadata: { name: GIT_AUTH_SECRET, namespace: FLUX_NAMESPACE },
          type: "Opaque",
          // Any non-empty user works with a personal access token (GitHub, GitLab, Gitea).
          stringData: { username: "git", password: pulumi.secret(auth.token) },
        },
        { parent: this, dependsOn: [this.namespace] },
      );
    }

    const sops =
      args.sopsAgeKey === undefined
        ? undefined
        : new k8s.core.v1.Secret(
            `${name}-sops-age`,
            {
              metadata: { name: SOPS_SECRET, namespace: FLUX_NAMESPACE },
              type: "Opaque",
              stringData: { [SOPS_SECRET_KEY]: pulumi.secret(args.sopsAgeKey) },
            },
            { parent: this, dependsOn: [this.namespace] },
          );

    const manifest = renderFluxInstance({
      fluxVersion: args.fluxVersion,
      url: args.url,
      branch: args.branch,
      path: args.path,
      interval: args.interval,
      pullSecret: GIT_AUTH_SECRET,
      sops: sops !== undefined,
      // Pulumi's generic await: done when the operator reports Ready (Flux applied, CRDs established).
      annotations: { "pulumi.com/waitFor": "condition=Ready" },
    });
    this.instance = new k8s.apiextensions.CustomResource(`${name}-instance`, manifest, {
      parent: this,
      // The FluxInstance CRD comes with the operator chart; the sync needs its Secrets.
      dependsOn: [this.operator, credentials, ...(sops ? [sops] : [])],
      // Pulling the Flux images and establishing the CRDs takes minutes on a fresh cluster.
      customTimeouts: { create: "15m", update: "15m" },
    });

    this.ready = [this.instance];
    this.registerOutputs({ deployKey: this.deployKey, instance: this.instance.metadata.name });
  }
}
