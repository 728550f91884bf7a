// The app catalog: every app of the catalog enabled on the lab stack (stand-in cluster and system
// layers), checked app by app for its scheduling, ingress, storage and secret handling, its Flux
// objects against the Flux CRD schemas, and the config checks that guard the catalog.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { containerImage, releaseTimeout } from "../src/apps/app";
import { appTemplateServices } from "../src/apps/appTemplateNames";
import { BACKUP_SCHEDULE, pgDumpScript, renderPgDumpCronJob } from "../src/apps/backupRender";
import { CATALOG } from "../src/apps/catalog";
import { CLAIM_MIGRATION } from "../src/apps/claims";
import { HELM_CHART_MEDIA_TYPE, storageClassFor, usesGpu } from "../src/apps/render";
import { ConfigError } from "../src/config/loader";
import { renderIngress } from "../src/system/ingress";
import { GPU_READY, planApps, STORAGE_READY, SYSTEM_READY } from "./apps-harness";
import { ROOT, stackDoc, type Graph } from "./harness";
import { requireTool, shellcheck } from "./validators";

/** What each app must become on the lab stack (NFS, GPU node, cert-manager staging). */
const EXPECTED: Record<
  string,
  {
    ns: string;
    source: string;
    ingress?: [string, number];
    /** Catalog-created claims: class and GiB. */
    volumes: Record<string, [string, number]>;
    secrets: string[];
    gpu: boolean;
    media?: boolean;
  }
> = {
  postgresql: { ns: "infrastructure", source: "oci", volumes: { data: ["local-path", 20] }, secrets: ["password"], gpu: false },
  redis: { ns: "infrastructure", source: "oci", volumes: { data: ["local-path", 5] }, secrets: ["password", "redis.conf"], gpu: false },
  minio: { ns: "infrastructure", source: "oci", ingress: ["minio", 9000], volumes: { data: ["local-path", 100] }, secrets: ["root-password"], gpu: false },
  n8n: { ns: "applications", source: "oci", ingress: ["n8n", 5678], volumes: { data: ["local-path", 5] }, secrets: ["encryption-key"], gpu: false },
  // Its chart's StatefulSet claims /config (volumeClaimTemplate): no catalog claim, class and size in values.
  "home-assistant": {
    ns: "applications",
    source: "https://pajikos.github.io/home-assistant-helm-chart/ home-assistant",
    ingress: ["home-assistant", 8123],
    volumes: {},
    secrets: [],
    gpu: false,
  },
  ollama: { ns: "ai", source: "https://helm.otwld.com/ ollama", ingress: ["ollama", 11434], volumes: { models: ["nfs-client", 100] }, secrets: [], gpu: true },
  "stable-diffusion-webui": {
    ns: "ai",
    source: "oci",
    ingress: ["stable-diffusion-webui", 7860],
    volumes: { workspace: ["nfs-client", 100] },
    secrets: ["web-password"],
    gpu: true,
  },
  jupyter: { ns: "ai", source: "oci", ingress: ["jupyter", 8888], volumes: { work: ["nfs-client", 20] }, secrets: ["token"], gpu: true },
  plex: { ns: "media", source: "oci", ingress: ["plex", 32400], volumes: { config: ["local-path", 20] }, secrets: [], gpu: false, media: true },
  radarr: { ns: "media", source: "oci", ingress: ["radarr", 7878], volumes: { config: ["local-path", 5] }, secrets: [], gpu: false, media: true },
  sonarr: { ns: "media", source: "oci", ingress: ["sonarr", 8989], volumes: { config: ["local-path", 5] }, secrets: [], gpu: false, media: true },
  "paperless-ngx": {
    ns: "applications",
    source: "oci",
    ingress: ["paperless-ngx", 8000],
    volumes: { data: ["local-path", 5], media: ["nfs-client", 50] },
    secrets: ["admin-password", "secret-key"],
    gpu: false,
  },
  mealie: { ns: "applications", source: "oci", ingress: ["mealie", 9000], volumes: { data: ["local-path", 5] }, secrets: [], gpu: false },
  actual: { ns: "applications", source: "oci", ingress: ["actual", 5006], volumes: { data: ["local-path", 2] }, secrets: [], gpu: false },
  lidarr: { ns: "media", source: "oci", ingress: ["lidarr", 8686], volumes: { config: ["local-path", 5] }, secrets: [], gpu: false, media: true },
  prowlarr: { ns: "media", source: "oci", ingress: ["prowlarr", 9696], volumes: { config: ["local-path", 2] }, secrets: [], gpu: false },
  qbittorrent: { ns: "media", source: "oci", ingress: ["qbittorrent", 8080], volumes: { config: ["local-path", 2] }, secrets: [], gpu: false, media: true },
  pihole: { ns: "network", source: "oci", ingress: ["pihole-main", 80], volumes: { etc: ["local-path", 2] }, secrets: ["web-password"], gpu: false },
  copyparty: {
    ns: "applications",
    source: "oci",
    ingress: ["copyparty", 3923],
    volumes: { files: ["nfs-client", 100], state: ["local-path", 2] },
    secrets: ["admin-password", "copyparty.conf"],
    gpu: false,
  },
  "text-generation-webui": { ns: "ai", source: "oci", ingress: ["text-generation-webui", 7860], volumes: { models: ["nfs-client", 100] }, secrets: [], gpu: true },
  authentik: {
    ns: "authentik",
    source: "https://charts.goauthentik.io authentik",
    ingress: ["authentik-server", 80],
    volumes: { postgresql: ["local-path", 8] },
    secrets: ["postgres-password", "postgresql-password", "secret-key"],
    gpu: false,
  },
};

