// app-template's Service naming (src/apps/appTemplateNames.ts) against the chart's rule, read at
// bjw-s-labs/helm-charts tag common-4.1.1: templates/lib/common/_determineResourceNameFromValues.tpl
// (forceRename, prefix, `-<identifier>` when more than one Service is enabled or
// global.alwaysAppendIdentifierToResourceName, suffix), templates/lib/chart/_names.tpl (fullname),
// templates/lib/service/_enabled_services.tpl (what counts as enabled). Then every catalog
// Ingress against the Services its app's final values define (issue 18, A1).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { appTemplateBackend, appTemplateFullname, appTemplateServices } from "../src/apps/appTemplateNames";
import { CATALOG } from "../src/apps/catalog";
import { ConfigError } from "../src/config/loader";
import { planApps } from "./apps-harness";
import { ROOT, stackDoc, type Graph } from "./harness";

const one = { main: { controller: "main", ports: { http: { port: 80 } } } };
const two = { ...one, dns: { controller: "main", type: "LoadBalancer", ports: { "dns-udp": { port: 53, protocol: "UDP" } } } };
const names = (values: Record<string, unknown>, release = "pihole") => Object.fromEntries(appTemplateServices(values, release).map((s) => [s.identifier, s.name]));

describe("app-template Service names (common-4.1.1 _determineResourceNameFromValues.tpl)", () => {
  test("fullname: global.fullnameOverride, else fullnameOverride, else the release (it contains the chart name) or <release>-app-template", () => {
    assert.equal(appTemplateFullname({ global: { fullnameOverride: "pihole" } }, "x"), "pihole");
    assert.equal(appTemplateFullname({ fullnameOverride: "web" }, "x"), "web");
    assert.equal(appTemplateFullname({}, "my-app-template"), "my-app-template");
    assert.equal(appTemplateFullname({}, "pihole"), "pihole-app-template");
    assert.equal(appTemplateFullname({ global: { nameOverride: "dns" } }, "pihole"), "pihole-dns");
    assert.equal(appTemplateFullname({ global: { fullnameOverride: `${"a".repeat(62)}-b` } }, "x"), "a".repeat(62), "trunc 63, then trimSuffix -");
  });
  test("one enabled Service is <fullname>; more than one are <fullname>-<identifier>", () => {
    const g = { global: { fullnameOverride: "pihole" } };
    assert.deepEqual(names({ ...g, service: one }), { main: "pihole" });
    assert.deepEqual(names({ ...g, service: two }), { main: "pihole-main", dns: "pihole-dns" });
    assert.deepEqual(names({ ...g, service: { ...two, dns: { ...two.dns, enabled: false } } }), { main: "pihole" }, "a disabled Service does not count");
  });
  test("alwaysAppendIdentifierToResourceName, forceRename, prefix, suffix, an identifier already in the name, lower case", () => {
    assert.deepEqual(names({ global: { fullnameOverride: "pihole", alwaysAppendIdentifierToResourceName: true }, service: one }), { main: "pihole-main" });
    assert.deepEqual(names({ global: { fullnameOverride: "pihole" }, service: { ...two, main: { ...two.main, forceRename: "PiHole" } } }), { main: "pihole", dns: "pihole-dns" });
    assert.deepEqual(names({ global: { fullnameOverride: "pihole" }, service: { ...two, dns: { ...two.dns, prefix: "lan", suffix: "udp" } } }), {
      main: "pihole-main",
      dns: "lan-pihole-dns-udp",
    });
    assert.deepEqual(names({ global: { fullnameOverride: "pihole-dns" }, service: two }), { main: "pihole-dns-main", dns: "pihole-dns" });
    assert.throws(() => appTemplateServices({ service: { main: { ...one.main, forceRename: "{{ .Release.Name }}" } } }, "x"), {
      message: 'service.main.forceRename: "{{ .Release.Name }}" is a Helm template, which the plan cannot evaluate; write the name literally',
    });
  });
  test("a backend by identifier and port name; a missing one names the values key", () => {
    const values = { global: { fullnameOverride: "pihole" }, service: two };
    assert.deepEqual(appTemplateBackend(values, "pihole", { service: "main", port: "http" }), { service: "pihole-main", port: 80 });
    assert.throws(() => appTemplateBackend(values, "pihole", { service: "web", port: "http" }), {
      message: "service.web: no enabled Service with this identifier (enabled: main, dns); the ingress needs it",
    });
    assert.throws(() => appTemplateBackend(values, "pihole", { service: "main", port: "web" }), {
      message: "service.main.ports.web: no enabled port with this name (http); the ingress needs it",
    });
  });
});

/** The lab stack with every catalog app enabled (as test/apps.test.ts enables them). */
function allApps(edit: (apps: Record<string, any>) => void = () => {}): Record<string, any> {
  const c = stackDoc();
  const version = (a: string) => (a === "ollama" ? "1.24.0" : a === "home-assistant" ? "0.3.22" : a === "authentik" ? "2026.8.0" : "4.6.2");
  c["homelab:apps"] = Object.fromEntries([...CATALOG.keys()].map((a) => [a, { version: version(a), ...(a === "jupyter" ? { gpu: true } : {}) }]));
  edit(c["homelab:apps"]);
  return c;
}

