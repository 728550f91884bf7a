// The system layer under the recording monitor, on a stand-in cluster: which services a stack
// gets, their order (custom resources after the releases that install their CRDs, everything after
// the cluster), release options, secrets, and the System contract handed to platform and apps.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../src/config/loader";
import { placeholderFor } from "../src/plan/run";
import { recordNames } from "../src/platform/dns";
import { planConfig, stackDoc, type Graph } from "./harness";
import { CLUSTER_READY, planSystem, type SystemPlan } from "./system-harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NS = "kubernetes:core/v1:Namespace";
const SECRET = "kubernetes:core/v1:Secret";
const CF_TOKEN = placeholderFor("homelab:cloudflareApiToken");

let lab: SystemPlan | undefined;
async function labPlan(): Promise<SystemPlan> {
  lab ??= await planSystem(stackDoc());
  return lab;
}

/** Every resource the system layer registered (the stand-in cluster, provider and stack excluded). */
function systemResources(g: Graph): Array<[string, string]> {
  return g.resources.filter((r) => !["pulumi:pulumi:Stack", "pulumi:providers:kubernetes"].includes(r.type) && r.name !== CLUSTER_READY).map((r) => [r.type, r.name]);
}

describe("lab stack: the services and their order", () => {
  test("exactly these components and resources", async () => {
    const { graph } = await labPlan();
    assert.deepEqual(
      systemResources(graph).sort((a, b) => a[1].localeCompare(b[1])),
      [
        ["homelab:system:CertManagerIssuer", "cert-manager"],
        [SECRET, "cert-manager-cloudflare-token"],
        ["kubernetes:cert-manager.io/v1:ClusterIssuer", "cert-manager-letsencrypt-prod"],
        ["kubernetes:cert-manager.io/v1:ClusterIssuer", "cert-manager-letsencrypt-staging"],
        [NS, "cert-manager-namespace"],
        [RELEASE, "cert-manager-release"],
        ["kubernetes:cert-manager.io/v1:Certificate", "cert-manager-wildcard"],
        ["homelab:system:MetalLbPool", "metallb"],
        ["kubernetes:metallb.io/v1beta1:L2Advertisement", "metallb-l2"],
        [NS, "metallb-namespace"],
        ["kubernetes:metallb.io/v1beta1:IPAddressPool", "metallb-pool"],
        [RELEASE, "metallb-release"],
        ["homelab:system:Monitoring", "monitoring"],
        [SECRET, "monitoring-grafana-admin"],
        ["random:index/randomPassword:RandomPassword", "monitoring-grafana-password"],
        // Prometheus' claim lives here: the namespace outlives monitoring.enabled: false.
        ["kubernetes:core/v1:NamespacePatch", "monitoring-namespace"],
        [RELEASE, "monitoring-release"],
        ["homelab:system:NfsStorage", "nfs"],
        [RELEASE, "nfs-release"],
        ["kubernetes:storage.k8s.io/v1:StorageClass", "nfs-storage-class"],
        ["homelab:system:TraefikConfig", "traefik"],
        ["kubernetes:helm.cattle.io/v1:HelmChartConfig", "traefik-config"],
        ["kubernetes:traefik.io/v1alpha1:Middleware", "traefik-lan-only"],
        ["kubernetes:traefik.io/v1alpha1:Middleware", "traefik-redirect-https"],
      ],
    );
  });

  test("components store no inputs and own their children", async () => {
    const { graph } = await labPlan();
    for (const c of ["metallb", "cert-manager", "traefik", "nfs", "monitoring"]) {
      assert.deepEqual(graph.get(c).inputs, {}, `${c} stores no inputs`);
    }
    assert.deepEqual(
      graph.children("metallb").map((r) => r.name),
      ["metallb-namespace", "metallb-release", "metallb-pool", "metallb-l2"],
    );
    assert.deepEqual(
      graph.children("traefik").map((r) => r.name),
      ["traefik-config", "traefik-redirect-https", "traefik-lan-only"],
    );
  });

  test("every Kubernetes object goes through the cluster's provider and waits for the cluster", async () => {
    const { graph } = await labPlan();
    const provider = graph.get("k8s", "pulumi:providers:kubernetes");
    const objects = graph.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
    assert.equal(objects.length, 18);
    for (const r of objects) {
      assert.ok(r.provider.startsWith(`${provider.urn}::`), `${r.name} uses the cluster's provider`);
      assert.ok(graph.dependsOn(r.name, CLUSTER_READY), `${r.name} waits for the cluster`);
    }
  });

  test("custom resources depend on the release that installs their CRD", async () => {
    const { graph } = await labPlan();
    for (const cr of ["metallb-pool", "metallb-l2"]) assert.ok(graph.depNames(cr).includes("metallb-release"), cr);
    for (const cr of ["cert-manager-letsencrypt-staging", "cert-manager-letsencrypt-prod", "cert-manager-wildcard"]) {
      assert.ok(graph.depNames(cr).includes("cert-manager-release"), cr);
    }
    // Traefik's CRDs and the HelmChartConfig CRD are k3s's own: present once the cluster is ready.
    assert.ok(graph.depNames("traefik-config").includes(CLUSTER_READY));
    for (const mw of ["traefik-redirect-https", "traefik-lan-only"]) {
      assert.ok(graph.depNames(mw).includes("traefik-config"), mw);
      assert.ok(graph.depNames(mw).includes(CLUSTER_READY), mw);
    }
    assert.ok(graph.depNames("nfs-storage-class").includes("nfs-release"));
  });

  test("the pool exists before the advertisement, the issuers have their token, the certificate its issuer", async () => {
    const { graph } = await labPlan();
    assert.deepEqual(graph.depNames("metallb-l2"), ["metallb-pool", "metallb-release"]);
    assert.deepEqual(graph.depNames("cert-manager-letsencrypt-staging"), ["cert-manager-cloudflare-token", "cert-manager-release"]);
    assert.deepEqual(graph.depNames("cert-manager-wildcard"), ["cert-manager-letsencrypt-staging", "cert-manager-release"]);
    assert.deepEqual(graph.depNames("metallb-release"), [CLUSTER_READY, "metallb-namespace"]);
    assert.deepEqual(graph.depNames("cert-manager-release"), ["cert-manager-namespace", CLUSTER_READY]);
  });

  test("Traefik is configured after the MetalLB pool and the wildcard certificate; Grafana after ingress works", async () => {
    const { graph } = await labPlan();
    assert.deepEqual(graph.depNames("traefik-config"), ["cert-manager-wildcard", CLUSTER_READY, "metallb-l2", "metallb-pool"]);
    for (const dep of ["traefik-redirect-https", "traefik-lan-only", "cert-manager-letsencrypt-staging", "cert-manager-letsencrypt-prod", "monitoring-grafana-admin"]) {
      assert.ok(graph.dependsOn("monitoring-release", dep), `monitoring-release after ${dep}`);
    }
    assert.equal(graph.dependsOn("nfs-release", "metallb-release"), false, "storage does not wait for unrelated services");
  });
});

