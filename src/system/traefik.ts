// TraefikConfig: customises the Traefik k3s bundles (HTTP->HTTPS redirect, the wildcard certificate
// as default, a pinned LoadBalancer address) and adds the middlewares of the ingress convention.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { lanOnlyMiddleware, redirectHttpsMiddleware, traefikHelmChartConfig } from "./manifests";

export const TYPE = "homelab:system:TraefikConfig";

export interface TraefikConfigArgs {
  /** LoadBalancer address from the MetalLB pool (config traefik.loadBalancerIp). Default: any pool address. */
  readonly loadBalancerIp?: string;
  /** kube-system Secret served as the default certificate (the wildcard). Default: Traefik's self-signed one. */
  readonly defaultCertificateSecret?: string;
  /** More kube-system Secrets in the default TLS store (the other domains' wildcards). Default none. */
  readonly certificateSecrets?: readonly string[];
  /** CIDRs the `lan-only` middleware admits (config traefik.lanAllowlist, default the VM subnet). */
  readonly lanAllowlist: readonly string[];
  /**
   * Resources the configuration is applied after: the cluster's readiness (k3s installs Traefik's
   * CRDs and the HelmChartConfig CRD), the MetalLB pool, the wildcard certificate. Default none.
   */
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
}

export class TraefikConfig extends pulumi.ComponentResource {
  /** k3s's helm-controller re-runs the Traefik chart with these values. */
  public readonly chartConfig: k8s.apiextensions.CustomResource;
  public readonly redirectHttps: k8s.apiextensions.CustomResource;
  public readonly lanOnly: k8s.apiextensions.CustomResource;
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: TraefikConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const after = args.createAfter ?? [];
    this.chartConfig = new k8s.apiextensions.CustomResource(
      `${name}-config`,
      traefikHelmChartConfig({ loadBalancerIp: args.loadBalancerIp, defaultCertificateSecret: args.defaultCertificateSecret, certificateSecrets: args.certificateSecrets }),
      { parent: this, dependsOn: after },
    );
    // The Middleware CRD (traefik.io) comes from k3s's traefik-crd chart, present once the cluster is ready.
    this.redirectHttps = new k8s.apiextensions.CustomResource(`${name}-redirect-https`, redirectHttpsMiddleware(), {
      parent: this,
      dependsOn: [this.chartConfig, ...after],
    });
    this.lanOnly = new k8s.apiextensions.CustomResource(`${name}-lan-only`, lanOnlyMiddleware(args.lanAllowlist), {
      parent: this,
      dependsOn: [this.chartConfig, ...after],
    });
    this.ready = [this.chartConfig, this.redirectHttps, this.lanOnly];
    this.registerOutputs({ chartConfig: this.chartConfig, redirectHttps: this.redirectHttps, lanOnly: this.lanOnly });
  }
}