const GPU_VALUES = {
  runtimeClassName: "nvidia",
  nodeSelector: { "nvidia.com/gpu.present": "true" },
  tolerations: [{ key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }],
};

function version(app: string): string {
  return app === "ollama" ? "1.24.0" : app === "home-assistant" ? "0.3.22" : app === "authentik" ? "2026.8.0" : "4.6.2";
}

/** The lab stack with every catalog app (jupyter with its optional GPU), optionally edited. */
function allApps(edit: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c = stackDoc();
  c["homelab:apps"] = Object.fromEntries([...CATALOG.keys()].map((a) => [a, { version: version(a), ...(a === "jupyter" ? { gpu: true } : {}) }]));
  edit(c);
  return c;
}

let full: Graph | undefined;
async function all(): Promise<Graph> {
  full ??= (await planApps(allApps())).graph;
  return full;
}

const CLAIM = "kubernetes:core/v1:PersistentVolumeClaimPatch";

/**
 * The fixed, forced field manager of every retained Patch object (issue 18 B1): pulumi-kubernetes
 * v4.32.0 provider/pkg/metadata/annotations.go:38-39, provider/pkg/provider/provider.go:2892
 * (fieldManagerName reads the annotation first), provider/pkg/await/await.go:1031-1033 (patchForce).
 */
const PATCH_OWNER = { "pulumi.com/patchFieldManager": "homelab-infra", "pulumi.com/patchForce": "true" };

/** A claim no edit deletes or replaces: kept on delete, its class never changed, aliased from a plain claim, one forced owner. */
function assertRetainedClaim(r: Graph["resources"][number]): void {
  assert.equal(r.type, CLAIM);
  assert.deepEqual((r.inputs as any).metadata.annotations, PATCH_OWNER, `${r.name}: a fixed field manager, forced`);
  assert.equal(r.retainOnDelete, true, `${r.name} is kept when the app goes`);
  assert.deepEqual(r.ignoreChanges, ["spec.storageClassName"], `${r.name} keeps its class`);
  assert.match(JSON.stringify(r.aliases), /kubernetes:core\/v1:PersistentVolumeClaim(?!Patch)/, `${r.name} keeps the identity of the plain claim it was`);
}

const values = (g: Graph, app: string) => (g.get(`${app}-release`).inputs as any).spec.values;

test("the table covers the catalog exactly", () => {
  assert.deepEqual(Object.keys(EXPECTED).sort(), [...CATALOG.keys()].sort());
});

