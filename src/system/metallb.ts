// MetalLbPool: MetalLB in layer-2 mode with one address pool. The pool and its advertisement are
// custom resources validated by MetalLB's webhook, so they are created only once the release (CRDs,
// controller and webhook) is ready.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, chartRelease } from "./charts";
import { SYSTEM_NAMESPACES } from "./conventions";
import { ipAddressPool, l2Advertisement } from "./manifests";
import { mergeValues, metallbValues, PRIVILEGED_NAMESPACE_LABELS } from "./values";

export const TYPE = "homelab:system:MetalLbPool";

export interface MetalLbPoolArgs {
  /** MetalLB chart version (config versions.metallb). */
  readonly chartVersion: string;
  /** The pool's addresses, first-last (config metallb.range). */
  readonly range: string;
  /** Namespace of the release and the pool. Default metallb-system. */
  readonly namespace?: string;
  /** Name of the IPAddressPool (and L2Advertisement). Default default. */
  readonly poolName?: string;
  /** Resources the namespace and release are created after (the cluster's readiness). Default none. */
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
  /** Helm values merged over the component's (escape hatch). Default none. */
  readonly values?: Record<string, unknown>;
}

export class MetalLbPool extends pulumi.ComponentResource {
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly release: k8s.helm.v3.Release;
  public readonly pool: k8s.apiextensions.CustomResource;
  public readonly l2Advertisement: k8s.apiextensions.CustomResource;
  /** Ready once the pool exists and is announced: LoadBalancer services get addresses from here on. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: MetalLbPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const namespace = args.namespace ?? SYSTEM_NAMESPACES.metallb;
    const poolName = args.poolName ?? "default";

    // The speakers need host networking and NET_RAW: the namespace must admit privileged pods.
    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: namespace, labels: { ...PRIVILEGED_NAMESPACE_LABELS } } },
      { parent: this, dependsOn: args.createAfter ?? [] },
    );
    this.release = chartRelease(
      `${name}-release`,
      {
        chart: CHARTS.metallb,
        version: args.chartVersion,
        releaseName: "metallb",
        namespace: this.namespace.metadata.name,
        values: mergeValues(metallbValues(), args.values ?? {}),
      },
      { parent: this, dependsOn: [this.namespace, ...(args.createAfter ?? [])] },
    );
    this.pool = new k8s.apiextensions.CustomResource(`${name}-pool`, ipAddressPool({ name: poolName, namespace, range: args.range }), {
      parent: this,
      dependsOn: [this.release],
    });
    this.l2Advertisement = new k8s.apiextensions.CustomResource(`${name}-l2`, l2Advertisement({ name: poolName, namespace, pool: poolName }), {
      parent: this,
      dependsOn: [this.release, this.pool],
    });
    this.ready = [this.pool, this.l2Advertisement];
    this.registerOutputs({ release: this.release, pool: this.pool, l2Advertisement: this.l2Advertisement });
  }
}
