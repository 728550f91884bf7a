// Pure rendering for the app catalog: which apps a stack enables and how (namespace, host, GPU,
// storage classes, values), and the Kubernetes and Flux objects each app becomes.
import { appDomainName, coveringDomain, stackDomains } from "../config/domains";
import type { AppConfig, StackConfig } from "../config/schema";
import type { IngressArgs } from "../system/ingress";
import type { System } from "../system/types";
import { appTemplateBackend } from "./appTemplateNames";
import { appDefinition } from "./custom";
import { forwardAuthMiddleware } from "./forwardAuth";
import type { AppDefinition, IngressTarget, StorageKind } from "./types";
import { appValues, type Values } from "./values";

/** The namespace-wide media library (NFS, shared by Plex and the *arr apps): PVC name and nominal size. */
export const MEDIA_LIBRARY = { claim: "media-library", size: 1000 } as const;
/** How often Flux re-reads chart sources. */
export const SOURCE_INTERVAL = "1h";
/** Helm chart layer of an OCI artifact; Flux must extract it, not the whole artifact. */
export const HELM_CHART_MEDIA_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

export interface ResolvedVolume {
  readonly name: string;
  readonly kind: StorageKind;
  readonly claim: string;
  readonly storageClass: string;
  /** GiB. */
  readonly size: number;
  readonly mountPath: string;
  /** Created by the catalog (a PVC resource), or by the chart's StatefulSet. */
  readonly claimedBy: "catalog" | "chart";
}

export interface ResolvedApp {
  readonly name: string;
  readonly def: AppDefinition;
  readonly namespace: string;
  /** Pinned chart version (apps.<name>.version). */
  readonly version: string;
  /** Fully qualified ingress host, or undefined without ingress. */
  readonly host: string | undefined;
  /** Fully qualified host of the console ingress (MinIO), or undefined. */
  readonly consoleHost: string | undefined;
  /** DNS name of the domain whose wildcard covers the host (homelab:domain or one of homelab:domains). */
  readonly domain: string;
  readonly lanOnly: boolean;
  /** Authentik's forward-auth Middleware, when the app opts in (apps.<name>.auth). */
  readonly forwardAuth: { readonly name: string; readonly namespace: string } | undefined;
  readonly gpu: boolean;
  readonly volumes: readonly ResolvedVolume[];
  /** `<app>-secrets`, or undefined when the app generates no secret. */
  readonly secretName: string | undefined;
  readonly mediaClaim: string | undefined;
  readonly values: Values;
  /** The Service and port behind the ingress (ingressBackend), or undefined without one. */
  readonly backend: IngressBackend | undefined;
  /** The Service and port behind the console ingress, or undefined without one. */
  readonly consoleBackend: IngressBackend | undefined;
}

/** A Service name and port number an Ingress sends to. */
export interface IngressBackend {
  readonly service: string;
  readonly port: number;
}

/**
 * The Service and port an ingress target resolves to in an app's final values: a chart's own
 * name as written, an app-template reference through the chart's naming (appTemplateBackend, with
 * the release named after the app). Throws, naming `apps.<app>.values`, when the values lack it.
 */
export function ingressBackend(app: string, target: IngressTarget, values: Values): IngressBackend {
  if (!("appTemplate" in target)) return { service: target.service, port: target.port };
  try {
    return appTemplateBackend(values, app, target.appTemplate);
  } catch (e) {
    throw new Error(`apps.${app}.values: ${(e as Error).message}`);
  }
}

/**
 * The StorageClass of a volume kind (seed 003): databases local; data where the stack pins it
 * (apps.<name>.storageClass), else on NFS, else Longhorn, else local.
 */
export function storageClassFor(kind: StorageKind, classes: System["storageClasses"], pinned?: string): string {
  if (kind === "database") return classes.local;
  return pinned ?? classes.nfs ?? classes.truenasNfs ?? classes.longhorn ?? classes.local;
}

/**
 * An app's final values for config checks, before the system layer exists: the same merge as
 * resolveApps (static file, computed part, the stack's `values`) with placeholder claims, classes
 * and hosts. What the checks read from it (Service names, scheduling) depends on none of those.
 */
export function checkValues(name: string, def: AppDefinition, entry: Pick<AppConfig, "values" | "gpu">): Values {
  return appValues(
    def,
    {
      app: name,
      namespace: def.namespace,
      host: `${name}.invalid`,
      consoleHost: def.consoleIngress ? `${name}-console.invalid` : undefined,
      volumes: Object.fromEntries(def.volumes.map((v) => [v.name, { claim: `${name}-${v.name}`, storageClass: "local-path", size: v.size }])),
      secretName: def.secrets.length > 0 ? `${name}-secrets` : undefined,
      gpu: usesGpu(def, entry.gpu),
      clusterCidr: "10.42.0.0/16",
      mediaClaim: def.mediaLibrary ? MEDIA_LIBRARY.claim : undefined,
    },
    entry.values,
  );
}

