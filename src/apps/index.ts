// The apps layer: every enabled catalog app as Flux objects created by Pulumi, after the system
// layer (storage, ingress) and Flux's CRDs; GPU apps also after the GPU node.
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/types";
import type { HomelabConfig } from "../config/loader";
import type { Platform } from "../platform/types";
import { retainedNamespace } from "../system/namespaces";
import type { System } from "../system/types";
import { CatalogApp } from "./app";
import { retainedClaim } from "./claims";
import { forwardAuthMiddleware, renderForwardAuthMiddleware } from "./forwardAuth";
import { appNamespaces, renderMediaLibraryPvc, resolveApps } from "./render";
import type { Apps } from "./types";

export type { Apps } from "./types";
export { CATALOG } from "./catalog";

export function buildApps(cfg: HomelabConfig, cluster: Cluster, system: System, platform: Platform): Apps {
  const apps = resolveApps(cfg, system.storageClasses);
  const releases = new Map<string, pulumi.Resource>();
  const urls: Record<string, string> = {};
  if (apps.length === 0) return { releases, urls };
  const opts: pulumi.CustomResourceOptions = { provider: cluster.provider };
  // Claims need their StorageClass provisioning; releases also need ingress (routes, certificates).
  const systemReady = [...system.ingressReady, ...system.storageReady];

  // Never deleted by Pulumi: a Namespace takes every claim in it along (see retainedNamespace).
  const namespaces = new Map<string, k8s.core.v1.NamespacePatch>();
  const namespaceFor = (ns: string): k8s.core.v1.NamespacePatch => {
    let namespace = namespaces.get(ns);
    if (namespace === undefined) {
      namespace = retainedNamespace(`namespace-${ns}`, { name: ns }, { ...opts, dependsOn: cluster.ready });
      namespaces.set(ns, namespace);
    }
    return namespace;
  };
  // All of them first, in name order (a stable registration order).
  for (const ns of appNamespaces(apps)) namespaceFor(ns);

  // One media library per namespace that has an app mounting it (validation requires NFS for it).
  const mediaLibraries = new Map<string, k8s.core.v1.PersistentVolumeClaimPatch>();
  for (const app of apps.filter((a) => a.mediaClaim !== undefined)) {
    // NFS: csi-driver-nfs's class, else TrueNAS's NFS class (both ReadWriteMany).
    const rwx = system.storageClasses.nfs ?? system.storageClasses.truenasNfs;
    if (mediaLibraries.has(app.namespace) || rwx === undefined) continue;
    mediaLibraries.set(
      app.namespace,
      // Holds the media collection: kept like the apps' own claims.
      retainedClaim(`media-library-${app.namespace}`, renderMediaLibraryPvc(app.namespace, rwx), {
        ...opts,
        dependsOn: [namespaceFor(app.namespace), ...system.storageReady],
      }),
    );
  }

  // Authentik's forward auth: one Middleware beside Authentik, for the apps that opt in (and for
  // manifests of one's own). The Middleware CRD comes with k3s's Traefik (systemReady).
  const authentik = cfg.cluster.traefik ? forwardAuthMiddleware(cfg) : undefined;
  const forwardAuth =
    authentik === undefined
      ? undefined
      : new k8s.apiextensions.CustomResource("authentik-forward-auth", renderForwardAuthMiddleware(authentik), {
          ...opts,
          dependsOn: [namespaceFor(authentik.namespace), ...system.ingressReady],
        });

  const nfs = cfg.storage.nfs;
  for (const app of apps) {
    const component = new CatalogApp(
      app.name,
      {
        app,
        interval: cfg.flux.interval,
        clusterIssuer: system.ingressIssuers[app.domain],
        namespace: namespaceFor(app.namespace),
        mediaLibrary: mediaLibraries.get(app.namespace),
        systemReady,
        fluxReady: platform.fluxReady,
        gpuReady: cluster.gpuReady,
        ingressAfter: app.forwardAuth !== undefined && forwardAuth !== undefined ? [forwardAuth] : [],
        backup: nfs.enabled && nfs.server !== undefined && nfs.backupShare !== undefined ? { server: nfs.backupServer ?? nfs.server, share: nfs.backupShare } : undefined,
      },
      { providers: { kubernetes: cluster.provider } },
    );
    releases.set(app.name, component.release);
    if (component.url !== undefined) urls[app.name] = component.url;
  }
  return { releases, urls };
}
