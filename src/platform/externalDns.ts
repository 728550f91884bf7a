// ExternalDns: external-dns publishing the stack's ingress hosts to Cloudflare or Pi-hole, its
// credential (the Cloudflare token or Pi-hole's password) in a Secret of its own namespace, read by
// the container as env. Values: externalDnsRender.ts.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, chartRelease } from "../system/charts";
import { EXTERNAL_DNS_NAMESPACE, EXTERNAL_DNS_SECRET, externalDnsValues, type ExternalDnsValuesArgs } from "./externalDnsRender";

export const TYPE = "homelab:platform:ExternalDns";

export interface ExternalDnsArgs extends ExternalDnsValuesArgs {
  /** external-dns chart version (config versions.externalDns). */
  readonly chartVersion: string;
  /** The Cloudflare API token or Pi-hole's web password (secret). */
  readonly credential: pulumi.Input<string>;
  /** Resources the release is created after (the cluster's readiness). Default none. */
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
}

export class ExternalDns extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly credential: k8s.core.v1.Secret;

  constructor(name: string, args: ExternalDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const after = args.createAfter ?? [];
    const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: EXTERNAL_DNS_NAMESPACE } }, { parent: this, dependsOn: after });
    this.credential = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: EXTERNAL_DNS_SECRET.name, namespace: namespace.metadata.name },
        type: "Opaque",
        stringData: { [EXTERNAL_DNS_SECRET.key]: pulumi.secret(args.credential) },
      },
      { parent: this, dependsOn: [namespace] },
    );
    const values = externalDnsValues({
      provider: args.provider,
      sources: args.sources,
      policy: args.policy,
      txtOwnerId: args.txtOwnerId,
      zoneIds: args.zoneIds,
      domainFilters: args.domainFilters,
      interval: args.interval,
      pihole: args.pihole,
    });
    this.release = chartRelease(
      `${name}-release`,
      { chart: CHARTS.externalDns, version: args.chartVersion, releaseName: "external-dns", namespace: namespace.metadata.name, values },
      { parent: this, dependsOn: [namespace, this.credential, ...after] },
    );
    this.registerOutputs({ release: this.release });
  }
}
