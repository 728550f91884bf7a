// The system layer's pure rendering: Helm values, custom resources, the Traefik HelmChartConfig,
// the NFS StorageClass and the ingress convention, with exact outputs and schema validation against
// @kubernetes-models where a model exists.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { GPU_TAINT } from "../src/cluster/conventions";
import { GPU_TAINT_STRING } from "../src/cluster/nvidia";
import { CHARTS } from "../src/system/charts";
import { ingressAnnotations, ingressTls, renderIngress } from "../src/system/ingress";
import {
  acmeClusterIssuer,
  ipAddressPool,
  issuerName,
  l2Advertisement,
  lanOnlyMiddleware,
  nfsStorageClass,
  redirectHttpsMiddleware,
  traefikHelmChartConfig,
  wildcardCertificate,
} from "../src/system/manifests";
import { certManagerValues, longhornValues, mergeValues, metallbValues, monitoringValues, nfsValues, traefikValues, traefikValuesContent } from "../src/system/values";

const certManagerModels = () => import("@kubernetes-models/cert-manager/cert-manager.io/v1");
const storageModels = () => import("kubernetes-models/storage.k8s.io/v1");
const networkingModels = () => import("kubernetes-models/networking.k8s.io/v1");

describe("chart coordinates", () => {
  test("every chart comes from its upstream repository", () => {
    assert.deepEqual(CHARTS, {
      metallb: { repo: "https://metallb.github.io/metallb", chart: "metallb" },
      certManager: { repo: "https://charts.jetstack.io", chart: "cert-manager" },
      csiDriverNfs: { repo: "https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts", chart: "csi-driver-nfs" },
      longhorn: { repo: "https://charts.longhorn.io", chart: "longhorn" },
      democraticCsi: { repo: "https://democratic-csi.github.io/charts/", chart: "democratic-csi" },
      externalDns: { repo: "https://kubernetes-sigs.github.io/external-dns/", chart: "external-dns" },
      loki: { repo: "https://grafana-community.github.io/helm-charts", chart: "loki" },
      alloy: { repo: "https://grafana.github.io/helm-charts", chart: "alloy" },
      kubePrometheusStack: { repo: "https://prometheus-community.github.io/helm-charts", chart: "kube-prometheus-stack" },
    });
  });
});

describe("mergeValues", () => {
  test("merges maps key by key, replaces lists and scalars, leaves both inputs untouched", () => {
    const base = { a: { b: 1, c: [1, 2] }, d: "x" };
    const over = { a: { c: [3], e: true }, d: "y" };
    assert.deepEqual(mergeValues(base, over), { a: { b: 1, c: [3], e: true }, d: "y" });
    assert.deepEqual(base, { a: { b: 1, c: [1, 2] }, d: "x" });
    assert.deepEqual(over, { a: { c: [3], e: true }, d: "y" });
  });

  test("a map replaces a scalar and the other way round", () => {
    assert.deepEqual(mergeValues({ a: 1, b: { c: 1 } }, { a: { x: 1 }, b: 2 }), { a: { x: 1 }, b: 2 });
  });
});