for (const [app, want] of Object.entries(EXPECTED)) {
  describe(`app ${app}`, () => {
    test("namespace and Flux source", async () => {
      const g = await all();
      const src = g.get(`${app}-source`);
      for (const n of [`${app}-source`, `${app}-release`]) assert.equal((g.get(n).inputs as any).metadata.namespace, want.ns, n);
      const spec = (src.inputs as any).spec;
      if (want.source === "oci") {
        assert.equal(src.type, "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository");
        assert.deepEqual(spec, {
          url: "oci://ghcr.io/bjw-s-labs/helm/app-template",
          ref: { tag: version(app) },
          interval: "1h",
          layerSelector: { mediaType: HELM_CHART_MEDIA_TYPE, operation: "copy" },
        });
        assert.deepEqual((g.get(`${app}-release`).inputs as any).spec.chartRef, { kind: "OCIRepository", name: app });
      } else {
        const [url, chart] = want.source.split(" ");
        assert.equal(src.type, "kubernetes:source.toolkit.fluxcd.io/v1:HelmRepository");
        assert.deepEqual(spec, { url, interval: "1h" });
        assert.deepEqual((g.get(`${app}-release`).inputs as any).spec.chart, {
          spec: { chart, version: version(app), sourceRef: { kind: "HelmRepository", name: app }, interval: "1h" },
        });
      }
      assert.deepEqual(g.depNames(`${app}-source`), ["flux-instance", `namespace-${want.ns}`]);
    });

    test("storage: pre-created claims of the convention's class, referenced by the chart; never emptyDir", async () => {
      const g = await all();
      for (const [vol, [cls, size]] of Object.entries(want.volumes)) {
        const pvc = g.get(`${app}-${vol}`, CLAIM);
        assert.deepEqual((pvc.inputs as any).spec, { accessModes: ["ReadWriteOnce"], storageClassName: cls, resources: { requests: { storage: `${size}Gi` } } });
        assert.equal((pvc.inputs as any).metadata.name, `${app}-${vol}`);
        assert.equal((pvc.inputs as any).metadata.namespace, want.ns);
        assert.deepEqual(g.depNames(`${app}-${vol}`), [`namespace-${want.ns}`, STORAGE_READY, SYSTEM_READY]);
        assert.ok(g.depNames(`${app}-release`).includes(`${app}-${vol}`), "the release waits for the claim");
        assertRetainedClaim(pvc);
      }
      const v = values(g, app);
      if (app === "home-assistant") {
        assert.deepEqual(v.persistence, { enabled: true, accessMode: "ReadWriteOnce", storageClass: "local-path", size: "5Gi" });
        assert.equal(g.ofType(CLAIM).filter((r) => r.name.startsWith(app)).length, 0);
      } else {
        const claimRefs =
          app === "ollama"
            ? { models: v.persistentVolume.existingClaim }
            : app === "authentik"
              ? { postgresql: v.postgresql.primary.persistence.existingClaim }
              : Object.fromEntries(Object.keys(want.volumes).map((vol) => [vol, v.persistence[vol].existingClaim]));
        assert.deepEqual(claimRefs, Object.fromEntries(Object.keys(want.volumes).map((vol) => [vol, `${app}-${vol}`])));
      }
      if (want.media) assert.deepEqual(v.persistence.media, { existingClaim: "media-library", advancedMounts: { main: { main: [{ path: "/media" }] } } });
      if (CATALOG.get(app)!.source.kind === "oci") {
        for (const vol of Object.keys(want.volumes)) {
          assert.deepEqual(
            v.persistence[vol].advancedMounts,
            { main: { main: [{ path: CATALOG.get(app)!.volumes.find((x) => x.name === vol)!.mountPath }] } },
            "the main container only",
          );
          assert.equal(v.persistence[vol].globalMounts, undefined);
        }
      }
      assert.doesNotMatch(JSON.stringify(v), /emptyDir/);
    });

    test("secrets: generated, kept in a secret Secret, referenced by name only", async () => {
      const g = await all();
      const release = g.get(`${app}-release`);
      assert.deepEqual(release.secretPaths, []);
      if (want.secrets.length === 0) {
        assert.equal(g.has(`${app}-secrets`), false);
        return;
      }
      const secret = g.get(`${app}-secrets`);
      assert.deepEqual(secret.secretPaths, ["stringData"]);
      assert.deepEqual((secret.inputs as any).metadata, { name: `${app}-secrets`, namespace: want.ns });
      const data = secret.rawInputs.stringData as Record<string, string>;
      assert.deepEqual(Object.keys(data).sort(), want.secrets);
      const raw = JSON.stringify(release.rawInputs);
      for (const s of CATALOG.get(app)!.secrets) {
        const pw = g.get(`${app}-${s.key}`, "random:index/randomPassword:RandomPassword");
        assert.deepEqual(pw.inputs, { length: s.length, special: false });
        assert.ok(!raw.includes(data[s.key]), `the ${s.key} value is not in the HelmRelease`);
        if (s.env) assert.deepEqual(values(g, app).controllers.main.containers.main.env[s.env], { valueFrom: { secretKeyRef: { name: `${app}-secrets`, key: s.key } } });
      }
      assert.ok(g.depNames(`${app}-release`).includes(`${app}-secrets`));
    });

    test(want.gpu ? "GPU: exactly the cluster's GPU convention, after the GPU node" : "no GPU scheduling", async () => {
      const g = await all();
      const v = values(g, app);
      if (!want.gpu) {
        assert.doesNotMatch(JSON.stringify(v), /nvidia|runtimeClassName/);
        assert.ok(!g.dependsOn(`${app}-release`, GPU_READY));
        return;
      }
      assert.ok(g.depNames(`${app}-release`).includes(GPU_READY));
      if (app === "ollama") {
        assert.deepEqual({ runtimeClassName: v.runtimeClassName, nodeSelector: v.nodeSelector, tolerations: v.tolerations }, GPU_VALUES);
        assert.deepEqual(v.resources.limits, { "nvidia.com/gpu": 1 });
        assert.deepEqual(v.ollama.gpu, { enabled: true, type: "nvidia", number: 1 });
      } else {
        assert.deepEqual(v.defaultPodOptions, GPU_VALUES);
        assert.deepEqual(v.controllers.main.containers.main.resources.limits["nvidia.com/gpu"], 1);
      }
    });

    test(want.ingress ? "ingress: the convention, to the chart's service and port" : "no ingress", async () => {
      const g = await all();
      if (!want.ingress) {
        assert.equal(g.has(`${app}-ingress`), false);
        return;
      }
      const [service, port] = want.ingress;
      const ing = g.get(`${app}-ingress`);
      const expected = renderIngress({
        name: app,
        namespace: want.ns,
        host: `${app}.lab.example.com`,
        serviceName: service,
        servicePort: port,
        // The wildcard certificate is Traefik's default: no certificate of the ingress' own.
        clusterIssuer: undefined,
        lanOnly: true,
      });
      assert.deepEqual(expected.metadata.annotations, { "traefik.ingress.kubernetes.io/router.middlewares": "default-lan-only@kubernetescrd" });
      assert.deepEqual(expected.spec.tls, [{ hosts: [`${app}.lab.example.com`] }]);
      assert.deepEqual(ing.inputs, { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: expected.metadata, spec: expected.spec });
      assert.deepEqual(g.depNames(`${app}-ingress`), [`${app}-release`, STORAGE_READY, SYSTEM_READY].sort());
      const v = values(g, app);
      if (app === "home-assistant") assert.equal(v.service.port, port);
      else if (app === "ollama") assert.equal(v.fullnameOverride, service, "service port is the chart's default 11434");
      else if (app === "authentik") assert.deepEqual(v.server.ingress, { enabled: false }, "the chart's Service <release>-server:80; its own ingress off");
      else {
        // app-template names the Service from the values (src/apps/appTemplateNames.ts): <app>, or <app>-<identifier> beside another.
        assert.equal(v.global.fullnameOverride, app);
        const rendered = appTemplateServices(v, app).find((s) => s.name === service);
        assert.ok(rendered, `${app}: the values render a Service ${service}`);
        assert.ok(Object.values(rendered.ports).includes(port), `${app} serves ${port}: ${Object.values(rendered.ports).join()}`);
      }
    });

    test("the Flux objects validate against the Flux CRD schemas", async () => {
      const g = await all();
      const { HelmRelease } = await import("@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2");
      const { HelmRepository, OCIRepository } = await import("@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1");
      new HelmRelease(g.get(`${app}-release`).rawInputs as any).validate();
      const src = g.get(`${app}-source`).rawInputs as any;
      (src.kind === "HelmRepository" ? new HelmRepository(src) : new OCIRepository(src)).validate();
      const rel = (g.get(`${app}-release`).inputs as any).spec;
      assert.deepEqual(
        { install: rel.install, upgrade: rel.upgrade, releaseName: rel.releaseName, timeout: rel.timeout },
        {
          install: { remediation: { retries: 3 } },
          upgrade: { cleanupOnFail: true, remediation: { retries: 3, strategy: "rollback" } },
          releaseName: app,
          timeout: CATALOG.get(app)!.timeout,
        },
      );
    });
  });
}