let plan: Graph | undefined;
async function graph(): Promise<Graph> {
  plan ??= (await planApps(allApps())).graph;
  return plan;
}
const backendOf = (g: Graph, name: string) => {
  const spec = (g.get(name, "kubernetes:networking.k8s.io/v1:Ingress").inputs as any).spec;
  return spec.rules[0].http.paths[0].backend.service as { name: string; port: { number: number } };
};

describe("catalog Ingresses name Services their values define", () => {
  // Their own charts name their Services (Ollama's and Home Assistant's fullname, Authentik's
  // `<release>-server`), which no values key here defines; every other catalog app is app-template.
  const OWN_CHARTS = ["authentik", "home-assistant", "ollama"];

  test("every app-template Ingress (and MinIO's console) targets an enabled Service and port of the release's values", async () => {
    const g = await graph();
    const checked: string[] = [];
    for (const ingress of g.ofType("kubernetes:networking.k8s.io/v1:Ingress")) {
      const app = ingress.name.replace(/-(console-)?ingress$/, "");
      if (OWN_CHARTS.includes(app)) continue;
      const values = (g.get(`${app}-release`).inputs as any).spec.values;
      const services = appTemplateServices(values, app);
      const b = backendOf(g, ingress.name);
      const s = services.find((x) => x.name === b.name);
      assert.ok(s, `${ingress.name}: Service ${b.name} is one the values render (${services.map((x) => x.name).join(", ")})`);
      assert.ok(Object.values(s.ports).includes(b.port.number), `${ingress.name}: port ${b.port.number} is one of ${b.name}'s`);
      checked.push(ingress.name);
    }
    assert.equal(checked.length, [...CATALOG.keys()].length - OWN_CHARTS.length - ["postgresql", "redis"].length + 1, "every app-template app with a web UI, plus MinIO's console");
  });

  test("the catalog apps with more than one Service: Pi-hole's Ingress goes to pihole-main:80, not pihole (A1)", async () => {
    const g = await graph();
    const multi = [...CATALOG.keys()].filter((a) => !OWN_CHARTS.includes(a) && appTemplateServices((g.get(`${a}-release`).inputs as any).spec.values, a).length > 1);
    assert.deepEqual(multi, ["pihole"]);
    assert.deepEqual(backendOf(g, "pihole-ingress"), { name: "pihole-main", port: { number: 80 } });
    assert.deepEqual(
      appTemplateServices((g.get("pihole-release").inputs as any).spec.values, "pihole")
        .map((s) => [s.name, s.ports])
        .sort(),
      [
        ["pihole-dns", { "dns-tcp": 53, "dns-udp": 53 }],
        ["pihole-main", { http: 80 }],
      ],
    );
  });

  test("MinIO: the API and the console are ports of one Service, named minio", async () => {
    const g = await graph();
    assert.deepEqual(backendOf(g, "minio-ingress"), { name: "minio", port: { number: 9000 } });
    assert.deepEqual(backendOf(g, "minio-console-ingress"), { name: "minio", port: { number: 9001 } });
  });

  test("a stack's values that add a Service rename the backend; values that remove it are a config error", async () => {
    const added = (await planApps(allApps((a) => (a.n8n.values = { service: { metrics: { controller: "main", ports: { metrics: { port: 9090 } } } } })))).graph;
    assert.deepEqual(backendOf(added, "n8n-ingress"), { name: "n8n-main", port: { number: 5678 } });

    const errors = await planApps(allApps((a) => (a.n8n.values = { service: { main: { enabled: false } } }))).then(
      () => [],
      (e: unknown) => {
        if (e instanceof ConfigError) return e.errors;
        throw e;
      },
    );
    assert.deepEqual(errors, [
      'apps.n8n.values: service.main: no enabled Service with this identifier (none is enabled); the ingress needs it; restore it or set apps.n8n.host: "" (no ingress)',
    ]);
  });
});

test("the in-cluster Pi-hole URL the docs give external-dns is the catalog Pi-hole's web Service (C3)", async () => {
  const g = await graph();
  const url = `http://${backendOf(g, "pihole-ingress").name}.network.svc.cluster.local`;
  assert.equal(url, "http://pihole-main.network.svc.cluster.local");
  for (const file of ["src/config/externalDnsSchema.ts", "docs/config-reference.yaml", "apps/pihole/README.md"]) {
    const text = readFileSync(join(ROOT, file), "utf8");
    const named = [...text.matchAll(/http:\/\/([a-z0-9-]+)\.network\.svc\.cluster\.local/g)].map((m) => m[0]);
    assert.ok(named.length > 0, `${file} gives the in-cluster URL`);
    assert.deepEqual([...new Set(named)], [url], file);
  }
});