describe("lab stack, whole program: the system layer on the real cluster layer", () => {
  test("every system object uses the cluster's provider and waits for the cluster's readiness; outputs name the entry points", async () => {
    const g = await planConfig(stackDoc());
    const providers = g.ofType("pulumi:providers:kubernetes");
    assert.equal(providers.length, 1, "one Kubernetes provider, the cluster's");
    const clusterReady = g.get("metallb-namespace").dependencies.map((u) => g.byUrn(u));
    assert.ok(clusterReady.length > 0 && clusterReady.every((r) => r.custom), "the namespace waits for the cluster's readiness resources");
    const systemComponents = ["metallb", "cert-manager", "traefik", "nfs", "monitoring"].map((n) => g.get(n).urn);
    const objects = g.resources.filter((r) => r.custom && r.parent !== null && systemComponents.includes(r.parent) && r.type.startsWith("kubernetes:"));
    assert.equal(objects.length, 18);
    for (const r of objects) {
      assert.ok(r.provider.startsWith(`${providers[0].urn}::`), `${r.name} uses the cluster's provider`);
      for (const ready of clusterReady) assert.ok(g.dependsOn(r.name, ready.name), `${r.name} waits for ${ready.name}`);
    }
    assert.deepEqual(
      { traefikIp: g.result.outputs.traefikIp, clusterIssuer: g.result.outputs.clusterIssuer, grafanaUrl: g.result.outputs.grafanaUrl },
      { traefikIp: "10.0.20.200", clusterIssuer: "letsencrypt-staging", grafanaUrl: "https://grafana.lab.example.com" },
    );
  });
});