describe("the apps layer as a whole", () => {
  test("one Namespace per namespace in use, after the cluster; the media library once, on NFS", async () => {
    const g = await all();
    assert.deepEqual(
      g
        .ofType("kubernetes:core/v1:NamespacePatch")
        .map((r) => r.name)
        .filter((n) => n.startsWith("namespace-"))
        .sort(),
      ["namespace-ai", "namespace-applications", "namespace-authentik", "namespace-infrastructure", "namespace-media", "namespace-network"],
    );
    const libs = g.resources.filter((r) => r.name.startsWith("media-library"));
    assert.deepEqual(
      libs.map((r) => r.name),
      ["media-library-media"],
    );
    assert.deepEqual((libs[0].inputs as any).spec, { accessModes: ["ReadWriteMany"], storageClassName: "nfs-client", resources: { requests: { storage: "1000Gi" } } });
    assert.deepEqual(g.depNames("media-library-media"), ["namespace-media", STORAGE_READY], "the library waits for its StorageClass only");
    assertRetainedClaim(libs[0]);
    for (const ns of ["ai", "applications", "infrastructure", "media"]) {
      const r = g.get(`namespace-${ns}`);
      assert.equal(r.retainOnDelete, true, `namespace-${ns} is never deleted (it would take its claims along)`);
      assert.match(JSON.stringify(r.aliases), /kubernetes:core\/v1:Namespace(?!Patch)/, "aliased from the plain Namespace it was");
      assert.deepEqual((r.inputs as any).metadata, { name: ns, annotations: PATCH_OWNER }, `namespace-${ns}: a fixed field manager, forced`);
    }
    for (const a of ["plex", "radarr", "sonarr", "lidarr", "qbittorrent"]) assert.ok(g.depNames(`${a}-release`).includes("media-library-media"), a);
  });

  test("every release waits for Flux's CRDs, the system layer and for Ready; the app URLs are stack outputs", async () => {
    const g = await all();
    for (const app of CATALOG.keys()) {
      assert.ok(g.dependsOn(`${app}-release`, "flux-instance"), app);
      assert.ok(g.depNames(`${app}-release`).includes(SYSTEM_READY), app);
      assert.ok(g.depNames(`${app}-release`).includes(STORAGE_READY), app);
      assert.deepEqual((g.get(`${app}-release`).inputs as any).metadata.annotations, { "pulumi.com/waitFor": "condition=Ready" });
      assert.equal(g.get(app).type, "homelab:apps:CatalogApp");
    }
    assert.equal((g.result.outputs.appUrls as Record<string, string>).n8n, "https://n8n.lab.example.com");
    assert.equal((g.result.outputs.appUrls as Record<string, string>).postgresql, undefined);
  });

  test("PostgreSQL's pg_dump CronJob: the server's image, its password by reference, the NFS backup share", async () => {
    const g = await all();
    const job = g.get("postgresql-backup");
    assert.equal(job.type, "kubernetes:batch/v1:CronJob");
    assert.deepEqual(g.depNames("postgresql-backup"), ["postgresql-release"]);
    const expected = renderPgDumpCronJob({
      name: "postgresql-backup",
      namespace: "infrastructure",
      image: "docker.io/library/postgres:17.11",
      host: "postgresql.infrastructure.svc.cluster.local",
      passwordSecret: "postgresql-secrets",
      passwordKey: "password",
      nfsServer: "10.0.20.10",
      backupShare: "/volume1/k3s-backups",
    });
    assert.deepEqual(job.inputs, { apiVersion: "batch/v1", kind: "CronJob", ...expected });
    assert.equal((job.inputs as any).spec.schedule, BACKUP_SCHEDULE);
    assert.deepEqual(job.secretPaths, []);
    assert.equal(containerImage({ name: "postgresql", values: values(g, "postgresql") } as any), "docker.io/library/postgres:17.11");
  });

  test("the dump script passes shellcheck", (t) => {
    if (!requireTool(t, "shellcheck")) return;
    assert.equal(shellcheck(pgDumpScript(), "bash"), "");
    assert.match(pgDumpScript(), /set -euo pipefail/);
    assert.match(pgDumpScript(), /-mtime \+14 -delete/);
  });
});