describe("Helm values", () => {
  test("MetalLB runs layer 2 only (no BGP backend)", () => {
    assert.deepEqual(metallbValues(), { frrk8s: { enabled: false }, speaker: { frr: { enabled: false } } });
  });

  test("cert-manager installs and keeps its CRDs and checks DNS-01 through the configured resolvers only", () => {
    assert.deepEqual(certManagerValues({ recursiveNameservers: ["1.1.1.1:53", "9.9.9.9:53"] }), {
      crds: { enabled: true, keep: true },
      dns01RecursiveNameservers: "1.1.1.1:53,9.9.9.9:53",
      dns01RecursiveNameserversOnly: true,
    });
  });

  test("cert-manager without resolvers keeps its default self-check (never 'only' an empty list)", () => {
    assert.deepEqual(certManagerValues({ recursiveNameservers: [] }), { crds: { enabled: true, keep: true } });
  });

  test("csi-driver-nfs creates no StorageClass of its own", () => {
    assert.deepEqual(nfsValues(), { storageClass: { create: false } });
  });

  test("Longhorn: replicas from config, data on the metal layer's disk, local-path stays the default class", () => {
    assert.deepEqual(longhornValues({ replicas: 3, dataPath: "/var/lib/longhorn", allowUninstall: false }), {
      persistence: { defaultClass: false, defaultClassReplicaCount: 3 },
      defaultSettings: { defaultReplicaCount: "3", defaultDataPath: "/var/lib/longhorn" },
    });
  });

  test("Longhorn on a stack with GPU nodes tolerates their taint (manager, driver, system-managed components); uninstall only when allowed", () => {
    const toleration = { key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" };
    assert.deepEqual(longhornValues({ replicas: 2, dataPath: "/var/lib/longhorn", tolerateTaint: GPU_TAINT, allowUninstall: true }), {
      persistence: { defaultClass: false, defaultClassReplicaCount: 2 },
      defaultSettings: {
        defaultReplicaCount: "2",
        defaultDataPath: "/var/lib/longhorn",
        taintToleration: "nvidia.com/gpu=true:NoSchedule",
        deletingConfirmationFlag: true,
      },
      longhornManager: { tolerations: [toleration] },
      longhornDriver: { tolerations: [toleration] },
    });
    // The taint string is the one the GPU nodes register with.
    assert.deepEqual(longhornValues({ replicas: 2, dataPath: "/d", tolerateTaint: GPU_TAINT, allowUninstall: false }).defaultSettings, {
      defaultReplicaCount: "2",
      defaultDataPath: "/d",
      taintToleration: GPU_TAINT_STRING,
    });
  });

  const monitoring = (clusterIssuer: string | undefined) =>
    monitoringValues({
      retention: "15d",
      storageSize: 20,
      storageClass: "local-path",
      grafanaHost: "grafana.lab.example.com",
      grafanaAdminSecret: "grafana-admin",
      clusterIssuer,
    });

  test("kube-prometheus-stack: k3s scrape targets, retention and storage from config, Grafana behind the convention", () => {
    assert.deepEqual(monitoring("letsencrypt-staging"), {
      // CRDs upgraded on every chart bump, by the chart's own job, its busybox pinned.
      crds: { upgradeJob: { enabled: true, forceConflicts: true, image: { busybox: { tag: "1.37.0" } } } },
      kubeControllerManager: { enabled: false },
      kubeScheduler: { enabled: false },
      kubeProxy: { enabled: false },
      kubeEtcd: { enabled: false },
      prometheus: {
        prometheusSpec: {
          retention: "15d",
          storageSpec: {
            volumeClaimTemplate: {
              spec: { storageClassName: "local-path", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } } },
            },
          },
          serviceMonitorSelectorNilUsesHelmValues: false,
          podMonitorSelectorNilUsesHelmValues: false,
          ruleSelectorNilUsesHelmValues: false,
          probeSelectorNilUsesHelmValues: false,
        },
      },
      grafana: {
        admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
        ingress: {
          enabled: true,
          ingressClassName: "traefik",
          annotations: {
            "cert-manager.io/cluster-issuer": "letsencrypt-staging",
            "traefik.ingress.kubernetes.io/router.middlewares": "default-lan-only@kubernetescrd",
          },
          hosts: ["grafana.lab.example.com"],
          path: "/",
          tls: [{ hosts: ["grafana.lab.example.com"], secretName: "grafana-tls" }],
        },
      },
    });
  });

  test("Grafana's admin password is never a Helm value", () => {
    const grafana = monitoring("letsencrypt-prod").grafana as Record<string, unknown>;
    assert.equal("adminPassword" in grafana, false);
    assert.equal(JSON.stringify(monitoring("letsencrypt-prod")).toLowerCase().includes("adminpassword"), false);
  });

  test("Grafana without an issuer of its own (the wildcard, or no cert-manager): no issuer annotation, TLS with Traefik's default certificate", () => {
    const ingress = (monitoring(undefined).grafana as { ingress: Record<string, unknown> }).ingress;
    assert.deepEqual(ingress.annotations, { "traefik.ingress.kubernetes.io/router.middlewares": "default-lan-only@kubernetescrd" });
    assert.deepEqual(ingress.tls, [{ hosts: ["grafana.lab.example.com"] }]);
  });
});