/**
 * Config check: an app-template app's ingress references (service identifier, port name) must
 * resolve in its final values, the stack's `values` included.
 */
export function ingressBackendErrors(name: string, def: AppDefinition, entry: Pick<AppConfig, "values" | "gpu">): string[] {
  const targets = [def.ingress, def.consoleIngress].filter((t): t is IngressTarget => t !== undefined && "appTemplate" in t);
  if (targets.length === 0) return [];
  const values = checkValues(name, def, entry);
  return targets.flatMap((t) => {
    try {
      ingressBackend(name, t, values);
      return [];
    } catch (e) {
      return [`${(e as Error).message}; restore it or set apps.${name}.host: "" (no ingress)`];
    }
  });
}

/** The ingress host of an app: `""` turns it off, otherwise `<label>.<domain>` (label defaults to the app name). */
export function hostOf(def: AppDefinition, label: string | undefined, domain: string): string | undefined {
  if (def.ingress === undefined || label === "") return undefined;
  return `${label ?? def.name}.${domain}`;
}

/** The console host of an app that has one: `<first label>-console.<rest>`, published with the main ingress. */
export function consoleHostOf(def: AppDefinition, label: string | undefined, domain: string): string | undefined {
  const host = hostOf(def, label, domain);
  if (def.consoleIngress === undefined || host === undefined) return undefined;
  const dot = host.indexOf(".");
  return `${host.slice(0, dot)}-console${host.slice(dot)}`;
}

/**
 * The domain an app's ingress is under: the one whose wildcard covers its host (`n8n.lan` under
 * homelab:domain is on lan.<domain> when that is declared), else the one it names. Its name, and
 * the LAN-only default of its apps.
 */
export function appDomain(
  cfg: Pick<StackConfig, "domain" | "domains" | "certManager">,
  def: AppDefinition,
  entry: Pick<AppConfig, "domain" | "host">,
): { name: string; lanOnly: boolean } {
  const named = appDomainName(cfg, entry.domain) ?? cfg.domain;
  const domains = stackDomains(cfg);
  const host = hostOf(def, entry.host, named);
  const d = (host !== undefined ? coveringDomain(domains, host) : undefined) ?? domains.find((x) => x.name === named);
  return { name: d?.name ?? named, lanOnly: d?.lanOnly ?? true };
}

/** Every host an app publishes (its ingress, its console). */
export function hostsOf(def: AppDefinition, label: string | undefined, domain: string): string[] {
  return [hostOf(def, label, domain), consoleHostOf(def, label, domain)].filter((h): h is string => h !== undefined);
}

/** Whether an app runs on the GPU node. */
export function usesGpu(def: AppDefinition, wanted: boolean | undefined): boolean {
  return def.gpu === "required" || (def.gpu === "optional" && wanted === true);
}

/** Every enabled app of the stack, sorted by name, with everything decided. Pure. */
export function resolveApps(cfg: StackConfig, classes: System["storageClasses"]): ResolvedApp[] {
  const authentik = forwardAuthMiddleware(cfg);
  return (
    Object.entries(cfg.apps)
      .filter(([, entry]) => entry.enabled)
      .sort(([a], [b]) => a.localeCompare(b))
      // appChecks refuses an app that is neither in the catalog nor custom, so none is left out here.
      .flatMap(([name, entry]) => {
        const def = appDefinition(name, entry);
        if (def === undefined) return [];
        const namespace = entry.namespace ?? def.namespace;
        const volumes = def.volumes.map<ResolvedVolume>((v, i) => ({
          name: v.name,
          kind: v.kind,
          claim: `${name}-${v.name}`,
          storageClass: storageClassFor(v.kind, classes, entry.storageClass),
          size: i === 0 && entry.storageSize !== undefined ? entry.storageSize : v.size,
          mountPath: v.mountPath,
          claimedBy: v.claimedBy ?? "catalog",
        }));
        const domainName = appDomainName(cfg, entry.domain) ?? cfg.domain;
        const domain = appDomain(cfg, def, entry);
        const host = hostOf(def, entry.host, domainName);
        const consoleHost = consoleHostOf(def, entry.host, domainName);
        const gpu = usesGpu(def, entry.gpu);
        const secretName = def.secrets.length > 0 ? `${name}-secrets` : undefined;
        const mediaClaim = def.mediaLibrary ? MEDIA_LIBRARY.claim : undefined;
        const values = appValues(
          def,
          {
            app: name,
            namespace,
            host,
            consoleHost,
            volumes: Object.fromEntries(volumes.map((v) => [v.name, { claim: v.claim, storageClass: v.storageClass, size: v.size }])),
            secretName,
            gpu,
            clusterCidr: cfg.cluster.clusterCidr,
            mediaClaim,
          },
          entry.values,
        );
        const forwardAuth = entry.auth === "authentik" ? authentik : undefined;
        const backend = def.ingress && host !== undefined ? ingressBackend(name, def.ingress, values) : undefined;
        const consoleBackend = def.consoleIngress && consoleHost !== undefined ? ingressBackend(name, def.consoleIngress, values) : undefined;
        return [
          {
            name,
            def,
            namespace,
            version: entry.version,
            host,
            consoleHost,
            domain: domain.name,
            lanOnly: entry.lanOnly ?? domain.lanOnly,
            forwardAuth,
            gpu,
            volumes,
            secretName,
            mediaClaim,
            values,
            backend,
            consoleBackend,
          },
        ];
      })
  );
}