describe("Helm releases (seed 000: --atomic --cleanup-on-fail, pinned versions)", () => {
  const expected: Record<string, { chart: string; repo: string; version: string; name: string; namespace: string; timeout: number }> = {
    "metallb-release": { chart: "metallb", repo: "https://metallb.github.io/metallb", version: "0.15.2", name: "metallb", namespace: "metallb-system", timeout: 600 },
    "cert-manager-release": { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.19.1", name: "cert-manager", namespace: "cert-manager", timeout: 600 },
    "nfs-release": {
      chart: "csi-driver-nfs",
      repo: "https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts",
      version: "4.12.0",
      name: "csi-driver-nfs",
      namespace: "kube-system",
      timeout: 600,
    },
    "monitoring-release": {
      chart: "kube-prometheus-stack",
      repo: "https://prometheus-community.github.io/helm-charts",
      version: "79.5.0",
      name: "kube-prometheus-stack",
      namespace: "monitoring",
      timeout: 900,
    },
  };

  test("every release: chart, repository, version from config, atomic, cleanup on fail, awaited", async () => {
    const { graph } = await labPlan();
    assert.deepEqual(
      graph
        .ofType(RELEASE)
        .map((r) => r.name)
        .sort(),
      Object.keys(expected).sort(),
    );
    for (const [name, e] of Object.entries(expected)) {
      const i = graph.get(name, RELEASE).inputs;
      assert.deepEqual(
        { chart: i.chart, repo: (i.repositoryOpts as { repo: string }).repo, version: i.version, name: i.name, namespace: i.namespace, timeout: i.timeout },
        e,
        name,
      );
      assert.equal(i.atomic, true, `${name} atomic`);
      assert.equal(i.cleanupOnFail, true, `${name} cleanupOnFail`);
      assert.equal(i.skipAwait, false, `${name} waits for readiness`);
      assert.equal(i.createNamespace, false, `${name} uses the component's namespace`);
    }
  });

  test("a changed pinned version reaches the release", async () => {
    const doc = stackDoc();
    doc["homelab:versions"] = { ...doc["homelab:versions"], metallb: "0.15.3" };
    const { graph } = await planSystem(doc);
    assert.equal(graph.get("metallb-release").inputs.version, "0.15.3");
  });

  test("the releases carry the rendered values (k3s scrape targets, DNS-01 resolvers, L2 only)", async () => {
    const { graph } = await labPlan();
    const values = (n: string) => graph.get(n, RELEASE).inputs.values as Record<string, any>;
    assert.deepEqual(values("cert-manager-release"), {
      crds: { enabled: true, keep: true },
      dns01RecursiveNameservers: "1.1.1.1:53,9.9.9.9:53",
      dns01RecursiveNameserversOnly: true,
    });
    assert.deepEqual(values("metallb-release"), { frrk8s: { enabled: false }, speaker: { frr: { enabled: false } } });
    const mon = values("monitoring-release");
    assert.deepEqual([mon.kubeControllerManager, mon.kubeScheduler, mon.kubeProxy, mon.kubeEtcd], Array(4).fill({ enabled: false }));
    assert.equal(mon.grafana.ingress.hosts[0], "grafana.lab.example.com");
    // The wildcard is Traefik's default certificate: Grafana orders none of its own.
    assert.deepEqual(mon.grafana.ingress.annotations, { "traefik.ingress.kubernetes.io/router.middlewares": "default-lan-only@kubernetescrd" });
    assert.deepEqual(mon.grafana.ingress.tls, [{ hosts: ["grafana.lab.example.com"] }]);
    assert.deepEqual(mon.crds, { upgradeJob: { enabled: true, forceConflicts: true, image: { busybox: { tag: "1.37.0" } } } });
    assert.deepEqual(mon.grafana.admin, { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
    assert.equal(mon.prometheus.prometheusSpec.retention, "15d");
  });
});

describe("namespaces", () => {
  test("MetalLB's (and the node exporters') namespaces admit privileged pods; cert-manager's does not need to", async () => {
    const { graph } = await labPlan();
    const OWNER = { "pulumi.com/patchFieldManager": "homelab-infra", "pulumi.com/patchForce": "true" };
    const privileged = {
      "pod-security.kubernetes.io/audit": "privileged",
      "pod-security.kubernetes.io/enforce": "privileged",
      "pod-security.kubernetes.io/warn": "privileged",
    };
    assert.deepEqual(graph.get("metallb-namespace").inputs.metadata, { name: "metallb-system", labels: privileged });
    // A retained NamespacePatch: one fixed, forced field manager (issue 18 B1).
    assert.deepEqual(graph.get("monitoring-namespace").inputs.metadata, { name: "monitoring", annotations: OWNER, labels: privileged });
    assert.deepEqual(graph.get("cert-manager-namespace").inputs.metadata, { name: "cert-manager" });
  });
});

describe("secrets", () => {
  test("the Cloudflare token is a secret Secret in cert-manager's namespace, and nowhere in plain text", async () => {
    const { graph } = await labPlan();
    const token = graph.get("cert-manager-cloudflare-token", SECRET);
    assert.deepEqual(token.inputs, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "cloudflare-api-token", namespace: "cert-manager" },
      type: "Opaque",
      stringData: "[secret]",
    });
    assert.deepEqual(token.secretPaths, ["stringData"]);
    assert.deepEqual(token.rawInputs.stringData, { "api-token": CF_TOKEN });
  });

  test("Grafana's admin password comes from RandomPassword into a secret Secret the chart references", async () => {
    const { graph } = await labPlan();
    assert.deepEqual(graph.get("monitoring-grafana-password").inputs, { length: 32, special: false });
    const admin = graph.get("monitoring-grafana-admin", SECRET);
    assert.deepEqual(admin.secretPaths, ["stringData"]);
    assert.deepEqual(admin.inputs.metadata, { name: "grafana-admin", namespace: "monitoring" });
    const raw = admin.rawInputs.stringData as Record<string, string>;
    assert.equal(raw["admin-user"], "admin");
    assert.match(raw["admin-password"], /^plan-random-[0-9a-f]{16}$/);
  });

  test("no secret value appears in any plain input, and no release's values are secret (they would hide the diff)", async () => {
    const { graph } = await labPlan();
    const password = (graph.get("monitoring-grafana-admin").rawInputs.stringData as Record<string, string>)["admin-password"];
    for (const r of graph.resources) {
      const plain = JSON.stringify(r.inputs);
      assert.equal(plain.includes(CF_TOKEN), false, `${r.name} shows the Cloudflare token`);
      assert.equal(plain.includes(password), false, `${r.name} shows Grafana's password`);
    }
    for (const r of graph.ofType(RELEASE)) assert.deepEqual(r.secretPaths, [], `${r.name} has no secret inputs`);
  });

  test("the recorded Secrets and Namespaces validate against kubernetes-models", async () => {
    const { graph } = await labPlan();
    const { Secret, Namespace } = await import("kubernetes-models/v1");
    for (const r of graph.ofType(SECRET)) new Secret(r.rawInputs as never).validate();
    for (const r of graph.ofType(NS)) new Namespace(r.rawInputs as never).validate();
  });

  test("the recorded cert-manager objects validate against @kubernetes-models/cert-manager", async () => {
    const { graph } = await labPlan();
    const { ClusterIssuer, Certificate } = await import("@kubernetes-models/cert-manager/cert-manager.io/v1");
    for (const r of graph.ofType("kubernetes:cert-manager.io/v1:ClusterIssuer")) new ClusterIssuer(r.rawInputs as never).validate();
    for (const r of graph.ofType("kubernetes:cert-manager.io/v1:Certificate")) new Certificate(r.rawInputs as never).validate();
    const { StorageClass } = await import("kubernetes-models/storage.k8s.io/v1");
    new StorageClass(graph.get("nfs-storage-class").rawInputs as never).validate();
  });
});

describe("readiness annotations", () => {
  test("issuers and the wildcard certificate resolve only when Ready (the certificate within 15 minutes)", async () => {
    const { graph } = await labPlan();
    for (const n of ["cert-manager-letsencrypt-staging", "cert-manager-letsencrypt-prod"]) {
      assert.deepEqual((graph.get(n).inputs.metadata as { annotations: unknown }).annotations, { "pulumi.com/waitFor": "condition=Ready" });
    }
    assert.deepEqual((graph.get("cert-manager-wildcard").inputs.metadata as { annotations: unknown }).annotations, {
      "pulumi.com/waitFor": "condition=Ready",
      "pulumi.com/timeoutSeconds": "900",
    });
  });
});

describe("the System contract", () => {
  test("lab: staging issuer, local and NFS classes, Traefik's address, ingress readiness", async () => {
    const { system, graph } = await labPlan();
    assert.equal(system.clusterIssuer, "letsencrypt-staging");
    assert.deepEqual(system.storageClasses, { local: "local-path", nfs: "nfs-client" });
    assert.equal(system.traefikIp, "10.0.20.200");
    const urns = new Set(system.ingressReady.map((r) => (r as unknown as { urn: unknown }).urn));
    assert.equal(urns.size, 8);
    const names = [
      "metallb-pool",
      "metallb-l2",
      "cert-manager-letsencrypt-staging",
      "cert-manager-letsencrypt-prod",
      "cert-manager-wildcard",
      "traefik-config",
      "traefik-redirect-https",
      "traefik-lan-only",
    ];
    const monitoringDeps = new Set(graph.get("monitoring-release").dependencies);
    for (const n of names) assert.ok(monitoringDeps.has(graph.get(n).urn), `ingressReady holds ${n}`);
  });

  /** Names of the resources in System.storageReady (their URNs resolved under the mocks). */
  async function storageReadyNames({ system, graph }: SystemPlan): Promise<string[]> {
    const urns = await Promise.all(system.storageReady.map((r) => new Promise<string>((ok) => r.urn.apply(ok))));
    return urns.map((u) => graph.byUrn(u).name);
  }

  test("storage readiness: the NFS StorageClass (created after its driver), Longhorn's release; nothing without either", async () => {
    const lab = await labPlan();
    assert.deepEqual(await storageReadyNames(lab), ["nfs-storage-class"]);
    assert.deepEqual(lab.graph.depNames("nfs-storage-class"), ["nfs-release"]);

    const doc = stackDoc();
    doc["homelab:versions"] = { ...doc["homelab:versions"], longhorn: "1.10.1" };
    doc["homelab:storage"] = { ...doc["homelab:storage"], longhorn: { enabled: true, replicas: 3 } };
    assert.deepEqual(await storageReadyNames(await planSystem(doc)), ["nfs-storage-class", "longhorn-release"]);

    assert.deepEqual((await planSystem(stackDoc("Pulumi.home.yaml"))).system.storageReady, []);
  });

  test("production issuer: the certificate, Grafana and the contract use letsencrypt-prod", async () => {
    const doc = stackDoc();
    doc["homelab:certManager"] = { ...doc["homelab:certManager"], issuer: "production" };
    const { graph, system } = await planSystem(doc);
    assert.equal(system.clusterIssuer, "letsencrypt-prod");
    assert.equal((graph.get("cert-manager-wildcard").inputs.spec as any).issuerRef.name, "letsencrypt-prod");
    assert.deepEqual(graph.depNames("cert-manager-wildcard"), ["cert-manager-letsencrypt-prod", "cert-manager-release"]);
    assert.equal((graph.get("monitoring-release").inputs.values as any).grafana.ingress.annotations["cert-manager.io/cluster-issuer"], undefined, "the wildcard serves Grafana");
    assert.equal(system.ingressIssuer, undefined);
  });
});

describe("optional services", () => {
  test("cluster.traefik false: no Traefik configuration, middlewares or wildcard certificate", async () => {
    const doc = stackDoc();
    doc["homelab:cluster"] = { ...doc["homelab:cluster"], traefik: false };
    // What else needs Traefik goes too (validation requires it).
    delete doc["homelab:traefik"];
    delete doc["homelab:apps"];
    doc["homelab:monitoring"] = { enabled: false };
    const { graph, system } = await planSystem(doc);
    for (const n of ["traefik", "traefik-config", "traefik-redirect-https", "traefik-lan-only", "cert-manager-wildcard", "monitoring"]) assert.equal(graph.has(n), false, n);
    assert.ok(graph.has("cert-manager-letsencrypt-staging"));
    assert.equal(system.traefikIp, undefined);
    assert.equal(system.ingressReady.length, 4);
  });

  test("home stack (no cert-manager): Traefik keeps the redirect, serves its own default certificate, takes any pool address", async () => {
    const doc = stackDoc("Pulumi.home.yaml");
    const { graph, system } = await planSystem(doc);
    assert.deepEqual(
      systemResources(graph)
        .map(([, n]) => n)
        .sort(),
      ["metallb", "metallb-l2", "metallb-namespace", "metallb-pool", "metallb-release", "traefik", "traefik-config", "traefik-lan-only", "traefik-redirect-https"],
    );
    const content = (graph.get("traefik-config").inputs.spec as { valuesContent: string }).valuesContent;
    assert.ok(content.includes("redirections.entryPoint.to=:443"));
    assert.equal(content.includes("tlsStore"), false);
    assert.equal(content.includes("loadBalancerIPs"), false);
    assert.deepEqual(
      (graph.get("traefik-lan-only").inputs.spec as any).ipAllowList.sourceRange,
      ["192.168.0.0/24", "10.42.0.0/16"],
      "default allow-list: the VM subnet and the pods",
    );
    assert.equal(system.clusterIssuer, undefined);
    assert.deepEqual(system.storageClasses, { local: "local-path" });
  });

  test("Longhorn: its own privileged namespace, replicas from config, the longhorn class", async () => {
    const doc = stackDoc();
    doc["homelab:versions"] = { ...doc["homelab:versions"], longhorn: "1.10.1" };
    doc["homelab:storage"] = { ...doc["homelab:storage"], longhorn: { enabled: true, replicas: 3 } };
    const { graph, system } = await planSystem(doc);
    const release = graph.get("longhorn-release", RELEASE).inputs;
    assert.deepEqual([release.chart, release.version, release.namespace, release.timeout], ["longhorn", "1.10.1", "longhorn-system", 900]);
    // The lab has a GPU node: Longhorn tolerates its taint.
    const toleration = [{ key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }];
    assert.deepEqual(release.values, {
      persistence: { defaultClass: false, defaultClassReplicaCount: 3 },
      defaultSettings: { defaultReplicaCount: "3", defaultDataPath: "/var/lib/longhorn", taintToleration: "nvidia.com/gpu=true:NoSchedule" },
      longhornManager: { tolerations: toleration },
      longhornDriver: { tolerations: toleration },
    });
    // Its uninstall hook refuses without the confirmation flag: an atomic rollback would strand the release.
    assert.equal(release.atomic, false);
    assert.equal(release.cleanupOnFail, true);
    assert.equal((graph.get("longhorn-namespace").inputs.metadata as any).labels["pod-security.kubernetes.io/enforce"], "privileged");
    assert.deepEqual(graph.depNames("longhorn-release"), [CLUSTER_READY, "longhorn-namespace"]);
    assert.deepEqual(system.storageClasses, { local: "local-path", nfs: "nfs-client", longhorn: "longhorn" });
  });
});

describe("DNS records (Cloudflare)", () => {
  const ZONE = "0123456789abcdef0123456789abcdef";

  test("full names, so a domain below the zone apex works", () => {
    assert.deepEqual(recordNames("lab.example.com"), { wildcard: "*.lab.example.com", apex: "lab.example.com" });
  });

  test("wildcard and apex A records at Traefik's address, through a provider holding the secret token", async () => {
    const doc = stackDoc();
    doc["homelab:dns"] = { enabled: true, zoneId: ZONE };
    const { graph } = await planSystem(doc);
    const provider = graph.get("dns-provider", "pulumi:providers:cloudflare");
    assert.deepEqual(provider.secretPaths, ["apiToken"]);
    assert.equal(provider.rawInputs.apiToken, CF_TOKEN);
    for (const [name, record] of [
      ["dns-wildcard", "*.lab.example.com"],
      ["dns-apex", "lab.example.com"],
    ]) {
      const r = graph.get(name, "cloudflare:index/dnsRecord:DnsRecord");
      assert.deepEqual(r.inputs, {
        zoneId: ZONE,
        name: record,
        type: "A",
        content: "10.0.20.200",
        proxied: false,
        ttl: 300,
        comment: "Traefik LoadBalancer address (managed by Pulumi, homelab)",
      });
      assert.ok(r.provider.startsWith(`${provider.urn}::`), `${name} uses the token's provider`);
      assert.equal(r.parent, graph.get("dns").urn);
    }
    assert.equal(graph.get("dns").type, "homelab:platform:DnsRecords");
    assert.deepEqual(graph.get("dns").inputs, {});
  });
});

describe("config errors, end to end", () => {
  async function configError(edit: (doc: Record<string, any>) => void): Promise<ConfigError> {
    const doc = stackDoc();
    edit(doc);
    try {
      await planConfig(doc);
    } catch (e) {
      assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
      return e;
    }
    assert.fail("the plan succeeded");
  }

  test("a Traefik address outside the MetalLB range", async () => {
    const e = await configError((d) => (d["homelab:traefik"] = { loadBalancerIp: "10.0.20.199" }));
    assert.deepEqual(e.errors, ["traefik.loadBalancerIp: 10.0.20.199 is outside metallb.range 10.0.20.200-10.0.20.220; pick an address inside the range"]);
  });

  test("a MetalLB range that no longer holds the Traefik address", async () => {
    const e = await configError((d) => (d["homelab:metallb"] = { enabled: true, range: "10.0.20.230-10.0.20.240" }));
    assert.deepEqual(e.errors, ["traefik.loadBalancerIp: 10.0.20.200 is outside metallb.range 10.0.20.230-10.0.20.240; pick an address inside the range"]);
  });

  test("a TTL Cloudflare refuses, and a proxied record to a private address", async () => {
    const e = await configError((d) => (d["homelab:dns"] = { enabled: true, zoneId: "0123456789abcdef0123456789abcdef", ttl: 30, proxied: true }));
    assert.deepEqual(e.errors, [
      "dns.ttl: 30 is not a TTL Cloudflare accepts; use 1 (automatic) or 60 to 86400 seconds",
      "dns.proxied: Cloudflare's proxy cannot reach the private address 10.0.20.200 (traefik.loadBalancerIp); set dns.proxied: false",
    ]);
  });

  test("a MetalLB release too old for the metallb.io annotation that pins Traefik's address", async () => {
    const e = await configError((d) => (d["homelab:versions"] = { ...d["homelab:versions"], metallb: "0.14.8" }));
    assert.deepEqual(e.errors, [
      "versions.metallb: 0.14.8 does not read the metallb.io/loadBalancerIPs annotation that pins traefik.loadBalancerIp (added in 0.14.9); pin 0.14.9 or newer",
    ]);
  });
});

describe("day two: what an edit must not destroy or break (issue 10)", () => {
  test("the monitoring namespace (Prometheus' claim) is never deleted, and adopts itself when monitoring comes back", async () => {
    const { graph } = await labPlan();
    const ns = graph.get("monitoring-namespace");
    assert.equal(ns.type, "kubernetes:core/v1:NamespacePatch", "server-side apply: re-creating it after monitoring.enabled false adopts the kept one");
    assert.equal(ns.retainOnDelete, true);
    assert.match(JSON.stringify(ns.aliases), /kubernetes:core\/v1:Namespace(?!Patch)/, "the plain Namespace it was keeps its identity");
    assert.deepEqual((ns.inputs.metadata as any).labels["pod-security.kubernetes.io/enforce"], "privileged");
  });

  test("the lan-only allow-list always admits the pod network (pods calling an app by its public name)", async () => {
    const { graph } = await labPlan();
    assert.deepEqual((graph.get("traefik-lan-only").inputs.spec as any).ipAllowList.sourceRange, ["10.0.0.0/16", "10.42.0.0/16"]);
    const doc = stackDoc();
    doc["homelab:traefik"] = { ...doc["homelab:traefik"], lanAllowlist: ["10.0.0.0/16", "10.42.0.0/16"] };
    const again = await planSystem(doc);
    assert.deepEqual((again.graph.get("traefik-lan-only").inputs.spec as any).ipAllowList.sourceRange, ["10.0.0.0/16", "10.42.0.0/16"], "listed once");
  });

  test("nfs-client allows volume expansion: a raised storageSize is an in-place update", async () => {
    const { graph } = await labPlan();
    assert.equal(graph.get("nfs-storage-class").inputs.allowVolumeExpansion, true);
  });

  test("Longhorn without a GPU node tolerates nothing; allowUninstall sets the confirmation flag and warns", async () => {
    const doc = stackDoc("stacks/seed-004-overkill.yaml");
    const plain = await planSystem(doc);
    const values = (p: SystemPlan) => p.graph.get("longhorn-release", RELEASE).inputs.values as Record<string, any>;
    assert.deepEqual(values(plain), {
      persistence: { defaultClass: false, defaultClassReplicaCount: 2 },
      defaultSettings: { defaultReplicaCount: "2", defaultDataPath: "/var/lib/longhorn" },
    });
    assert.deepEqual(plain.stack.warnings, []);
    doc["homelab:storage"].longhorn.allowUninstall = true;
    const removable = await planSystem(doc);
    assert.equal(values(removable).defaultSettings.deletingConfirmationFlag, true);
    assert.deepEqual(removable.stack.warnings, [
      "storage.longhorn.allowUninstall: Longhorn may now be uninstalled: setting storage.longhorn.enabled: false (or `pulumi destroy`) deletes every Longhorn volume with its data; move the data off Longhorn first",
    ]);
  });

  test("a k3s bump past 1.34 warns that its bundled Traefik was not checked against the cross-namespace middleware references (audit row C5: traefik/traefik#13094, #13670)", async () => {
    const warned = async (edit: (doc: Record<string, any>) => void) => {
      const doc = stackDoc();
      edit(doc);
      return (await planSystem(doc)).stack.warnings.filter((w) => w.startsWith("versions.k3s:"));
    };
    assert.deepEqual(await warned(() => {}), []);
    assert.deepEqual(
      await warned((d) => {
        d["homelab:versions"].k3s = "v1.35.0+k3s1";
      }),
      [
        "versions.k3s: v1.35.0+k3s1 bundles a Traefik the program was not checked against (last: k3s 1.34, Traefik 3.5.1); the app Ingresses name middlewares in other namespaces (default-lan-only@kubernetescrd, the Authentik forward auth), and newer Traefik can refuse such references (crossProviderNamespaces, traefik/traefik#13094 and #13670): read that Traefik's release notes for the option's default before the up, and after it check one app answers (an Ingress whose middleware is refused answers 404); or stay on k3s 1.34",
      ],
    );
    // Without k3s's Traefik (seed 002) the bundled one is not used: nothing to warn about.
    const seed2 = stackDoc("stacks/seed-002-homelab.yaml");
    seed2["homelab:versions"].k3s = "v1.35.0+k3s1";
    assert.equal(seed2["homelab:cluster"].traefik, false);
    assert.deepEqual(
      (await planSystem(seed2)).stack.warnings.filter((w) => w.startsWith("versions.k3s:")),
      [],
    );
  });

  test("versions the charts' own sources refuse or cannot upgrade are config errors", async () => {
    const errorsOf = async (edit: (doc: Record<string, any>) => void) => {
      const doc = stackDoc();
      edit(doc);
      try {
        await planSystem(doc);
      } catch (e) {
        if (e instanceof ConfigError) return e.errors;
        throw e;
      }
      return [];
    };
    assert.deepEqual(
      await errorsOf((d) => {
        d["homelab:versions"] = { ...d["homelab:versions"], csiDriverNfs: "v4.12.0", kubePrometheusStack: "68.5.0" };
      }),
      [
        "versions.csiDriverNfs: the chart index spells v4.12.0 as 4.12.0 (only 4.10.0 and older carry a leading v); pin 4.12.0",
        "versions.kubePrometheusStack: 68.5.0 has no CRD upgrade job that can take over Helm's CRDs (crds.upgradeJob.forceConflicts, added in 69.1.0), so a chart bump would leave the operator on stale CRDs; pin 69.1.0 or newer",
      ],
    );
    // Old releases that the index does spell with a v are fine.
    assert.deepEqual(await errorsOf((d) => (d["homelab:versions"] = { ...d["homelab:versions"], csiDriverNfs: "v4.10.0" })), []);
  });
});
