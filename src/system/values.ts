// Helm values of every chart the system layer installs or configures. Pure: tested directly.
import { toYaml } from "../lib/serialize";
import { ingressAnnotations, ingressTls } from "./ingress";
import { lokiDatasource } from "./logsRender";

/** Namespace labels for components that need host access (MetalLB speakers, node exporters, Longhorn). */
export const PRIVILEGED_NAMESPACE_LABELS: Readonly<Record<string, string>> = {
  "pod-security.kubernetes.io/enforce": "privileged",
  "pod-security.kubernetes.io/audit": "privileged",
  "pod-security.kubernetes.io/warn": "privileged",
};

/** MetalLB's service annotation pinning a LoadBalancer address (the metallb.io prefix exists since MetalLB 0.14.9). */
export const METALLB_IPS_ANNOTATION = "metallb.io/loadBalancerIPs";

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Deep merge of Helm values: maps merge key by key, anything else (lists included) in `over` replaces. */
export function mergeValues(base: Readonly<Record<string, unknown>>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const cur = out[k];
    out[k] = isPlainObject(cur) && isPlainObject(v) ? mergeValues(cur, v) : v;
  }
  return out;
}

/** MetalLB in layer-2 mode only: no BGP backend (neither the FRR sidecar nor frr-k8s). */
export function metallbValues(): Record<string, unknown> {
  return {
    frrk8s: { enabled: false },
    speaker: { frr: { enabled: false } },
  };
}

export interface CertManagerValuesArgs {
  /** ip:port resolvers for the DNS-01 self-check. */
  readonly recursiveNameservers: readonly string[];
}

/**
 * cert-manager with its CRDs (kept on uninstall, so deleting the release never garbage-collects
 * every Certificate). On a split-horizon LAN the local resolver answers for the domain itself and
 * never sees the _acme-challenge TXT record: the self-check must ask public resolvers only.
 */
export function certManagerValues(args: CertManagerValuesArgs): Record<string, unknown> {
  const resolvers = args.recursiveNameservers.length > 0 ? { dns01RecursiveNameservers: args.recursiveNameservers.join(","), dns01RecursiveNameserversOnly: true } : {};
  return { crds: { enabled: true, keep: true }, ...resolvers };
}

export interface TraefikValuesArgs {
  /** Address MetalLB gives Traefik's LoadBalancer service; unset: any address of the pool. */
  readonly loadBalancerIp?: string;
  /** Secret (in kube-system) Traefik serves when no other certificate matches; unset: Traefik's self-signed one. */
  readonly defaultCertificateSecret?: string;
  /** More Secrets (in kube-system) of the default TLS store, each served for the names it covers (the other domains' wildcards). Default none. */
  readonly certificateSecrets?: readonly string[];
}

/**
 * Values for k3s's bundled Traefik chart, delivered through a HelmChartConfig.
 *
 * The HTTP->HTTPS redirect is set as Traefik static-configuration arguments rather than chart port
 * values: the chart renamed that value twice (`ports.web.redirectTo` until chart 33,
 * `ports.web.redirections` in 34-37, `ports.web.http.redirections` from 38,
 * traefik/traefik-helm-chart#1301 and #1603), and which chart k3s bundles depends on the k3s
 * patch release. The arguments are what every chart version renders. The target is the exposed
 * port `:443`, not the entry point name: `websecure` would redirect to the container port 8443.
 *
 * `externalTrafficPolicy: Local` keeps the client's address (Cluster SNATs it to a node address,
 * which would make every client look like a LAN client to the `lan-only` allow-list); MetalLB then
 * announces the address from the node running Traefik.
 */
export function traefikValues(args: TraefikValuesArgs): Record<string, unknown> {
  return {
    additionalArguments: [
      "--entryPoints.web.http.redirections.entryPoint.to=:443",
      "--entryPoints.web.http.redirections.entryPoint.scheme=https",
      "--entryPoints.web.http.redirections.entryPoint.permanent=true",
    ],
    service: {
      ...(args.loadBalancerIp ? { annotations: { [METALLB_IPS_ANNOTATION]: args.loadBalancerIp } } : {}),
      spec: { externalTrafficPolicy: "Local" },
    },
    ...tlsStore(args),
  };
}

/**
 * The chart's `default` TLSStore: the default certificate, and the other wildcards in `certificates`
 * (Traefik picks a store certificate by SNI and falls back to the default one). Left out when empty,
 * so a stack with one domain renders what it always did.
 */
function tlsStore(args: TraefikValuesArgs): Record<string, unknown> {
  const extra = args.certificateSecrets ?? [];
  if (!args.defaultCertificateSecret && extra.length === 0) return {};
  return {
    tlsStore: {
      default: {
        ...(extra.length > 0 ? { certificates: extra.map((secretName) => ({ secretName })) } : {}),
        ...(args.defaultCertificateSecret ? { defaultCertificate: { secretName: args.defaultCertificateSecret } } : {}),
      },
    },
  };
}

/** The HelmChartConfig's valuesContent: the values as sorted YAML. */
export function traefikValuesContent(args: TraefikValuesArgs): string {
  return toYaml(traefikValues(args));
}

/** csi-driver-nfs: the driver only; the StorageClass is a resource of its own (NfsStorage). */
export function nfsValues(): Record<string, unknown> {
  return { storageClass: { create: false } };
}

export interface LonghornValuesArgs {
  readonly replicas: number;
  /** Where the metal layer mounts the data disk. */
  readonly dataPath: string;
  /**
   * A taint (kubectl syntax, key=value:Effect) Longhorn must tolerate: the GPU nodes' taint, so that
   * a Longhorn volume can attach where a GPU app runs. Default none.
   */
  readonly tolerateTaint?: { readonly key: string; readonly value: string; readonly effect: string };
  /** Set Longhorn's deleting-confirmation-flag, without which its uninstall hook refuses (config storage.longhorn.allowUninstall). */
  readonly allowUninstall: boolean;
}

