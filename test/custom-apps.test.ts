// Custom apps (apps.<name>.custom): an image on app-template and Helm charts from an https://
// repository and from OCI, with the catalog's conventions (claims by kind, generated secrets, the
// ingress convention, LAN-only, GPU scheduling), their exact objects, and the checks that guard them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HELM_CHART_MEDIA_TYPE } from "../src/apps/render";
import { ConfigError } from "../src/config/loader";
import { renderIngress } from "../src/system/ingress";
import { GPU_READY, planApps, STORAGE_READY, SYSTEM_READY } from "./apps-harness";
import { stackDoc, type Graph } from "./harness";

const GPU = {
  runtimeClassName: "nvidia",
  nodeSelector: { "nvidia.com/gpu.present": "true" },
  tolerations: [{ key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }],
};

/** Three custom apps: an image app (GPU, media library, public), a Helm-repository chart, an OCI chart. */
export const CUSTOM_APPS = {
  readarr: {
    version: "4.6.2",
    namespace: "media",
    host: "books",
    lanOnly: false,
    gpu: true,
    storageSize: 8,
    custom: {
      image: { repository: "ghcr.io/home-operations/readarr", tag: "0.4.18.2805" },
      service: { port: 8787 },
      volumes: [
        { name: "config", kind: "database", size: 5, mountPath: "/config" },
        { name: "cache", kind: "data", size: 20, mountPath: "/cache" },
      ],
      secrets: [{ key: "api-key", length: 40, env: "READARR__AUTH__APIKEY" }, { key: "spare" }],
      env: { TZ: "Europe/Berlin" },
      mediaLibrary: true,
    },
  },
  adblock: {
    version: "2.31.0",
    custom: {
      chart: { repository: "https://mojo2600.github.io/pihole-kubernetes/", name: "pihole" },
      service: { name: "adblock-web", port: 80 },
      volumes: [{ name: "etc", kind: "database", size: 2 }],
      secrets: [{ key: "password" }],
      timeout: "15m",
    },
    values: { persistentVolumeClaim: { enabled: true, existingClaim: "adblock-etc" }, admin: { existingSecret: "adblock-secrets", passwordKey: "password" } },
  },
  podinfo: {
    version: "6.15.0",
    gpu: true,
    custom: { chart: { repository: "oci://ghcr.io/stefanprodan/charts/podinfo" } },
  },
};

function withApps(apps: Record<string, unknown>): Record<string, any> {
  const c = stackDoc();
  c["homelab:apps"] = apps;
  return c;
}

let plan: Graph | undefined;
async function graph(): Promise<Graph> {
  plan ??= (await planApps(withApps(CUSTOM_APPS))).graph;
  return plan;
}
const spec = (g: Graph, name: string) => (g.get(name).inputs as any).spec;