describe("stack choices", () => {
  test("no NFS: data goes to Longhorn, else local-path; lanOnly false; host off; custom host; escape hatch; namespace", async () => {
    const { graph: g } = await planApps(
      allApps((c) => {
        c["homelab:storage"] = { longhorn: { enabled: true } };
        c["homelab:versions"].longhorn = "1.10.1";
        c["homelab:apps"] = {
          ollama: { version: "1.24.0", namespace: "llm", storageSize: 250 },
          n8n: { version: "4.6.2", host: "flows", lanOnly: false, values: { controllers: { main: { containers: { main: { resources: { limits: { memory: "2Gi" } } } } } } } },
          mealie: { version: "4.6.2", host: "" },
          jupyter: { version: "4.6.2" },
        };
      }),
    );
    assert.equal((g.get("ollama-models").inputs as any).spec.storageClassName, "longhorn");
    assert.equal((g.get("ollama-models").inputs as any).spec.resources.requests.storage, "250Gi");
    assert.equal((g.get("ollama-models").inputs as any).metadata.namespace, "llm");
    assert.ok(g.has("namespace-llm"));
    const ing = g.get("n8n-ingress").inputs as any;
    assert.equal(ing.spec.rules[0].host, "flows.lab.example.com");
    assert.equal(ing.metadata.annotations, undefined, "lanOnly false: no middleware; the entry point redirects to HTTPS");
    const env = values(g, "n8n").controllers.main.containers.main;
    assert.equal(env.env.WEBHOOK_URL, "https://flows.lab.example.com/");
    assert.deepEqual(env.resources, { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "2Gi" } });
    assert.equal(g.has("mealie-ingress"), false);
    assert.equal(values(g, "mealie").controllers.main.containers.main.env.BASE_URL, undefined);
    assert.doesNotMatch(JSON.stringify(values(g, "jupyter")), /nvidia/, "the optional GPU is off unless asked");
    assert.ok(!g.dependsOn("jupyter-release", GPU_READY));
    assert.equal(storageClassFor("data", { local: "local-path" }), "local-path");
    assert.equal(storageClassFor("data", { local: "local-path", nfs: "nfs-client", longhorn: "longhorn" }), "nfs-client");
    assert.equal(storageClassFor("database", { local: "local-path", nfs: "nfs-client", longhorn: "longhorn" }), "local-path");
  });

  test("the backup job needs the backup share", async () => {
    const { graph: g } = await planApps(
      allApps((c) => {
        delete c["homelab:storage"].nfs.backupShare;
        c["homelab:apps"] = { postgresql: { version: "4.6.2" } };
      }),
    );
    assert.equal(g.has("postgresql-backup"), false);
    assert.ok(g.has("postgresql-release"));
  });
});

describe("config checks of the catalog", () => {
  async function errorsOf(edit: (c: Record<string, any>) => void): Promise<string[]> {
    try {
      await planApps(allApps(edit));
    } catch (e) {
      if (e instanceof ConfigError) return e.errors;
      throw e;
    }
    return [];
  }
  test("unknown app, with a guess", async () => {
    const errors = await errorsOf((c) => (c["homelab:apps"] = { olama: { version: "1.0.0" } }));
    assert.deepEqual(errors, [
      `apps.olama: unknown app; use one of ${[...CATALOG.keys()].sort().join(", ")} (did you mean 'ollama'?), or describe your own under apps.olama.custom`,
    ]);
  });
  test("unknown app far from any: no guess (bazarr is not radarr, another real app)", async () => {
    const errors = await errorsOf((c) => (c["homelab:apps"] = { bazarr: { version: "1.0.0" } }));
    assert.deepEqual(errors, [`apps.bazarr: unknown app; use one of ${[...CATALOG.keys()].sort().join(", ")}, or describe your own under apps.bazarr.custom`]);
  });
  test("GPU apps need a GPU node; gpu only for optional apps; no host for apps without a web UI", async () => {
    const errors = await errorsOf((c) => {
      c["homelab:nodes"] = c["homelab:nodes"].filter((n: any) => n.role !== "gpu");
      delete c["homelab:versions"].nvidiaDevicePlugin;
      c["homelab:apps"] = {
        ollama: { version: "1.24.0" },
        jupyter: { version: "4.6.2", gpu: true },
        n8n: { version: "4.6.2", gpu: true },
        redis: { version: "4.6.2", host: "redis" },
      };
    });
    assert.deepEqual(errors, [
      "apps.ollama: needs a GPU node but no node has role gpu; add one or set apps.ollama.enabled: false",
      "apps.jupyter: needs a GPU node but no node has role gpu; add one or remove apps.jupyter.gpu",
      "apps.n8n.gpu: n8n never uses a GPU; remove gpu",
      "apps.redis.host: redis has no web interface to publish; remove host",
    ]);
  });
  test("ingress needs Traefik; the media library needs NFS; apps need Flux; hosts are unique", async () => {
    assert.deepEqual(
      await errorsOf((c) => {
        c["homelab:cluster"] = { ...c["homelab:cluster"], traefik: false };
        delete c["homelab:traefik"];
        c["homelab:monitoring"] = { enabled: false };
        c["homelab:storage"] = {};
        delete c["homelab:versions"].csiDriverNfs;
        c["homelab:apps"] = { n8n: { version: "4.6.2" }, radarr: { version: "4.6.2", host: "" }, mealie: { version: "4.6.2", host: "" } };
      }),
      [
        `apps.n8n.host: the ingress needs Traefik but cluster.traefik is false; set apps.n8n.host: "" (no ingress) or cluster.traefik: true`,
        "apps.radarr: mounts the shared media library, which lives on NFS (ReadWriteMany); set storage.nfs.enabled: true or apps.radarr.enabled: false",
      ],
    );
    assert.deepEqual(
      await errorsOf((c) => {
        c["homelab:flux"] = { enabled: false };
        c["homelab:apps"] = { mealie: { version: "4.6.2", host: "food" }, actual: { version: "4.6.2", host: "food" }, plex: { version: "4.6.2", enabled: false, host: "food" } };
      }),
      [
        "apps.mealie: is deployed by Flux but flux.enabled is false; set flux.enabled: true (with flux.url) or apps.mealie.enabled: false",
        "apps.actual: is deployed by Flux but flux.enabled is false; set flux.enabled: true (with flux.url) or apps.actual.enabled: false",
        "apps.actual.host: food.lab.example.com is also the host of apps.mealie; give each app its own host",
      ],
    );
  });
  test("an app namespace never is one Kubernetes, the system layer or Flux owns", async () => {
    assert.deepEqual(
      await errorsOf((c) => {
        c["homelab:apps"] = {
          n8n: { version: "4.6.2", namespace: "monitoring" },
          redis: { version: "4.6.2", namespace: "kube-system" },
          mealie: { version: "4.6.2", namespace: "flux-system" },
          actual: { version: "4.6.2", namespace: "cert-manager" },
          minio: { version: "4.6.2", namespace: "storage" },
        };
      }),
      [
        "apps.n8n.namespace: monitoring belongs to the monitoring stack; choose another, such as the default applications",
        "apps.redis.namespace: kube-system belongs to Kubernetes; choose another, such as the default infrastructure",
        "apps.mealie.namespace: flux-system belongs to Flux; choose another, such as the default applications",
        "apps.actual.namespace: cert-manager belongs to cert-manager; choose another, such as the default applications",
      ],
    );
  });
});

