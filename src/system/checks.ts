// Config checks that need the system layer's knowledge of its charts: versions as their indexes
// spell them, chart features the layer relies on, and Longhorn's removal. Pure.
import type { StackConfig } from "../config/schema";
import type { ExtraCheckResult } from "../config/validate";

function parts(v: string): number[] {
  return v.replace(/^v/, "").split(/[-+]/)[0].split(".").map(Number);
}

function before(version: string, min: readonly number[]): boolean {
  const p = parts(version);
  for (let i = 0; i < 3; i++) if (p[i] !== min[i]) return p[i] < min[i];
  return false;
}

/**
 * The last k3s minor whose bundled Traefik the Ingress conventions were checked against: k3s
 * v1.34.2 ships Traefik v3.5.1, which accepts an Ingress naming a middleware of another namespace
 * through `<namespace>-<name>@kubernetescrd` (audit system-apps-2 row C5).
 */
export const TRAEFIK_CHECKED_K3S_MINOR = 34;

/**
 * A k3s bump past TRAEFIK_CHECKED_K3S_MINOR brings a Traefik nobody checked the program's
 * cross-namespace middleware references against. Newer Traefik has `crossProviderNamespaces`, which
 * limits the namespaces whose resources may use `@provider` references (traefik/traefik#13094, May
 * 2026), extended to an Ingress's service middlewares (#13670, August 2026); its default and the
 * first k3s release bundling it were not known when this was written. The program cannot set the
 * option for every Traefik (an option Traefik v3.5.1 does not know stops it), so it warns instead.
 */
export function traefikWarnings(cfg: Pick<StackConfig, "versions" | "cluster">): string[] {
  if (!cfg.cluster.traefik) return [];
  const m = /^v1\.(\d+)\./.exec(cfg.versions.k3s);
  if (!m || Number(m[1]) <= TRAEFIK_CHECKED_K3S_MINOR) return [];
  return [
    `versions.k3s: ${cfg.versions.k3s} bundles a Traefik the program was not checked against (last: k3s 1.${TRAEFIK_CHECKED_K3S_MINOR}, Traefik 3.5.1); the app Ingresses name middlewares in other namespaces (default-lan-only@kubernetescrd, the Authentik forward auth), and newer Traefik can refuse such references (crossProviderNamespaces, traefik/traefik#13094 and #13670): read that Traefik's release notes for the option's default before the up, and after it check one app answers (an Ingress whose middleware is refused answers 404); or stay on k3s 1.${TRAEFIK_CHECKED_K3S_MINOR}`,
  ];
}

/** kube-prometheus-stack's CRD upgrade job with forceConflicts (monitoringValues relies on both). */
export const MIN_KUBE_PROMETHEUS_STACK = [69, 1, 0] as const;

export function systemChecks(cfg: Pick<StackConfig, "versions" | "storage" | "monitoring">): ExtraCheckResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const v = cfg.versions;
  // csi-driver-nfs' index (charts/index.yaml) lists 4.12.0; only 4.10.0 and older carry a v.
  // v4.12.0 resolves only through Helm's fallback to the closest version.
  if (cfg.storage.nfs.enabled && v.csiDriverNfs?.startsWith("v") && !before(v.csiDriverNfs, [4, 10, 1])) {
    errors.push(
      `versions.csiDriverNfs: the chart index spells ${v.csiDriverNfs} as ${v.csiDriverNfs.slice(1)} (only 4.10.0 and older carry a leading v); pin ${v.csiDriverNfs.slice(1)}`,
    );
  }
  if (cfg.monitoring.enabled && v.kubePrometheusStack !== undefined && before(v.kubePrometheusStack, MIN_KUBE_PROMETHEUS_STACK)) {
    errors.push(
      `versions.kubePrometheusStack: ${v.kubePrometheusStack} has no CRD upgrade job that can take over Helm's CRDs (crds.upgradeJob.forceConflicts, added in 69.1.0), so a chart bump would leave the operator on stale CRDs; pin 69.1.0 or newer`,
    );
  }
  if (!cfg.monitoring.enabled && cfg.monitoring.logs.enabled) {
    errors.push(
      "monitoring.logs.enabled: the logs are read in the monitoring stack's Grafana, and monitoring.enabled is false; set monitoring.enabled: true or monitoring.logs.enabled: false",
    );
  }
  const lh = cfg.storage.longhorn;
  if (lh.enabled && lh.allowUninstall) {
    warnings.push(
      "storage.longhorn.allowUninstall: Longhorn may now be uninstalled: setting storage.longhorn.enabled: false (or `pulumi destroy`) deletes every Longhorn volume with its data; move the data off Longhorn first",
    );
  }
  return { errors, warnings };
}