describe("Traefik (k3s's bundled chart)", () => {
  const REDIRECT_ARGS = [
    "--entryPoints.web.http.redirections.entryPoint.to=:443",
    "--entryPoints.web.http.redirections.entryPoint.scheme=https",
    "--entryPoints.web.http.redirections.entryPoint.permanent=true",
  ];

  test("redirects HTTP to HTTPS on :443, pins the MetalLB address, keeps client IPs, serves the wildcard by default", () => {
    assert.deepEqual(traefikValues({ loadBalancerIp: "10.0.20.200", defaultCertificateSecret: "wildcard-tls" }), {
      additionalArguments: REDIRECT_ARGS,
      service: { annotations: { "metallb.io/loadBalancerIPs": "10.0.20.200" }, spec: { externalTrafficPolicy: "Local" } },
      tlsStore: { default: { defaultCertificate: { secretName: "wildcard-tls" } } },
    });
  });

  test("without a pinned address or a certificate the redirect stays and nothing else is set", () => {
    assert.deepEqual(traefikValues({}), { additionalArguments: REDIRECT_ARGS, service: { spec: { externalTrafficPolicy: "Local" } } });
  });

  test("the HelmChartConfig is named traefik in kube-system and carries the values as sorted YAML", () => {
    const args = { loadBalancerIp: "10.0.20.200", defaultCertificateSecret: "wildcard-tls" };
    const hcc = traefikHelmChartConfig(args);
    assert.deepEqual({ ...hcc, spec: {} }, { apiVersion: "helm.cattle.io/v1", kind: "HelmChartConfig", metadata: { name: "traefik", namespace: "kube-system" }, spec: {} });
    assert.equal(hcc.spec.valuesContent, traefikValuesContent(args));
    assert.equal(
      hcc.spec.valuesContent,
      [
        "additionalArguments:",
        "  - --entryPoints.web.http.redirections.entryPoint.to=:443",
        "  - --entryPoints.web.http.redirections.entryPoint.scheme=https",
        "  - --entryPoints.web.http.redirections.entryPoint.permanent=true",
        "service:",
        "  annotations:",
        "    metallb.io/loadBalancerIPs: 10.0.20.200",
        "  spec:",
        "    externalTrafficPolicy: Local",
        "tlsStore:",
        "  default:",
        "    defaultCertificate:",
        "      secretName: wildcard-tls",
        "",
      ].join("\n"),
    );
    assert.deepEqual(parse(hcc.spec.valuesContent), traefikValues(args));
  });

  test("the middlewares of the ingress convention", () => {
    assert.deepEqual(redirectHttpsMiddleware(), {
      apiVersion: "traefik.io/v1alpha1",
      kind: "Middleware",
      metadata: { name: "redirect-https", namespace: "default" },
      spec: { redirectScheme: { scheme: "https", permanent: true } },
    });
    assert.deepEqual(lanOnlyMiddleware(["10.0.0.0/16", "192.168.1.0/24"]), {
      apiVersion: "traefik.io/v1alpha1",
      kind: "Middleware",
      metadata: { name: "lan-only", namespace: "default" },
      spec: { ipAllowList: { sourceRange: ["10.0.0.0/16", "192.168.1.0/24"] } },
    });
  });
});

describe("MetalLB objects", () => {
  test("one pool with the configured range, announced in layer 2", () => {
    assert.deepEqual(ipAddressPool({ name: "default", namespace: "metallb-system", range: "10.0.20.200-10.0.20.220" }), {
      apiVersion: "metallb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name: "default", namespace: "metallb-system" },
      spec: { addresses: ["10.0.20.200-10.0.20.220"], autoAssign: true },
    });
    assert.deepEqual(l2Advertisement({ name: "default", namespace: "metallb-system", pool: "default" }), {
      apiVersion: "metallb.io/v1beta1",
      kind: "L2Advertisement",
      metadata: { name: "default", namespace: "metallb-system" },
      spec: { ipAddressPools: ["default"] },
    });
  });
});