describe("capacity: what the enabled apps ask of the stack", () => {
  async function errorsOf(config: Record<string, any>): Promise<string[]> {
    try {
      await planApps(config);
    } catch (e) {
      if (e instanceof ConfigError) return e.errors;
      throw e;
    }
    return [];
  }

  test("seed 001 as it was (Plex with its GPU, Ollama and Text Generation WebUI on one Tesla, no time-slicing) is refused, naming the apps and the fix", async () => {
    const c = stackDoc("stacks/seed-001-wortmans.yaml");
    delete c["homelab:nodes"][5].gpu.timeSlicingReplicas;
    assert.deepEqual(await errorsOf(c), [
      "nodes[5].gpu.timeSlicingReplicas (kube06): 3 apps request a GPU (ollama, plex, text-generation-webui) but kube06 offers 1 (timeSlicingReplicas 1: no time-slicing); the pods beyond 1 would stay Pending and `pulumi up` would fail after the release timeout; set nodes[5].gpu.timeSlicingReplicas: 3 on kube06 (the apps then take turns on the GPU and share its memory, without isolation), remove apps.plex.gpu, or disable an app",
    ]);
  });

  test("every shipped stack fits its GPU slots (seed 001 with three, seed 000 with three for its three AI apps)", async () => {
    assert.deepEqual(await errorsOf(stackDoc("stacks/seed-001-wortmans.yaml")), []);
    const seed0 = stackDoc("stacks/seed-000-codeofficer.yaml");
    assert.equal(seed0["homelab:nodes"][3].gpu.timeSlicingReplicas, 3);
    assert.deepEqual(await errorsOf(seed0), []);
    seed0["homelab:nodes"][3].gpu.timeSlicingReplicas = 2;
    assert.deepEqual(await errorsOf(seed0), [
      "nodes[3].gpu.timeSlicingReplicas (k3s-gpu-01): 3 apps request a GPU (jupyter, ollama, stable-diffusion-webui) but k3s-gpu-01 offers 2 (timeSlicingReplicas 2); the pods beyond 2 would stay Pending and `pulumi up` would fail after the release timeout; set nodes[3].gpu.timeSlicingReplicas: 3 on k3s-gpu-01 (the apps then take turns on the GPU and share its memory, without isolation), remove apps.jupyter.gpu, or disable an app",
    ]);
  });

  test("the slots of several GPU nodes add up; disabled apps and apps without their optional GPU ask for none", async () => {
    const c = allApps((d) => {
      const gpu = d["homelab:nodes"].find((n: any) => n.role === "gpu");
      gpu.gpu = { ...gpu.gpu, timeSlicingReplicas: 1 };
      d["homelab:nodes"].push({ ...gpu, name: "k3s-gpu-02", vmid: 232, ip: "10.0.20.32", gpu: { ...gpu.gpu, pciPath: "0000:02:00.0", timeSlicingReplicas: 1 } });
      d["homelab:apps"] = {
        ollama: { version: "1.24.0" },
        jupyter: { version: "4.6.2", gpu: true },
        plex: { version: "4.6.2", gpu: true, enabled: false },
        "stable-diffusion-webui": { version: "4.6.2", enabled: false },
      };
    });
    assert.deepEqual(await errorsOf(c), []);
    c["homelab:apps"].plex.enabled = true;
    assert.deepEqual(await errorsOf(c), [
      "nodes[5].gpu.timeSlicingReplicas (k3s-gpu-01): 3 apps request a GPU (jupyter, ollama, plex) but the GPU nodes offer 2 (k3s-gpu-01: 1, k3s-gpu-02: 1); the pods beyond 2 would stay Pending and `pulumi up` would fail after the release timeout; set nodes[5].gpu.timeSlicingReplicas: 2 on k3s-gpu-01 (the apps then take turns on the GPU and share its memory, without isolation), remove apps.jupyter.gpu, remove apps.plex.gpu, or disable an app",
    ]);
  });

  test("a pinned storage class must exist in the stack and apply to a data volume", async () => {
    assert.deepEqual(
      await errorsOf(
        allApps((d) => {
          d["homelab:apps"] = {
            ollama: { version: "1.24.0", storageClass: "longhorn" },
            jupyter: { version: "4.6.2", storageClass: "local-path" },
            postgresql: { version: "4.6.2", storageClass: "nfs-client" },
            "stable-diffusion-webui": { version: "4.6.2", storageClass: "freenas-nfs-csi" },
          };
        }),
      ),
      [
        "apps.ollama.storageClass: longhorn needs storage.longhorn.enabled: true; enable Longhorn or pin another class (existing claims keep their class: move their data first)",
        "apps.postgresql.storageClass: postgresql keeps only database volumes, which always stay on local-path (SQLite and databases corrupt on NFS); remove storageClass",
        "apps.stable-diffusion-webui.storageClass: freenas-nfs-csi needs storage.truenas.enabled: true with storage.truenas.nfs; configure it or pin another class",
      ],
    );
  });
});