describe("a custom image app runs on app-template with the catalog's conventions", () => {
  test("source, release and exact values", async () => {
    const g = await graph();
    assert.equal(g.get("readarr").type, "homelab:apps:CatalogApp");
    assert.equal(g.get("readarr-source").type, "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository");
    assert.deepEqual(spec(g, "readarr-source"), {
      url: "oci://ghcr.io/bjw-s-labs/helm/app-template",
      ref: { tag: "4.6.2" },
      interval: "1h",
      layerSelector: { mediaType: HELM_CHART_MEDIA_TYPE, operation: "copy" },
    });
    const rel = spec(g, "readarr-release");
    assert.deepEqual(rel.chartRef, { kind: "OCIRepository", name: "readarr" });
    assert.equal(rel.timeout, "10m");
    assert.deepEqual(rel.values, {
      controllers: {
        main: {
          strategy: "Recreate",
          containers: {
            main: {
              image: { repository: "ghcr.io/home-operations/readarr", tag: "0.4.18.2805" },
              env: { TZ: "Europe/Berlin", READARR__AUTH__APIKEY: { valueFrom: { secretKeyRef: { name: "readarr-secrets", key: "api-key" } } } },
              resources: { limits: { "nvidia.com/gpu": 1 } },
            },
          },
        },
      },
      service: { main: { controller: "main", ports: { http: { port: 8787 } } } },
      global: { fullnameOverride: "readarr" },
      persistence: {
        config: { existingClaim: "readarr-config", advancedMounts: { main: { main: [{ path: "/config" }] } } },
        cache: { existingClaim: "readarr-cache", advancedMounts: { main: { main: [{ path: "/cache" }] } } },
        media: { existingClaim: "media-library", advancedMounts: { main: { main: [{ path: "/media" }] } } },
      },
      defaultPodOptions: GPU,
    });
    assert.deepEqual(g.get("readarr-release").secretPaths, []);
    assert.deepEqual(g.depNames("readarr-release"), [
      GPU_READY,
      "media-library-media",
      "readarr-cache",
      "readarr-config",
      "readarr-secrets",
      "readarr-source",
      STORAGE_READY,
      SYSTEM_READY,
    ]);
  });

  test("claims by kind (database local-path, data NFS), storageSize on the first; secrets generated and secret", async () => {
    const g = await graph();
    assert.deepEqual(spec(g, "readarr-config"), { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", resources: { requests: { storage: "8Gi" } } });
    assert.deepEqual(spec(g, "readarr-cache"), { accessModes: ["ReadWriteOnce"], storageClassName: "nfs-client", resources: { requests: { storage: "20Gi" } } });
    assert.deepEqual((g.get("readarr-cache").inputs as any).metadata, {
      name: "readarr-cache",
      namespace: "media",
      labels: { "app.kubernetes.io/name": "readarr", "homelab/storage-kind": "data" },
      annotations: { "pulumi.com/patchFieldManager": "homelab-infra", "pulumi.com/patchForce": "true" },
    });
    assert.deepEqual(g.get("readarr-api-key", "random:index/randomPassword:RandomPassword").inputs, { length: 40, special: false });
    assert.deepEqual(g.get("readarr-spare", "random:index/randomPassword:RandomPassword").inputs, { length: 32, special: false });
    const secret = g.get("readarr-secrets");
    assert.deepEqual(secret.secretPaths, ["stringData"]);
    assert.deepEqual(Object.keys(secret.rawInputs.stringData as object).sort(), ["api-key", "spare"]);
    assert.deepEqual((secret.inputs as any).metadata, { name: "readarr-secrets", namespace: "media" });
  });

  test("the ingress convention, public (lanOnly false) under its own host", async () => {
    const g = await graph();
    const expected = renderIngress({
      name: "readarr",
      namespace: "media",
      host: "books.lab.example.com",
      serviceName: "readarr",
      servicePort: 8787,
      clusterIssuer: undefined,
      lanOnly: false,
    });
    assert.deepEqual(g.get("readarr-ingress").inputs, { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: expected.metadata, spec: expected.spec });
    assert.equal((g.result.outputs.appUrls as Record<string, string>).readarr, "https://books.lab.example.com");
  });
});

describe("custom Helm charts", () => {
  test("an https:// repository: HelmRepository, pinned chart, claims and Secret the values reference, LAN-only ingress to the chart's Service", async () => {
    const g = await graph();
    assert.equal(g.get("adblock-source").type, "kubernetes:source.toolkit.fluxcd.io/v1:HelmRepository");
    assert.deepEqual((g.get("adblock-source").inputs as any).metadata, { name: "adblock", namespace: "adblock" });
    assert.deepEqual(spec(g, "adblock-source"), { url: "https://mojo2600.github.io/pihole-kubernetes/", interval: "1h" });
    const rel = spec(g, "adblock-release");
    assert.deepEqual(rel.chart, { spec: { chart: "pihole", version: "2.31.0", sourceRef: { kind: "HelmRepository", name: "adblock" }, interval: "1h" } });
    assert.equal(rel.timeout, "15m");
    assert.deepEqual(rel.values, CUSTOM_APPS.adblock.values, "only the stack's values: no GPU, nothing invented for the chart");
    assert.deepEqual(spec(g, "adblock-etc"), { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", resources: { requests: { storage: "2Gi" } } });
    assert.deepEqual(g.depNames("adblock-release"), ["adblock-etc", "adblock-secrets", "adblock-source", STORAGE_READY, SYSTEM_READY]);
    assert.ok(g.has("namespace-adblock"), "the namespace defaults to the app's name");
    const expected = renderIngress({
      name: "adblock",
      namespace: "adblock",
      host: "adblock.lab.example.com",
      serviceName: "adblock-web",
      servicePort: 80,
      clusterIssuer: undefined,
      lanOnly: true,
    });
    assert.deepEqual(g.get("adblock-ingress").inputs, { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: expected.metadata, spec: expected.spec });
  });

  test("an OCI chart: OCIRepository at the version, GPU scheduling at the top level, no service so no ingress", async () => {
    const g = await graph();
    assert.deepEqual(spec(g, "podinfo-source"), {
      url: "oci://ghcr.io/stefanprodan/charts/podinfo",
      ref: { tag: "6.15.0" },
      interval: "1h",
      layerSelector: { mediaType: HELM_CHART_MEDIA_TYPE, operation: "copy" },
    });
    assert.deepEqual(spec(g, "podinfo-release").values, { ...GPU, resources: { limits: { "nvidia.com/gpu": 1 } } });
    assert.ok(g.depNames("podinfo-release").includes(GPU_READY));
    assert.equal(g.has("podinfo-ingress"), false);
    assert.equal(g.has("podinfo-secrets"), false);
  });

  test("the Flux objects validate against the Flux CRD schemas", async () => {
    const g = await graph();
    const { HelmRelease } = await import("@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2");
    const { HelmRepository, OCIRepository } = await import("@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1");
    for (const app of Object.keys(CUSTOM_APPS)) {
      new HelmRelease(g.get(`${app}-release`).rawInputs as any).validate();
      const src = g.get(`${app}-source`).rawInputs as any;
      (src.kind === "HelmRepository" ? new HelmRepository(src) : new OCIRepository(src)).validate();
    }
  });
});

describe("config checks of custom apps", () => {
  async function errorsOf(apps: Record<string, unknown>, edit: (c: Record<string, any>) => void = () => {}): Promise<string[]> {
    const c = withApps(apps);
    edit(c);
    try {
      await planApps(c);
    } catch (e) {
      if (e instanceof ConfigError) return e.errors;
      throw e;
    }
    return [];
  }
  const image = { repository: "ghcr.io/home-operations/readarr", tag: "0.4.18.2805" };
  const chart = { repository: "https://mojo2600.github.io/pihole-kubernetes/", name: "pihole" };

  test("source: exactly one, named right, pinned", async () => {
    assert.deepEqual(
      await errorsOf({
        neither: { version: "1.0.0", custom: {} },
        both: { version: "1.0.0", custom: { image, chart } },
        noname: { version: "1.0.0", custom: { chart: { repository: "https://charts.example.com/" } } },
        ociname: { version: "1.0.0", custom: { chart: { repository: "oci://ghcr.io/example/charts/x", name: "x" } } },
        moving: { version: "4.6.2", custom: { image: { repository: "ghcr.io/example/app", tag: "latest" } } },
        wordtag: { version: "4.6.2", custom: { image: { repository: "ghcr.io/example/app", tag: "stable-alpine" } } },
        plex: { version: "4.6.2", custom: { image } },
        Bad_Name: { version: "4.6.2", custom: { image } },
      }),
      [
        "apps.neither.custom: set exactly one of chart (a Helm chart) and image (a container image run on app-template)",
        "apps.both.custom: set exactly one of chart (a Helm chart) and image (a container image run on app-template)",
        "apps.noname.custom.chart.name: is required for an https:// Helm repository; set the chart's name in that repository",
        "apps.ociname.custom.chart.name: an oci:// repository is the chart itself; remove name",
        'apps.moving.custom.image.tag: "latest" moves with every release; pin a release tag such as 1.2.3',
        'apps.wordtag.custom.image.tag: "stable-alpine" moves with every release; pin a release tag such as 1.2.3',
        "apps.plex.custom: plex is a catalog app; remove custom to use the catalog's plex, or give the custom app another name",
        "apps.Bad_Name: a custom app's name names its release, namespace and claims; use a DNS label of at most 53 characters (lowercase letters, digits and '-')",
      ],
    );
  });

  test("keys for image apps only, keys for charts only, duplicates", async () => {
    assert.deepEqual(
      await errorsOf({
        chartapp: {
          version: "1.0.0",
          storageSize: 5,
          custom: { chart, service: { port: 80 }, env: { A: "1" }, secrets: [{ key: "k", env: "K" }], volumes: [{ name: "d", kind: "data", size: 1, mountPath: "/d" }] },
        },
        imageapp: {
          version: "4.6.2",
          custom: {
            image,
            service: { name: "other", port: 80 },
            env: { TOKEN: "x" },
            secrets: [{ key: "t", env: "TOKEN" }, { key: "t" }],
            volumes: [
              { name: "a", kind: "data", size: 1 },
              { name: "b", kind: "data", size: 1, mountPath: "/media" },
              { name: "b", kind: "database", size: 1, mountPath: "/media" },
            ],
            mediaLibrary: true,
          },
        },
        empty: { version: "4.6.2", storageSize: 5, custom: { image } },
      }),
      [
        "apps.chartapp.custom.service.name: is required for a chart; set the name of the Service the chart creates for its web port",
        "apps.chartapp.custom.env: only an image app takes env; set the chart's own values under apps.chartapp.values",
        "apps.chartapp.custom.secrets[0].env: only an image app reads secrets as env; remove env and reference chartapp-secrets in the chart's values",
        "apps.chartapp.custom.volumes[0].mountPath: a chart mounts its claims itself; remove mountPath and pass existingClaim chartapp-d in apps.chartapp.values",
        "apps.imageapp.custom.service.name: an image app's Service is named after the app (imageapp); remove name",
        "apps.imageapp.custom.volumes[0].mountPath: is required for an image app; set where the container mounts a",
        "apps.imageapp.custom.secrets[0].env: TOKEN is also set by apps.imageapp.custom.env; give each variable one source",
        'apps.imageapp.custom.volumes[2].mountPath: /media is also the mount path of volume "b"; mount each volume at its own path',
        "apps.imageapp.custom.mediaLibrary: the media library mounts at /media, which a volume already uses; move that volume",
        "apps.imageapp.custom.volumes[2].name: b is used twice; give each volume its own name",
        "apps.imageapp.custom.secrets[1].key: t is used twice; give each secret its own key",
        "apps.empty.storageSize: sizes the first of custom.volumes, and there is none; remove storageSize or declare a volume",
      ],
    );
  });

  test("the catalog's checks hold for custom apps: GPU node, Traefik for a host, NFS for the media library, reserved namespaces, schema", async () => {
    assert.deepEqual(
      await errorsOf(
        {
          gpuapp: { version: "4.6.2", gpu: true, custom: { image } },
          webapp: { version: "4.6.2", custom: { image, service: { port: 80 } } },
          media: { version: "4.6.2", host: "", custom: { image, mediaLibrary: true } },
          monitoring: { version: "4.6.2", custom: { image } },
          nohost: { version: "4.6.2", host: "x", custom: { image } },
        },
        (c) => {
          c["homelab:nodes"] = c["homelab:nodes"].filter((n: any) => n.role !== "gpu");
          delete c["homelab:versions"].nvidiaDevicePlugin;
          c["homelab:cluster"] = { ...c["homelab:cluster"], traefik: false };
          delete c["homelab:traefik"];
          c["homelab:monitoring"] = { enabled: false };
          c["homelab:storage"] = {};
          delete c["homelab:versions"].csiDriverNfs;
        },
      ),
      [
        "apps.gpuapp: needs a GPU node but no node has role gpu; add one or remove apps.gpuapp.gpu",
        `apps.webapp.host: the ingress needs Traefik but cluster.traefik is false; set apps.webapp.host: "" (no ingress) or cluster.traefik: true`,
        "apps.media: mounts the shared media library, which lives on NFS (ReadWriteMany); set storage.nfs.enabled: true or apps.media.enabled: false",
        "apps.monitoring.namespace: the default namespace monitoring (the app's name) belongs to the monitoring stack; set another namespace",
        "apps.nohost.host: nohost has no web interface to publish; remove host",
      ],
    );
    assert.deepEqual(
      await errorsOf({
        x: { version: "4.6.2", custom: { image: { repository: "GHCR.io/App", tag: "1.0" }, volumes: [{ name: "d", kind: "cache", size: 1 }], timeout: "1h", servce: 1 } },
      }),
      [
        'apps.x.custom.image.repository: "GHCR.io/App" is invalid; it must be an image repository such as ghcr.io/owner/app',
        'apps.x.custom.volumes[0].kind: "cache" is not allowed; use one of "database", "data"',
        'apps.x.custom.timeout: "1h" is invalid; it must be minutes such as 10m',
        "apps.x.custom.servce: unknown key; remove it (did you mean 'service'?)",
      ],
    );
  });
});