/**
 * Longhorn next to local-path: local-path stays the default StorageClass (databases, seed 003).
 * `defaultSettings.defaultReplicaCount` is a string: Longhorn reads every setting of its
 * `longhorn-default-setting` ConfigMap as a string (longhorn/longhorn#11940); the 1.10 chart ships
 * no values schema. A plain value (not the `{"v1":..,"v2":..}` form) applies to every data engine.
 *
 * Tainted nodes: the chart's manager and driver deployer tolerate nothing by default (chart v1.10.1
 * values `longhornManager.tolerations: []`, `longhornDriver.tolerations: []`), and the components
 * Longhorn deploys itself (CSI plugin, instance and engine managers) read `taintToleration`; without
 * both, a Longhorn volume cannot attach on a GPU node. `taintToleration` is a danger-zone setting:
 * Longhorn applies a change once its volumes are detached.
 *
 * `deletingConfirmationFlag`: the chart's pre-delete hook (`longhorn-manager uninstall`) refuses to
 * run until this setting is true; it is set only when the stack says Longhorn may go.
 */
export function longhornValues(args: LonghornValuesArgs): Record<string, unknown> {
  const t = args.tolerateTaint;
  const tolerations = t ? [{ key: t.key, operator: "Equal", value: t.value, effect: t.effect }] : undefined;
  return {
    persistence: { defaultClass: false, defaultClassReplicaCount: args.replicas },
    defaultSettings: {
      defaultReplicaCount: String(args.replicas),
      defaultDataPath: args.dataPath,
      ...(t ? { taintToleration: `${t.key}=${t.value}:${t.effect}` } : {}),
      ...(args.allowUninstall ? { deletingConfirmationFlag: true } : {}),
    },
    ...(tolerations ? { longhornManager: { tolerations }, longhornDriver: { tolerations } } : {}),
  };
}

export interface MonitoringValuesArgs {
  /** Prometheus retention, e.g. 15d. */
  readonly retention: string;
  /** GiB of the Prometheus volume. */
  readonly storageSize: number;
  /** StorageClass of the Prometheus volume (local storage: the TSDB does not support NFS). */
  readonly storageClass: string;
  /** Grafana's host, e.g. grafana.lab.example.com; undefined: no ingress (no Traefik; kubectl port-forward). */
  readonly grafanaHost: string | undefined;
  /** Secret (in the release namespace) with keys admin-user and admin-password. */
  readonly grafanaAdminSecret: string;
  /** ClusterIssuer for a certificate of Grafana's own; undefined: Traefik's default (the wildcard). */
  readonly clusterIssuer: string | undefined;
  /** Loki's URL, added to Grafana as a datasource (monitoring.logs); undefined: none. */
  readonly lokiUrl?: string;
}

/**
 * The busybox image the CRD upgrade job unpacks the CRDs with: pinned (the chart's default is
 * `latest`, which would drift).
 */
export const CRD_UPGRADE_BUSYBOX_TAG = "1.37.0";

export const GRAFANA_ADMIN_USER_KEY = "admin-user";
export const GRAFANA_ADMIN_PASSWORD_KEY = "admin-password";

/**
 * kube-prometheus-stack for k3s. k3s runs the controller manager, scheduler and kube-proxy inside
 * the k3s process with their metrics bound to 127.0.0.1, and embedded etcd exposes metrics only
 * with `etcd-expose-metrics`: their ServiceMonitors would only ever report targets down, so they
 * are off. ServiceMonitors and rules of other releases are picked up (no Helm-label selector).
 *
 * CRDs: the chart ships them in Helm's `crds/` directory, which Helm installs once and never
 * upgrades; a chart bump would leave the operator on stale CRDs (chart UPGRADE.md). The chart's
 * upgrade job (since 68.4.0) applies them server-side in a pre-install/pre-upgrade hook;
 * `forceConflicts` (since 69.1.0) lets it take over fields Helm's first install owns.
 */
export function monitoringValues(args: MonitoringValuesArgs): Record<string, unknown> {
  return {
    crds: { upgradeJob: { enabled: true, forceConflicts: true, image: { busybox: { tag: CRD_UPGRADE_BUSYBOX_TAG } } } },
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeProxy: { enabled: false },
    kubeEtcd: { enabled: false },
    prometheus: {
      prometheusSpec: {
        retention: args.retention,
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              storageClassName: args.storageClass,
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: `${args.storageSize}Gi` } },
            },
          },
        },
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
      },
    },
    grafana: {
      admin: { existingSecret: args.grafanaAdminSecret, userKey: GRAFANA_ADMIN_USER_KEY, passwordKey: GRAFANA_ADMIN_PASSWORD_KEY },
      ingress:
        args.grafanaHost === undefined
          ? { enabled: false }
          : {
              enabled: true,
              ingressClassName: "traefik",
              annotations: ingressAnnotations({ clusterIssuer: args.clusterIssuer, lanOnly: true }),
              hosts: [args.grafanaHost],
              path: "/",
              tls: [ingressTls({ name: "grafana", host: args.grafanaHost, clusterIssuer: args.clusterIssuer })],
            },
      // The chart writes these beside its Prometheus datasource into the sidecar's ConfigMap.
      ...(args.lokiUrl !== undefined ? { additionalDataSources: [lokiDatasource(args.lokiUrl)] } : {}),
    },
  };
}
