// Config checks that need the app catalog: names, namespaces, and what each enabled app needs from
// the stack (Flux, a GPU node, Traefik for its ingress, NFS for the media library). Pure.
import { appDomainChecks, appDomainName } from "../config/domains";
import { closeMatch } from "../config/messages";
import { fileIndex } from "../config/model";
import type { AppConfig, StackConfig } from "../config/schema";
import type { ExtraCheckResult } from "../config/validate";
import { EXTERNAL_DNS_NAMESPACE } from "../platform/externalDnsRender";
import { FLUX_NAMESPACE } from "../platform/fluxRender";
import { SYSTEM_NAMESPACES } from "../system/conventions";
import { definitionOf, gpuCapacityChecks, nodePluginChecks, stackStorageClasses, storagePinChecks } from "./capacity";
import { CATALOG } from "./catalog";
import { appDefinition, customApp } from "./custom";
import { customAppChecks } from "./customChecks";
import { hostOf, hostsOf, ingressBackendErrors, storageClassFor } from "./render";
import type { AppDefinition } from "./types";

/**
 * Namespaces an app must not use, and who owns them. The apps layer applies a Namespace per app
 * namespace: one of these would be managed twice (and the system layer deletes its own namespaces
 * with its services).
 */
export const RESERVED_NAMESPACES: ReadonlyMap<string, string> = new Map([
  ...["default", "kube-system", "kube-public", "kube-node-lease"].map((ns) => [ns, "Kubernetes"] as const),
  [SYSTEM_NAMESPACES.metallb, "MetalLB"],
  [SYSTEM_NAMESPACES.certManager, "cert-manager"],
  [SYSTEM_NAMESPACES.longhorn, "Longhorn"],
  [SYSTEM_NAMESPACES.monitoring, "the monitoring stack"],
  [FLUX_NAMESPACE, "Flux"],
  [EXTERNAL_DNS_NAMESPACE, "external-dns"],
]);

/** The keys appChecks reads. */
export const APP_CHECK_KEYS = ["apps", "nodes", "flux", "cluster", "domain", "domains", "certManager", "storage"] as const;

export function appChecks(cfg: Pick<StackConfig, (typeof APP_CHECK_KEYS)[number]>): string[] {
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
      const guess = closeMatch(name, names);
      errors.push(`apps.${name}: unknown app; use one of ${names.join(", ")}${guess ? ` (did you mean '${guess}'?)` : ""}, or describe your own under apps.${name}.custom`);
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
    if (entry.domain !== undefined && def.ingress === undefined) {
      errors.push(`apps.${name}.domain: ${name} has no web interface to publish; remove domain`);
    }
    const domainName = appDomainName(cfg, entry.domain);
    const domainErrors = appDomainChecks(cfg, name, entry.domain, domainName === undefined ? undefined : hostOf(def, entry.host, domainName));
    errors.push(...domainErrors);
    if (!entry.enabled) continue;
    if (entry.host !== "") errors.push(...ingressBackendErrors(name, def, entry));

    if (!cfg.flux.enabled) {
      errors.push(`apps.${name}: is deployed by Flux but flux.enabled is false; set flux.enabled: true (with flux.url) or apps.${name}.enabled: false`);
    }
    const gpu = def.gpu === "required" || (def.gpu === "optional" && entry.gpu === true);
    if (gpu && !hasGpuNode) {
      errors.push(
        `apps.${name}: needs a GPU node but no node has role gpu; add one${def.gpu === "optional" ? ` or remove apps.${name}.gpu` : ` or set apps.${name}.enabled: false`}`,
      );
    }
    const appHosts = domainName === undefined ? [] : hostsOf(def, entry.host, domainName);
    if (appHosts.length > 0 && !cfg.cluster.traefik) {
      errors.push(`apps.${name}.host: the ingress needs Traefik but cluster.traefik is false; set apps.${name}.host: "" (no ingress) or cluster.traefik: true`);
    }
    for (const host of appHosts) {
      const other = hosts.get(host);
      if (other !== undefined) errors.push(`apps.${name}.host: ${host} is also the host of apps.${other}; give each app its own host`);
      else hosts.set(host, name);
    }
    if (def.mediaLibrary && !cfg.storage.nfs.enabled && !(cfg.storage.truenas.enabled && cfg.storage.truenas.nfs !== undefined)) {
      errors.push(`apps.${name}: mounts the shared media library, which lives on NFS (ReadWriteMany); set storage.nfs.enabled: true or apps.${name}.enabled: false`);
    }
  }
  errors.push(...gpuCapacityChecks(cfg), ...storagePinChecks(cfg), ...nodePluginChecks(cfg));
  return errors;
}

/**
 * What an edit leaves behind, said on every plan: a disabled app's namespace and claims are kept
 * with their data (Pulumi only forgets them), and how to remove them once the data is not wanted.
 */