describe("day two: disabling, moving and re-enabling apps, and storage changes (issue 10)", () => {
  test("a pinned class keeps a data volume where it is when NFS arrives; databases never move", async () => {
    const { graph: g } = await planApps(
      allApps((d) => (d["homelab:apps"] = { ollama: { version: "1.24.0", storageClass: "local-path" }, jupyter: { version: "4.6.2" }, postgresql: { version: "4.6.2" } })),
    );
    assert.equal((g.get("ollama-models").inputs as any).spec.storageClassName, "local-path", "pinned");
    assert.equal((g.get("jupyter-work").inputs as any).spec.storageClassName, "nfs-client", "the convention");
    assert.equal((g.get("postgresql-data").inputs as any).spec.storageClassName, "local-path");
    assert.equal(storageClassFor("data", { local: "local-path", nfs: "nfs-client" }, "longhorn"), "longhorn");
    assert.equal(storageClassFor("database", { local: "local-path", nfs: "nfs-client" }, "nfs-client"), "local-path");
  });

  test("enabling NFS later: the same claims, now computed on nfs-client, keep their class (ignoreChanges), with the same URNs", async () => {
    const before = (
      await planApps(
        allApps((d) => {
          d["homelab:storage"] = {};
          delete d["homelab:versions"].csiDriverNfs;
          d["homelab:apps"] = { ollama: { version: "1.24.0" }, postgresql: { version: "4.6.2" } };
        }),
      )
    ).graph;
    const after = (await planApps(allApps((d) => (d["homelab:apps"] = { ollama: { version: "1.24.0" }, postgresql: { version: "4.6.2" } })))).graph;
    const claim = (g: Graph) => g.get("ollama-models");
    assert.equal((claim(before).inputs as any).spec.storageClassName, "local-path");
    assert.equal((claim(after).inputs as any).spec.storageClassName, "nfs-client");
    assert.equal(claim(before).urn, claim(after).urn, "no new claim: the same resource");
    assert.deepEqual(claim(after).ignoreChanges, ["spec.storageClassName"], "the class change is never applied: no replacement, the data stays");
    assert.match(CLAIM_MIGRATION, /^the claim keeps the class it was created with/);
  });

  // Re-enabling applies the class and size computed then to the kept claims (issue 18 B2): the warning says which, and what the plan cannot see.
  test("disabling an app keeps its namespace and claims (retainOnDelete), and the plan says how to delete them and what re-enabling applies", async () => {
    const { graph: g, stack } = await planApps(
      allApps((d) => {
        d["homelab:apps"] = {
          n8n: { version: "4.6.2" },
          mealie: { version: "4.6.2", enabled: false },
          "paperless-ngx": { version: "4.6.2", enabled: false, namespace: "docs" },
          "home-assistant": { version: "0.3.22", enabled: false, namespace: "home" },
        };
      }),
    );
    assert.equal(g.has("mealie"), false);
    assert.deepEqual(stack.warnings, [
      "apps.mealie: disabled; kept in the cluster with the data (Pulumi only forgets them; enabling the app again takes them back): the claim mealie-data; to delete the data: `kubectl -n applications delete pvc mealie-data`; enabling it again applies local-path, 5Gi to mealie-data (this config's class and size) to the kept claim: one made on another class (a storage backend or a pin changed meanwhile) or larger fails the `up` (a claim's class is immutable and it cannot shrink); the plan reads no cluster and cannot see the kept claims, so look first (`kubectl -n applications get pvc mealie-data -o custom-columns=NAME:.metadata.name,CLASS:.spec.storageClassName,SIZE:.spec.resources.requests.storage`), then set apps.mealie.storageSize to at least its size, or move the data and delete the kept claim first",
      "apps.paperless-ngx: disabled; kept in the cluster with the data (Pulumi only forgets them; enabling the app again takes them back): the namespace docs, the claims paperless-ngx-data, paperless-ngx-media; to delete the data: `kubectl -n docs delete pvc paperless-ngx-data paperless-ngx-media`, then `kubectl delete namespace docs` once nothing in it is wanted; its generated Secret paperless-ngx-secrets is deleted, and enabling the app again generates new values that data written with the old ones does not know (a database keeps its old password, n8n cannot decrypt what it stored): keep a copy first (`kubectl -n docs get secret paperless-ngx-secrets -o yaml`); enabling it again applies local-path, 5Gi to paperless-ngx-data and nfs-client, 50Gi to paperless-ngx-media (this config's class and size) to the kept claims: one made on another class (a storage backend or a pin changed meanwhile) or larger fails the `up` (a claim's class is immutable and it cannot shrink); the plan reads no cluster and cannot see the kept claims, so look first (`kubectl -n docs get pvc paperless-ngx-data paperless-ngx-media -o custom-columns=NAME:.metadata.name,CLASS:.spec.storageClassName,SIZE:.spec.resources.requests.storage`), then pin apps.paperless-ngx.storageClass to the kept claim's class and set apps.paperless-ngx.storageSize to at least its size, or move the data and delete the kept claim first",
      "apps.home-assistant: disabled; kept in the cluster with the data (Pulumi only forgets them; enabling the app again takes them back): the namespace home, its StatefulSet's claims; to delete the data: `kubectl -n home get pvc` for the StatefulSet's, then `kubectl delete namespace home` once nothing in it is wanted",
    ]);
    for (const r of g.resources.filter((x) => x.type === "kubernetes:core/v1:NamespacePatch" || x.type === CLAIM)) assert.equal(r.retainOnDelete, true, r.name);
  });

  test("moving an app to another namespace: new claims in the new namespace, the old namespace's are kept (distinct URNs, nothing deleted)", async () => {
    const moved = (await planApps(allApps((d) => (d["homelab:apps"] = { ollama: { version: "1.24.0", namespace: "llm" } })))).graph;
    assert.equal((moved.get("ollama-models").inputs as any).metadata.namespace, "llm");
    assert.ok(moved.has("namespace-llm"));
    assert.equal(moved.has("namespace-ai"), false, "the ai namespace leaves the state, kept in the cluster (retainOnDelete)");
  });

  test("MinIO's console gets its own host, the console URL MinIO redirects to, and counts for host clashes", async () => {
    const g = await all();
    const ing = g.get("minio-console-ingress").inputs as any;
    assert.equal(ing.spec.rules[0].host, "minio-console.lab.example.com");
    assert.deepEqual(ing.spec.rules[0].http.paths[0].backend, { service: { name: "minio", port: { number: 9001 } } });
    assert.deepEqual(ing.metadata.annotations, { "traefik.ingress.kubernetes.io/router.middlewares": "default-lan-only@kubernetescrd" });
    assert.equal(values(g, "minio").controllers.main.containers.main.env.MINIO_BROWSER_REDIRECT_URL, "https://minio-console.lab.example.com");
    const { graph: off } = await planApps(allApps((d) => (d["homelab:apps"] = { minio: { version: "4.6.2", host: "" } })));
    assert.equal(off.has("minio-console-ingress"), false);
    assert.equal(values(off, "minio").controllers.main.containers.main.env.MINIO_BROWSER_REDIRECT_URL, undefined);
    await assert.rejects(planApps(allApps((d) => (d["homelab:apps"] = { minio: { version: "4.6.2" }, n8n: { version: "4.6.2", host: "minio-console" } }))), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.errors, ["apps.n8n.host: minio-console.lab.example.com is also the host of apps.minio; give each app its own host"]);
      return true;
    });
  });
});

