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