/** A ReadWriteOnce claim for one app volume. */
export function renderPvc(app: ResolvedApp, v: ResolvedVolume) {
  return {
    metadata: { name: v.claim, namespace: app.namespace, labels: { "app.kubernetes.io/name": app.name, "homelab/storage-kind": v.kind } },
    spec: { accessModes: ["ReadWriteOnce"], storageClassName: v.storageClass, resources: { requests: { storage: `${v.size}Gi` } } },
  };
}

/** The shared media library of a namespace: ReadWriteMany on NFS. */
export function renderMediaLibraryPvc(namespace: string, storageClass: string) {
  return {
    metadata: { name: MEDIA_LIBRARY.claim, namespace, labels: { "homelab/storage-kind": "data" } },
    spec: { accessModes: ["ReadWriteMany"], storageClassName: storageClass, resources: { requests: { storage: `${MEDIA_LIBRARY.size}Gi` } } },
  };
}

/** The Flux source of an app's chart: a HelmRepository, or an OCIRepository pinned to the version. */
export function renderSource(app: ResolvedApp) {
  const metadata = { name: app.name, namespace: app.namespace };
  const src = app.def.source;
  if (src.kind === "helm") {
    return { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmRepository", metadata, spec: { url: src.url, interval: SOURCE_INTERVAL } };
  }
  return {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "OCIRepository",
    metadata,
    spec: {
      url: src.url,
      ref: { tag: app.version },
      interval: SOURCE_INTERVAL,
      layerSelector: { mediaType: HELM_CHART_MEDIA_TYPE, operation: "copy" },
    },
  };
}

/**
 * The HelmRelease of an app. Install and upgrade remediate (retry, roll back) like `helm
 * --atomic --cleanup-on-fail`; values hold references to Secrets, never secret values.
 */
export function renderHelmRelease(app: ResolvedApp, interval: string, annotations?: Readonly<Record<string, string>>) {
  const src = app.def.source;
  const chart =
    src.kind === "helm"
      ? { chart: { spec: { chart: src.chart, version: app.version, sourceRef: { kind: "HelmRepository", name: app.name }, interval: SOURCE_INTERVAL } } }
      : { chartRef: { kind: "OCIRepository", name: app.name } };
  return {
    apiVersion: "helm.toolkit.fluxcd.io/v2",
    kind: "HelmRelease",
    metadata: { name: app.name, namespace: app.namespace, ...(annotations ? { annotations: { ...annotations } } : {}) },
    spec: {
      interval,
      releaseName: app.name,
      timeout: app.def.timeout,
      ...chart,
      install: { remediation: { retries: 3 } },
      upgrade: { cleanupOnFail: true, remediation: { retries: 3, strategy: "rollback" } },
      values: app.values,
    },
  };
}

/** The ingress of an app through the convention helper, or undefined without a host. */
export function ingressArgsFor(app: ResolvedApp, clusterIssuer: string | undefined): IngressArgs | undefined {
  if (app.host === undefined || app.backend === undefined) return undefined;
  return {
    name: app.name,
    namespace: app.namespace,
    host: app.host,
    serviceName: app.backend.service,
    servicePort: app.backend.port,
    clusterIssuer,
    lanOnly: app.lanOnly,
    ...(app.forwardAuth ? { forwardAuth: app.forwardAuth } : {}),
  };
}

/** The console ingress (`<app>-console`), or undefined. */
export function consoleIngressArgsFor(app: ResolvedApp, clusterIssuer: string | undefined): IngressArgs | undefined {
  if (app.consoleHost === undefined || app.consoleBackend === undefined) return undefined;
  return {
    name: `${app.name}-console`,
    namespace: app.namespace,
    host: app.consoleHost,
    serviceName: app.consoleBackend.service,
    servicePort: app.consoleBackend.port,
    clusterIssuer,
    lanOnly: app.lanOnly,
    ...(app.forwardAuth ? { forwardAuth: app.forwardAuth } : {}),
  };
}

/** Namespaces of the enabled apps, sorted, each once. */
export function appNamespaces(apps: readonly ResolvedApp[]): string[] {
  return [...new Set(apps.map((a) => a.namespace))].sort();
}
