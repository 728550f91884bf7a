// Logs: Loki (one binary, filesystem storage on a claim the program keeps) and Alloy on every node
// sending its pods' logs to Loki, in the monitoring namespace beside kube-prometheus-stack, whose
// Grafana gets Loki as a datasource (monitoringValues). Values: logsRender.ts.
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, chartRelease } from "./charts";
import { retainedClaim } from "./claims";
import { ALLOY_RELEASE, alloyValues, LOKI_CLAIM, LOKI_RELEASE, lokiUrl, lokiValues } from "./logsRender";

export const TYPE = "homelab:system:Logs";

/** Loki's first start builds its index directories; Alloy's DaemonSet waits for every node. */
export const LOGS_TIMEOUT_SECONDS = 600;

export interface LogsArgs {
  /** loki chart version (config versions.loki). */
  readonly lokiVersion: string;
  /** alloy chart version (config versions.alloy). */
  readonly alloyVersion: string;
  /** Whole days Loki keeps (config monitoring.logs.retention). */
  readonly retention: string;
  /** GiB of Loki's claim (config monitoring.logs.storageSize). */
  readonly storageSize: number;
  /** StorageClass of Loki's claim (local-path: Loki's TSDB index wants a local disk). */
  readonly storageClass: string;
  /** The monitoring namespace (the kept NamespacePatch of Monitoring) and its name. */
  readonly namespace: k8s.core.v1.NamespacePatch;
  readonly namespaceName: string;
}

export class Logs extends pulumi.ComponentResource {
  public readonly claim: k8s.core.v1.PersistentVolumeClaimPatch;
  public readonly loki: k8s.helm.v3.Release;
  public readonly alloy: k8s.helm.v3.Release;

  constructor(name: string, args: LogsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const ns = args.namespaceName;
    // Kept when logs are turned off or the stack is destroyed, like the apps' claims.
    this.claim = retainedClaim(
      `${name}-loki-data`,
      {
        metadata: { name: LOKI_CLAIM, namespace: ns, labels: { "app.kubernetes.io/name": "loki", "homelab/storage-kind": "database" } },
        spec: { accessModes: ["ReadWriteOnce"], storageClassName: args.storageClass, resources: { requests: { storage: `${args.storageSize}Gi` } } },
      },
      { parent: this, dependsOn: [args.namespace] },
    );
    this.loki = chartRelease(
      `${name}-loki`,
      {
        chart: CHARTS.loki,
        version: args.lokiVersion,
        releaseName: LOKI_RELEASE,
        namespace: ns,
        values: lokiValues({ retention: args.retention, claim: LOKI_CLAIM }),
        timeoutSeconds: LOGS_TIMEOUT_SECONDS,
      },
      { parent: this, dependsOn: [args.namespace, this.claim] },
    );
    this.alloy = chartRelease(
      `${name}-alloy`,
      {
        chart: CHARTS.alloy,
        version: args.alloyVersion,
        releaseName: ALLOY_RELEASE,
        namespace: ns,
        values: alloyValues({ pushUrl: `${lokiUrl(ns)}/loki/api/v1/push` }),
        timeoutSeconds: LOGS_TIMEOUT_SECONDS,
      },
      // After Loki: its first pushes would only be retried.
      { parent: this, dependsOn: [args.namespace, this.loki] },
    );
    this.registerOutputs({ loki: this.loki, alloy: this.alloy });
  }
}
