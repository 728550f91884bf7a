// Pure values of the logs stack (monitoring.logs): Loki in one binary with filesystem storage on a
// claim the program keeps, Alloy on every node tailing its pods' logs through the Kubernetes API,
// and Loki as a Grafana datasource. Keys as the charts' values.yaml have them at the pinned tags:
// grafana-community/helm-charts charts/loki at loki-18.11.0 (app 3.7.6; the OSS chart moved there
// from grafana/loki at 6.55.0), grafana/alloy operations/helm/charts/alloy at helm-chart/1.11.1.

/** Loki's claim in the monitoring namespace (created by the program, kept when logs go). */
export const LOKI_CLAIM = "loki-data";
/** Loki's release and Service name (the chart's fullname is the release name). */
export const LOKI_RELEASE = "loki";
export const ALLOY_RELEASE = "alloy";
/** Loki's HTTP port (loki.server.http_listen_port). */
export const LOKI_PORT = 3100;

/** http://loki.<namespace>.svc.cluster.local:3100: what Alloy pushes to and Grafana queries. */
export function lokiUrl(namespace: string): string {
  return `http://${LOKI_RELEASE}.${namespace}.svc.cluster.local:${LOKI_PORT}`;
}

/** Loki keeps retention in hours; the config says whole days (the index period is 24h). */
export function retentionHours(days: string): string {
  const m = /^([1-9]\d*)d$/.exec(days);
  if (!m) throw new Error(`retention ${days}: expected whole days such as 14d`);
  return `${Number(m[1]) * 24}h`;
}

export function lokiValues(args: { readonly retention: string; readonly claim: string }): Record<string, unknown> {
  return {
    // Monolithic is the chart's name for one binary (SingleBinary until 18.x, still accepted).
    deploymentMode: "Monolithic",
    loki: {
      // One tenant: Alloy and Grafana send no X-Scope-OrgID.
      auth_enabled: false,
      commonConfig: { replication_factor: 1 },
      storage: { type: "filesystem" },
      schemaConfig: {
        // A fixed date: the schema in force from then on (a moving one would rewrite the config on every run).
        configs: [{ from: "2024-04-01", store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "loki_index_", period: "24h" } }],
      },
      // The compactor deletes chunks older than the retention; without it nothing is ever deleted.
      compactor: { retention_enabled: true, delete_request_store: "filesystem" },
      limits_config: { retention_period: retentionHours(args.retention) },
    },
    singleBinary: {
      replicas: 1,
      // The chart's own volumeClaimTemplate would belong to the StatefulSet (gone with the release);
      // the program's claim outlives it like the apps' claims do.
      persistence: { enabled: false, dataVolumeParameters: { persistentVolumeClaim: { claimName: args.claim } } },
    },
    // The other deployment modes' components, the gateway, the memcached caches, the canary and its
    // Helm test are for larger installs: off (as the chart's monolithic-filesystem CI values).
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    gateway: { enabled: false },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
  };
}

/**
 * Alloy's configuration (Alloy syntax, components as docs/sources/collect/logs-in-kubernetes.md at
 * helm-chart/1.11.1 has them): the pods of Alloy's own node (the chart sets HOSTNAME to
 * spec.nodeName), labelled by namespace, pod, container and app, tailed through the Kubernetes API
 * (no host paths, no root), pushed to Loki.
 */
export function alloyConfig(pushUrl: string): string {
  return `// Written by homelab-infra (src/system/logsRender.ts).
discovery.kubernetes "pods" {
  role = "pod"
  // Each Alloy of the DaemonSet takes its own node's pods only.
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)
  }
}

discovery.relabel "pod_logs" {
  targets = discovery.kubernetes.pods.targets

  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    action        = "replace"
    target_label  = "namespace"
  }

  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    action        = "replace"
    target_label  = "pod"
  }

  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    action        = "replace"
    target_label  = "container"
  }

  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
    action        = "replace"
    target_label  = "app"
  }

  rule {
    source_labels = ["__meta_kubernetes_namespace", "__meta_kubernetes_pod_container_name"]
    action        = "replace"
    target_label  = "job"
    separator     = "/"
    replacement   = "$1"
  }
}

loki.source.kubernetes "pod_logs" {
  targets    = discovery.relabel.pod_logs.output
  forward_to = [loki.write.default.receiver]
}

loki.write "default" {
  endpoint {
    url = "${pushUrl}"
  }
}
`;
}

/**
 * `text` as a Helm `tpl` template whose output is `text`, byte for byte: every `{{` becomes the
 * action `{{"{{"}}`, which prints that string constant (Go text/template: an action's pipeline
 * value is copied to the output; `}}` outside an action is plain text). The alloy chart passes
 * `alloy.configMap.content` through `tpl` (alloy 1.11.1 values.yaml:38, templates/configmap.yaml),
 * so an Alloy expression with braces (a templated relabel replacement) would otherwise be
 * evaluated by Helm, or fail the release (audit system-apps-2 row C4).
 */
export function helmTplLiteral(text: string): string {
  return text.replaceAll("{{", '{{"{{"}}');
}

export function alloyValues(args: { readonly pushUrl: string }): Record<string, unknown> {
  return {
    alloy: { configMap: { create: true, content: helmTplLiteral(alloyConfig(args.pushUrl)) } },
    controller: {
      type: "daemonset",
      // Every node, the GPU node (nvidia.com/gpu taint) and tainted servers included: their pods log too.
      tolerations: [{ operator: "Exists" }],
    },
  };
}

/** Loki as a datasource of kube-prometheus-stack's Grafana (grafana.additionalDataSources). */
export function lokiDatasource(url: string) {
  return { name: "Loki", type: "loki", uid: "loki", access: "proxy", url, isDefault: false };
}
