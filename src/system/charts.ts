// The Helm charts the system layer installs (repository and chart name; versions come from config
// `versions.*`, never from a default here), and the one way this layer creates a Helm release.
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { sortKeys } from "../lib/serialize";

export interface ChartRef {
  readonly repo: string;
  readonly chart: string;
}

export const CHARTS = {
  metallb: { repo: "https://metallb.github.io/metallb", chart: "metallb" },
  certManager: { repo: "https://charts.jetstack.io", chart: "cert-manager" },
  /** Versions as the index spells them: 4.12.0 (only 4.10.0 and older carry a leading v). */
  csiDriverNfs: { repo: "https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts", chart: "csi-driver-nfs" },
  longhorn: { repo: "https://charts.longhorn.io", chart: "longhorn" },
  democraticCsi: { repo: "https://democratic-csi.github.io/charts/", chart: "democratic-csi" },
  externalDns: { repo: "https://kubernetes-sigs.github.io/external-dns/", chart: "external-dns" },
  /** The OSS Loki chart, maintained in grafana-community since 6.55.0 (grafana/loki's own chart is Enterprise Logs only from 7.0.0). */
  loki: { repo: "https://grafana-community.github.io/helm-charts", chart: "loki" },
  alloy: { repo: "https://grafana.github.io/helm-charts", chart: "alloy" },
  kubePrometheusStack: { repo: "https://prometheus-community.github.io/helm-charts", chart: "kube-prometheus-stack" },
} as const satisfies Record<string, ChartRef>;

/**
 * Helm's own 300 s wait is tight for a first install on fresh nodes pulling every image over a home
 * uplink; 10 minutes leaves room without hiding a release that never becomes ready.
 */
export const DEFAULT_RELEASE_TIMEOUT_SECONDS = 600;

export interface ChartReleaseArgs {
  readonly chart: ChartRef;
  /** Exact chart version (from config `versions.*`). */
  readonly version: string;
  /** Helm release name (stable: resource names inside the chart derive from it). */
  readonly releaseName: string;
  readonly namespace: pulumi.Input<string>;
  /** Let Helm create the namespace. Default false (components create labelled namespaces themselves). */
  readonly createNamespace?: boolean;
  readonly values: Record<string, unknown>;
  /** Seconds Helm waits for the release to become ready. Default DEFAULT_RELEASE_TIMEOUT_SECONDS. */
  readonly timeoutSeconds?: number;
  /**
   * Uninstall a failed first install (and roll back a failed upgrade). Default true. Off for charts
   * whose uninstall is itself guarded (Longhorn's pre-delete hook refuses without its confirmation
   * flag, so an atomic rollback of a failed install would leave a release nobody can re-create).
   */
  readonly atomic?: boolean;
}

/**
 * A Helm release as seed 000 installs them (`--atomic --cleanup-on-fail`): a failed install or
 * upgrade rolls back instead of leaving half a chart behind. `skipAwait: false` makes the release
 * resolve only once every workload and webhook of the chart is ready, which is what lets custom
 * resources depend on it.
 */
export function chartRelease(name: string, args: ChartReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name: args.releaseName,
      chart: args.chart.chart,
      version: args.version,
      repositoryOpts: { repo: args.chart.repo },
      namespace: args.namespace,
      createNamespace: args.createNamespace ?? false,
      values: sortKeys(args.values),
      atomic: args.atomic ?? true,
      cleanupOnFail: true,
      skipAwait: false,
      timeout: args.timeoutSeconds ?? DEFAULT_RELEASE_TIMEOUT_SECONDS,
    },
    opts,
  );
}