export function appWarnings(cfg: Pick<StackConfig, "apps" | "storage">): ExtraCheckResult {
  const classes = stackStorageClasses(cfg);
  const warnings: string[] = [];
  const defs = new Map(Object.entries(cfg.apps).map(([n, e]) => [n, definitionOf(n, e)] as const));
  const inUse = new Set(
    Object.entries(cfg.apps).flatMap(([n, e]) => {
      const def = defs.get(n);
      return e.enabled && def !== undefined ? [e.namespace ?? def.namespace] : [];
    }),
  );
  for (const [name, entry] of Object.entries(cfg.apps)) {
    const def = defs.get(name);
    if (def === undefined || entry.enabled) continue;
    const ns = entry.namespace ?? def.namespace;
    const claims = def.volumes.filter((v) => (v.claimedBy ?? "catalog") === "catalog").map((v) => `${name}-${v.name}`);
    const chartClaims = def.volumes.some((v) => v.claimedBy === "chart");
    const kept = [...(claims.length > 0 ? [`the claim${claims.length > 1 ? "s" : ""} ${claims.join(", ")}`] : []), ...(chartClaims ? ["its StatefulSet's claims"] : [])];
    const what = inUse.has(ns) ? kept.join(" and ") : [`the namespace ${ns}`, ...kept].join(", ");
    const cleanup = [
      ...(claims.length > 0 ? [`\`kubectl -n ${ns} delete pvc ${claims.join(" ")}\``] : []),
      ...(chartClaims ? [`\`kubectl -n ${ns} get pvc\` for the StatefulSet's`] : []),
      ...(inUse.has(ns) ? [] : [`\`kubectl delete namespace ${ns}\` once nothing in it is wanted`]),
    ];
    // The generated passwords are not kept: a re-enabled app gets new ones, which data written
    // with the old ones (a database's users, n8n's stored credentials) does not accept.
    const secrets =
      def.secrets.length > 0
        ? `; its generated Secret ${name}-secrets is deleted, and enabling the app again generates new values that data written with the old ones does not know (a database keeps its old password, n8n cannot decrypt what it stored): keep a copy first (\`kubectl -n ${ns} get secret ${name}-secrets -o yaml\`)`
        : "";
    warnings.push(
      `apps.${name}: disabled; kept in the cluster with the data (Pulumi only forgets them; enabling the app again takes them back): ${what}; to delete the data: ${cleanup.join(", then ")}${secrets}${readoption(name, ns, def, entry, classes)}`,
    );
  }
  return { errors: [], warnings };
}

/**
 * What re-enabling a disabled app applies to its kept claims (issue 18 B2). The claim Pulumi
 * creates then adopts the kept one with the whole spec (ignoreChanges covers updates only), so a
 * kept claim of another class (its class is immutable) or larger than the size asked now (a claim
 * cannot shrink) makes `up` fail. The plan reads no cluster: it says what it will apply and how
 * to look at the kept claims, not what they are.
 */
function readoption(name: string, ns: string, def: AppDefinition, entry: AppConfig, classes: ReturnType<typeof stackStorageClasses>): string {
  const vols = def.volumes
    .map((v, i) => ({
      v,
      claim: `${name}-${v.name}`,
      cls: storageClassFor(v.kind, classes, entry.storageClass),
      size: i === 0 && entry.storageSize !== undefined ? entry.storageSize : v.size,
    }))
    .filter((x) => (x.v.claimedBy ?? "catalog") === "catalog");
  if (vols.length === 0) return "";
  const pin = def.volumes.some((v) => v.kind === "data") ? `pin apps.${name}.storageClass to the kept claim's class and ` : "";
  return (
    `; enabling it again applies ${vols.map((x) => `${x.cls}, ${x.size}Gi to ${x.claim}`).join(" and ")} (this config's class and size) to the kept claim${vols.length > 1 ? "s" : ""}: ` +
    `one made on another class (a storage backend or a pin changed meanwhile) or larger fails the \`up\` (a claim's class is immutable and it cannot shrink); ` +
    `the plan reads no cluster and cannot see the kept claims, so look first (\`kubectl -n ${ns} get pvc ${vols.map((x) => x.claim).join(" ")} -o custom-columns=NAME:.metadata.name,CLASS:.spec.storageClassName,SIZE:.spec.resources.requests.storage\`), ` +
    `then ${pin}set apps.${name}.storageSize to at least its size, or move the data and delete the kept claim first`
  );
}

/** The keys appHostChecks reads. */
export const APP_HOST_CHECK_KEYS = ["apps", "domain", "domains", "monitoring", "network", "nodes", "vms"] as const;

/**
 * An app's host must be its own: not Grafana's (two Ingresses for one name, and Traefik picks
 * one), and not a VM's FQDN (its name under network.searchDomain: the LAN's DNS would answer
 * with the VM, the wildcard record with Traefik). Two apps on one host are reported by appChecks.
 */
export function appHostChecks(cfg: Pick<StackConfig, (typeof APP_HOST_CHECK_KEYS)[number]>): string[] {
  const errors: string[] = [];
  const grafana = cfg.monitoring.enabled ? `${cfg.monitoring.grafanaHost}.${cfg.domain}` : undefined;
  const search = cfg.network.searchDomain;
  const vmFqdns = new Map<string, string>();
  if (search !== undefined) {
    cfg.nodes.forEach((n, i) => vmFqdns.set(`${n.name}.${search}`, `nodes[${fileIndex(n, i)}] (${n.name})`));
    cfg.vms.forEach((v, i) => vmFqdns.set(`${v.name}.${search}`, `vms[${fileIndex(v, i)}] (${v.name})`));
  }
  for (const [name, entry] of Object.entries(cfg.apps)) {
    if (!entry.enabled || customAppChecks(name, entry).length > 0) continue;
    const def = appDefinition(name, entry);
    if (def === undefined) continue;
    const fix = `set apps.${name}.host to another label`;
    const domainName = appDomainName(cfg, entry.domain);
    if (domainName === undefined) continue;
    for (const host of hostsOf(def, entry.host, domainName)) {
      if (host === grafana) errors.push(`apps.${name}.host: ${host} is also Grafana's host (monitoring.grafanaHost); ${fix} or change monitoring.grafanaHost`);
      const vm = vmFqdns.get(host);
      if (vm !== undefined) errors.push(`apps.${name}.host: ${host} is also the FQDN of ${vm} (its name under network.searchDomain); ${fix} or rename the VM`);
    }
  }
  return errors;
}
