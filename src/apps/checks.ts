// Config checks that need the app catalog: names, namespaces, and what each enabled app needs from
// the stack (Flux, a GPU node, Traefik for its ingress, NFS for the media library). Pure.
import { closest } from "fastest-levenshtein";
import type { StackConfig } from "../config/schema";
import { FLUX_NAMESPACE } from "../platform/fluxRender";
import { SYSTEM_NAMESPACES } from "../system/conventions";
import { CATALOG } from "./catalog";
import { customApp } from "./custom";
import { customAppChecks } from "./customChecks";
import { hostOf } from "./render";

/**
 * Namespaces an app must not use, and who owns them. The apps layer creates (and on removal
 * deletes) a Namespace resource per app namespace: one of these would be adopted and then deleted
 * with everything in it, or managed twice.
 */
export const RESERVED_NAMESPACES: ReadonlyMap<string, string> = new Map([
  ...["default", "kube-system", "kube-public", "kube-node-lease"].map((ns) => [ns, "Kubernetes"] as const),
  [SYSTEM_NAMESPACES.metallb, "MetalLB"],
  [SYSTEM_NAMESPACES.certManager, "cert-manager"],
  [SYSTEM_NAMESPACES.longhorn, "Longhorn"],
  [SYSTEM_NAMESPACES.monitoring, "the monitoring stack"],
  [FLUX_NAMESPACE, "Flux"],
]);

export function appChecks(cfg: StackConfig): string[] {
  const errors: string[] = [];
  const names = [...CATALOG.keys()].sort();
  const hasGpuNode = cfg.nodes.some((n) => n.role === "gpu");
  const hosts = new Map<string, string>();

  for (const [name, entry] of Object.entries(cfg.apps)) {
    const customErrors = customAppChecks(name, entry);
    errors.push(...customErrors);
    if (customErrors.length > 0) continue;
    const def = entry.custom !== undefined ? customApp(name, entry.custom) : CATALOG.get(name);
    if (def === undefined) {
      errors.push(`apps.${name}: unknown app; use one of ${names.join(", ")} (did you mean '${closest(name, names)}'?), or describe your own under apps.${name}.custom`);
      continue;
    }
    if (entry.gpu !== undefined && def.gpu !== "optional") {
      errors.push(`apps.${name}.gpu: ${name} ${def.gpu === "required" ? "always runs on the GPU node" : "never uses a GPU"}; remove gpu`);
    }
    const owner = RESERVED_NAMESPACES.get(entry.namespace ?? def.namespace);
    if (owner !== undefined && entry.namespace !== undefined) {
      errors.push(`apps.${name}.namespace: ${entry.namespace} belongs to ${owner}; choose another, such as the default ${def.namespace}`);
    } else if (owner !== undefined) {
      // A custom app's namespace defaults to its name.
      errors.push(`apps.${name}.namespace: the default namespace ${def.namespace} (the app's name) belongs to ${owner}; set another namespace`);
    }
    if (entry.host !== undefined && entry.host !== "" && def.ingress === undefined) {
      errors.push(`apps.${name}.host: ${name} has no web interface to publish; remove host`);
    }
    if (!entry.enabled) continue;

    if (!cfg.flux.enabled) {
      errors.push(`apps.${name}: is deployed by Flux but flux.enabled is false; set flux.enabled: true (with flux.url) or apps.${name}.enabled: false`);
    }
    const gpu = def.gpu === "required" || (def.gpu === "optional" && entry.gpu === true);
    if (gpu && !hasGpuNode) {
      errors.push(`apps.${name}: needs a GPU node but no node has role gpu; add one${def.gpu === "optional" ? ` or remove apps.${name}.gpu` : ` or set apps.${name}.enabled: false`}`);
    }
    const host = hostOf(def, entry.host, cfg.domain);
    if (host !== undefined) {
      if (!cfg.cluster.traefik) {
        errors.push(`apps.${name}.host: the ingress needs Traefik but cluster.traefik is false; set apps.${name}.host: "" (no ingress) or cluster.traefik: true`);
      }
      const other = hosts.get(host);
      if (other !== undefined) errors.push(`apps.${name}.host: ${host} is also the host of apps.${other}; give each app its own host`);
      else hosts.set(host, name);
    }
    if (def.mediaLibrary && !cfg.storage.nfs.enabled && !(cfg.storage.truenas.enabled && cfg.storage.truenas.nfs !== undefined)) {
      errors.push(`apps.${name}: mounts the shared media library, which lives on NFS (ReadWriteMany); set storage.nfs.enabled: true or apps.${name}.enabled: false`);
    }
  }
  return errors;
}
