// Monitoring: kube-prometheus-stack with k3s-appropriate scrape targets, Prometheus on local
// storage, and Grafana behind the ingress convention. Grafana's admin password is a RandomPassword
// kept in a Secret the chart references (never a Helm value: release values are stored in plain
// text in the release Secret and in Pulumi's state).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { RANDOM_ARGS } from "../cluster/k3sCluster";
import { CHARTS, chartRelease } from "./charts";
import { SYSTEM_NAMESPACES } from "./conventions";
import { Logs } from "./logs";
import { lokiUrl } from "./logsRender";
import { retainedNamespace } from "./namespaces";
import { GRAFANA_ADMIN_PASSWORD_KEY, GRAFANA_ADMIN_USER_KEY, mergeValues, monitoringValues, PRIVILEGED_NAMESPACE_LABELS } from "./values";

export const TYPE = "homelab:system:Monitoring";

/** The Secret (in the monitoring namespace) Grafana reads its admin credentials from. */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";

/** The operator, Prometheus, Alertmanager, Grafana and a node exporter per node come up in one release: allow 15 minutes. */
export const MONITORING_TIMEOUT_SECONDS = 900;

export interface MonitoringArgs {
  /** kube-prometheus-stack chart version (config versions.kubePrometheusStack). */
  readonly chartVersion: string;
  /** Prometheus retention (config monitoring.retention). */
  readonly retention: string;
  /** GiB of Prometheus storage (config monitoring.storageSize). */
  readonly storageSize: number;
  /** StorageClass of the Prometheus volume (local-path: Prometheus' TSDB does not support NFS). */
  readonly storageClass: string;
  /** Grafana's fully qualified host, e.g. grafana.lab.example.com; undefined: no ingress (reach it by kubectl port-forward). */
  readonly grafanaHost: string | undefined;
  /** ClusterIssuer for a certificate of Grafana's own; undefined: Traefik's default (the wildcard). */
  readonly clusterIssuer: string | undefined;
  /** Namespace of the stack. Default monitoring. */
  readonly namespace?: string;
  /** Resources the release is created after (the cluster's readiness, the ingress middlewares and issuers). Default none. */
  readonly createAfter?: pulumi.Input<pulumi.Resource>[];
  /** Loki and Alloy (config monitoring.logs), and Loki in Grafana. Default none. */
  readonly logs?: { readonly lokiVersion: string; readonly alloyVersion: string; readonly retention: string; readonly storageSize: number };
  /** Helm values merged over the component's (escape hatch). Default none. */
  readonly values?: Record<string, unknown>;
}

export class Monitoring extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  /** Grafana's admin password (secret). */
  public readonly grafanaAdminPassword: pulumi.Output<string>;
  /** https URL of Grafana's ingress; undefined without one. */
  public readonly grafanaUrl: string | undefined;
  public readonly logs: Logs | undefined;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const after = args.createAfter ?? [];
    // Node exporters use the host's network, PID namespace and filesystem. Prometheus' claim lives
    // here: turning monitoring off keeps the namespace and the metrics (see retainedNamespace).
    const namespaceName = args.namespace ?? SYSTEM_NAMESPACES.monitoring;
    const namespace = retainedNamespace(`${name}-namespace`, { name: namespaceName, labels: PRIVILEGED_NAMESPACE_LABELS }, { parent: this, dependsOn: after });
    // Generated once and kept in state: re-running `up` never changes it (nor does an import: RANDOM_ARGS).
    const password = new random.RandomPassword(`${name}-grafana-password`, { length: 32, special: false }, { parent: this, ignoreChanges: RANDOM_ARGS });
    this.grafanaAdminPassword = pulumi.secret(password.result);
    const adminSecret = new k8s.core.v1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: { name: GRAFANA_ADMIN_SECRET, namespace: namespace.metadata.name },
        type: "Opaque",
        stringData: { [GRAFANA_ADMIN_USER_KEY]: "admin", [GRAFANA_ADMIN_PASSWORD_KEY]: this.grafanaAdminPassword },
      },
      { parent: this, dependsOn: [namespace] },
    );
    const values = monitoringValues({
      retention: args.retention,
      storageSize: args.storageSize,
      storageClass: args.storageClass,
      grafanaHost: args.grafanaHost,
      grafanaAdminSecret: GRAFANA_ADMIN_SECRET,
      clusterIssuer: args.clusterIssuer,
      lokiUrl: args.logs !== undefined ? lokiUrl(namespaceName) : undefined,
    });
    this.release = chartRelease(
      `${name}-release`,
      {
        chart: CHARTS.kubePrometheusStack,
        version: args.chartVersion,
        releaseName: "kube-prometheus-stack",
        namespace: namespace.metadata.name,
        values: mergeValues(values, args.values ?? {}),
        timeoutSeconds: MONITORING_TIMEOUT_SECONDS,
      },
      { parent: this, dependsOn: [namespace, adminSecret, ...after] },
    );
    this.logs =
      args.logs === undefined
        ? undefined
        : new Logs(`${name}-logs`, { ...args.logs, storageClass: args.storageClass, namespace, namespaceName }, { parent: this, dependsOn: after });
    this.grafanaUrl = args.grafanaHost === undefined ? undefined : `https://${args.grafanaHost}`;
    this.registerOutputs({ release: this.release, grafanaUrl: this.grafanaUrl });
  }
}
