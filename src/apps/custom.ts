// Custom apps (`apps.<name>.custom`): apps outside the catalog, turned into the same AppDefinition
// a catalog entry is, so they get the same conventions: claims by volume kind, generated secrets,
// the ingress convention with LAN-only, GPU scheduling, Flux source and HelmRelease. Pure.
import { gpuScheduling } from "../cluster/conventions";
import type { AppConfig } from "../config/schema";
import type { CustomAppConfig } from "../config/customAppSchema";
import { CATALOG } from "./catalog";
import { APP_TEMPLATE, MAIN_HTTP } from "./template";
import type { AppDefinition, ChartSource } from "./types";
import { appTemplateValues, type Values } from "./values";

/** The Flux source of a custom app: its chart (Helm repository or OCI), or app-template for an image. */
export function customSource(c: CustomAppConfig): ChartSource {
  if (c.chart === undefined) return APP_TEMPLATE;
  if (c.chart.repository.startsWith("oci://")) return { kind: "oci", url: c.chart.repository };
  return { kind: "helm", url: c.chart.repository, chart: c.chart.name ?? "" };
}

/** The static app-template values of an image app: its image, Recreate with claims, its web port. */
export function imageAppValues(c: CustomAppConfig): Values {
  const image = c.image!;
  return {
    controllers: {
      main: {
        // ReadWriteOnce claims: the old pod must let go before the new one starts.
        ...(c.volumes.length > 0 || c.mediaLibrary ? { strategy: "Recreate" } : {}),
        containers: { main: { image: { repository: image.repository, tag: image.tag }, env: { ...c.env } } },
      },
    },
    ...(c.service ? { service: { main: { controller: "main", ports: { http: { port: c.service.port } } } } } : {}),
  };
}

/**
 * The computed values of a chart app: only GPU scheduling, at the top level where charts built
 * from `helm create` read runtimeClassName, nodeSelector, tolerations and resources. Claims and
 * the Secret are passed by the stack's `values` (their names are fixed: `<app>-<volume>`, `<app>-secrets`).
 */
export function chartAppValues(gpu: boolean): Values {
  if (!gpu) return {};
  const g = gpuScheduling();
  return { runtimeClassName: g.runtimeClassName, nodeSelector: g.nodeSelector, tolerations: g.tolerations, resources: { limits: g.resources.limits } };
}

/** The definition of a custom app. Its namespace defaults to the app's name; its GPU is optional (apps.<name>.gpu). */
export function customApp(name: string, c: CustomAppConfig): AppDefinition {
  const isImage = c.image !== undefined;
  const def: AppDefinition = {
    name,
    description: c.description ?? (isImage ? `${c.image!.repository} on app-template` : `chart ${c.chart?.name ?? c.chart?.repository}`),
    source: customSource(c),
    namespace: name,
    // An image app's Service is app-template's `main` with port `http` (imageAppValues); a chart names its own.
    ...(c.service ? { ingress: isImage ? MAIN_HTTP : { service: c.service.name ?? name, port: c.service.port } } : {}),
    // A chart mounts its claims through its own values: the mount path is for image apps only.
    volumes: c.volumes.map((v) => ({ name: v.name, kind: v.kind, size: v.size, mountPath: v.mountPath ?? "" })),
    mediaLibrary: c.mediaLibrary,
    gpu: "optional",
    secrets: c.secrets.map((s) => ({ key: s.key, length: s.length, ...(s.env !== undefined ? { env: s.env } : {}) })),
    timeout: c.timeout,
    values: (ctx) => (isImage ? appTemplateValues(def, ctx) : chartAppValues(ctx.gpu)),
    staticValues: isImage ? imageAppValues(c) : {},
  };
  return def;
}

/** The definition behind a stack's app entry: its custom description, else the catalog's (undefined: not in it). */
export function appDefinition(name: string, entry: Pick<AppConfig, "custom">): AppDefinition | undefined {
  return entry.custom !== undefined ? customApp(name, entry.custom) : CATALOG.get(name);
}