describe("cert-manager objects", () => {
  test("issuer names are the conventions", () => {
    assert.equal(issuerName("staging"), "letsencrypt-staging");
    assert.equal(issuerName("production"), "letsencrypt-prod");
  });

  test("ACME ClusterIssuers: Let's Encrypt directory, account key, DNS-01 on Cloudflare with the token Secret", async () => {
    const { ClusterIssuer } = await certManagerModels();
    for (const [env, name, server] of [
      ["staging", "letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory"],
      ["production", "letsencrypt-prod", "https://acme-v02.api.letsencrypt.org/directory"],
    ] as const) {
      const issuer = acmeClusterIssuer({ env, email: "admin@example.com" });
      assert.deepEqual(issuer, {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name },
        spec: {
          acme: {
            email: "admin@example.com",
            server,
            privateKeySecretRef: { name: `${name}-account-key` },
            solvers: [{ dns01: { cloudflare: { apiTokenSecretRef: { name: "cloudflare-api-token", key: "api-token" } } } }],
          },
        },
      });
      new ClusterIssuer(issuer).validate();
    }
  });

  test("the wildcard Certificate covers *.<domain> and <domain> with the chosen issuer", async () => {
    const { Certificate } = await certManagerModels();
    const cert = wildcardCertificate({ name: "wildcard", namespace: "kube-system", domain: "lab.example.com", issuer: "letsencrypt-prod" });
    assert.deepEqual(cert, {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "wildcard", namespace: "kube-system" },
      spec: {
        secretName: "wildcard-tls",
        dnsNames: ["*.lab.example.com", "lab.example.com"],
        issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "letsencrypt-prod" },
      },
    });
    new Certificate(cert).validate();
  });

  test("the models catch a broken issuer (the validation can fail)", async () => {
    const { ClusterIssuer } = await certManagerModels();
    const issuer = acmeClusterIssuer({ env: "staging", email: "admin@example.com" });
    const broken = structuredClone(issuer) as { spec: { acme: { solvers: Array<Record<string, unknown>> } } };
    broken.spec.acme.solvers = [{ dns01: { cloudflare: { apiTokenSecretRef: { key: "api-token" } } } }];
    assert.throws(() => new ClusterIssuer(broken as never).validate(), /apiTokenSecretRef must have required property name/);
  });
});

describe("NFS StorageClass (seed 003)", () => {
  test("nfs-client on the CSI driver: {namespace}-{pvc-name} directories, kept on PVC deletion", async () => {
    const { StorageClass } = await storageModels();
    const sc = nfsStorageClass({ server: "10.0.20.10", share: "/volume1/k3s", mountOptions: ["nfsvers=4.1", "hard"] });
    assert.deepEqual(sc, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "nfs-client" },
      provisioner: "nfs.csi.k8s.io",
      parameters: { server: "10.0.20.10", share: "/volume1/k3s", subDir: "${pvc.metadata.namespace}-${pvc.metadata.name}", onDelete: "retain" },
      reclaimPolicy: "Delete",
      volumeBindingMode: "Immediate",
      // Growing a claim is an in-place update (the driver implements expansion).
      allowVolumeExpansion: true,
      mountOptions: ["nfsvers=4.1", "hard"],
    });
    new StorageClass(sc).validate();
  });
});

describe("ingress convention (seed 003)", () => {
  // The example Ingress of seed 003's "Ingress Convention", but for the redirect: Traefik's web entry
  // point redirects every request to HTTPS, so the seed's redirect-https middleware would only ever
  // see HTTPS requests (one mechanism, not two).
  const SEED_003 = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: my-app
  namespace: my-app
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt-prod
spec:
  ingressClassName: traefik
  tls:
    - hosts:
        - myapp.codeofficer.com
      secretName: my-app-tls
  rules:
    - host: myapp.codeofficer.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: my-app
                port:
                  number: 8080
`;
  const args = { name: "my-app", namespace: "my-app", host: "myapp.codeofficer.com", serviceName: "my-app", servicePort: 8080, clusterIssuer: "letsencrypt-prod" };

  test("renderIngress produces the seed's Ingress (a certificate of its own when given an issuer)", async () => {
    const ingress = renderIngress(args);
    assert.deepEqual(ingress, parse(SEED_003));
    const { Ingress } = await networkingModels();
    new Ingress(ingress).validate();
  });

  test("lanOnly adds the allow-list, the only middleware; a named port and a path are passed through", () => {
    const ingress = renderIngress({ ...args, lanOnly: true, servicePort: "http", path: "/api" });
    assert.equal(ingress.metadata.annotations?.["traefik.ingress.kubernetes.io/router.middlewares"], "default-lan-only@kubernetescrd");
    assert.deepEqual(ingress.spec.rules[0].http.paths[0], { path: "/api", pathType: "Prefix", backend: { service: { name: "my-app", port: { name: "http" } } } });
  });

  test("without an issuer (the wildcard serves it, or no cert-manager): no annotation, no TLS Secret nobody would write", async () => {
    assert.deepEqual(ingressAnnotations({ clusterIssuer: undefined }), {});
    assert.deepEqual(ingressTls({ name: "my-app", host: "myapp.codeofficer.com", clusterIssuer: undefined }), { hosts: ["myapp.codeofficer.com"] });
    const ingress = renderIngress({ ...args, clusterIssuer: undefined });
    assert.deepEqual(ingress.spec.tls, [{ hosts: ["myapp.codeofficer.com"] }]);
    assert.equal("annotations" in ingress.metadata, false);
    const { Ingress } = await networkingModels();
    new Ingress(ingress).validate();
  });
});