describe("catalog files and helpers", () => {
  test("every app has apps/<name>/values.yaml (a map, pinned images) and a README", () => {
    for (const [name, def] of CATALOG) {
      const dir = join(ROOT, "apps", name);
      assert.ok(existsSync(join(dir, "README.md")), `${name}/README.md`);
      const doc = parse(readFileSync(join(dir, "values.yaml"), "utf8")) as Record<string, any>;
      assert.equal(typeof doc, "object", name);
      const text = JSON.stringify(doc);
      assert.doesNotMatch(text, /"tag":"(latest|)"|:latest"/, `${name} pins its image`);
      if (def.source.kind === "oci") {
        assert.equal(doc.service.main.controller, "main", name);
        assert.match(String(doc.controllers.main.containers.main.image.tag), /\d/, name);
      }
    }
  });
  test("usesGpu; releaseTimeout", () => {
    assert.equal(usesGpu(CATALOG.get("ollama")!, undefined), true);
    assert.equal(usesGpu(CATALOG.get("jupyter")!, undefined), false);
    assert.equal(usesGpu(CATALOG.get("jupyter")!, true), true);
    assert.equal(usesGpu(CATALOG.get("n8n")!, true), false);
    assert.equal(releaseTimeout("20m"), "30m");
    assert.throws(() => releaseTimeout("1h"), /timeout 1h: expected minutes such as 10m/);
  });
  test("Redis reads its password from a config file in the Secret, not its command line", async () => {
    const g = await all();
    const v = values(g, "redis");
    assert.deepEqual(v.controllers.main.containers.main.args, ["/etc/redis/redis.conf"]);
    assert.deepEqual(v.persistence.config, { type: "secret", name: "redis-secrets", globalMounts: [{ path: "/etc/redis/redis.conf", subPath: "redis.conf", readOnly: true }] });
    const data = g.get("redis-secrets").rawInputs.stringData as Record<string, string>;
    assert.equal(data["redis.conf"], `requirepass ${data.password}\nappendonly yes\ndir /data\n`);
  });
  test("Home Assistant trusts the cluster's pods as proxies", async () => {
    const v = values(await all(), "home-assistant");
    assert.deepEqual(v.configuration.trusted_proxies, ["10.42.0.0/16"]);
    assert.match(v.configuration.templateConfig, /use_x_forwarded_for: true\n {2}trusted_proxies:\n {4}- 10\.42\.0\.0\/16\n/);
    assert.equal(v.configuration.enabled, true);
  });
});
