// Authentik's forward auth (seed 004): the Middleware beside Authentik, the opt-in per app on its
// ingresses (after lan-only), and the checks.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError } from "../src/config/loader";
import { ingressAnnotations } from "../src/system/ingress";
import { renderForwardAuthMiddleware } from "../src/apps/forwardAuth";
import { planConfig, ROOT, stackDoc, type Graph } from "./harness";

const HEADERS = [
  "X-authentik-username",
  "X-authentik-groups",
  "X-authentik-entitlements",
  "X-authentik-email",
  "X-authentik-name",
  "X-authentik-uid",
  "X-authentik-jwt",
  "X-authentik-meta-jwks",
  "X-authentik-meta-outpost",
  "X-authentik-meta-provider",
  "X-authentik-meta-app",
  "X-authentik-meta-version",
];

/** The lab with Authentik (in a namespace of its own choosing) and apps that opt in or not. */
function lab(edit: (apps: Record<string, any>, c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c = stackDoc();
  c["homelab:apps"] = {
    authentik: { version: "2026.8.0", namespace: "identity" },
    n8n: { version: "4.6.2", auth: "authentik" },
    minio: { version: "5.4.0", auth: "authentik", lanOnly: false },
    "home-assistant": { version: "0.3.22" },
  };
  edit(c["homelab:apps"], c);
  return c;
}

async function errorsOf(config: Record<string, any>): Promise<string[]> {
  try {
    await planConfig(config);
  } catch (e) {
    if (e instanceof ConfigError) return e.errors;
    throw e;
  }
  return [];
}

describe("Authentik forward auth", () => {
  let plan: Graph | undefined;
  const planned = async () => (plan ??= await planConfig(lab()));

  test("one Middleware in Authentik's namespace, asking the embedded outpost", async () => {
    const g = await planned();
    const m = g.get("authentik-forward-auth");
    assert.equal(m.type, "kubernetes:traefik.io/v1alpha1:Middleware");
    assert.deepEqual(m.inputs, {
      apiVersion: "traefik.io/v1alpha1",
      kind: "Middleware",
      metadata: { name: "authentik-forward-auth", namespace: "identity" },
      spec: {
        forwardAuth: {
          address: "http://authentik-server.identity.svc.cluster.local/outpost.goauthentik.io/auth/traefik",
          trustForwardHeader: true,
          authResponseHeaders: HEADERS,
        },
      },
    });
    assert.ok(g.depNames("authentik-forward-auth").includes("namespace-identity"));
    assert.ok(g.depNames("authentik-forward-auth").includes("traefik-lan-only"), "after Traefik's CRDs and middlewares");
  });

  test("apps that opt in: lan-only first, then the forward auth, on every ingress of the app; others unchanged", async () => {
    const g = await planned();
    const middlewares = (name: string) =>
      (g.get(name, "kubernetes:networking.k8s.io/v1:Ingress").inputs as any).metadata.annotations?.["traefik.ingress.kubernetes.io/router.middlewares"];
    assert.equal(middlewares("n8n-ingress"), "default-lan-only@kubernetescrd,identity-authentik-forward-auth@kubernetescrd");
    assert.equal(middlewares("minio-ingress"), "identity-authentik-forward-auth@kubernetescrd");
    assert.equal(middlewares("minio-console-ingress"), "identity-authentik-forward-auth@kubernetescrd");
    assert.equal(middlewares("home-assistant-ingress"), "default-lan-only@kubernetescrd");
    assert.equal(middlewares("authentik-ingress"), "default-lan-only@kubernetescrd");
    for (const ingress of ["n8n-ingress", "minio-ingress", "minio-console-ingress"]) assert.ok(g.depNames(ingress).includes("authentik-forward-auth"), ingress);
    assert.ok(!g.depNames("home-assistant-ingress").includes("authentik-forward-auth"));
    assert.deepEqual(ingressAnnotations({ clusterIssuer: undefined, lanOnly: false }), {});
  });

  test("without Authentik nothing is added", async () => {
    const g = await planConfig(stackDoc());
    assert.equal(g.has("authentik-forward-auth"), false);
  });

  test("checks: Authentik must run, the app needs an ingress, Authentik cannot protect itself", async () => {
    assert.deepEqual(
      await errorsOf(
        lab((apps) => {
          delete apps.authentik;
          apps["home-assistant"].host = "";
          apps["home-assistant"].auth = "authentik";
          apps.redis = { version: "20.13.4", auth: "authentik" };
        }),
      ),
      [
        "apps.n8n.auth: authentik needs the Authentik app, and apps.authentik is not enabled; add apps.authentik (with its version) or remove apps.n8n.auth",
        "apps.minio.auth: authentik needs the Authentik app, and apps.authentik is not enabled; add apps.authentik (with its version) or remove apps.minio.auth",
        "apps.home-assistant.auth: authentik needs the Authentik app, and apps.authentik is not enabled; add apps.authentik (with its version) or remove apps.home-assistant.auth",
        "apps.home-assistant.auth: home-assistant has no ingress for the forward auth to protect; remove auth",
        "apps.redis.auth: authentik needs the Authentik app, and apps.authentik is not enabled; add apps.authentik (with its version) or remove apps.redis.auth",
        "apps.redis.auth: redis has no ingress for the forward auth to protect; remove auth",
      ],
    );
    assert.deepEqual(
      await errorsOf(
        lab((apps) => {
          apps.authentik.auth = "authentik";
          apps.n8n.auth = "keycloak";
        }),
      ),
      [
        'apps.n8n.auth: "keycloak" is not allowed; use one of "authentik"',
        "apps.authentik.auth: Authentik's own login page cannot sit behind its forward auth (every request would redirect to itself); remove auth",
      ],
    );
  });
});

describe("the steps inside Authentik (audit row C1)", () => {
  // The program makes the Middleware; the outpost lets a request through only for a host it has a
  // proxy provider for: provider (forward auth, single application), application, the embedded
  // outpost's binding and its authentik_host. Before the fix the README named three of the four
  // and apps/authentik/README.md none.
  const doc = readFileSync(join(ROOT, "apps", "authentik", "README.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Forward auth (`apps.<name>.auth: authentik`)"));

  test("apps/authentik/README.md gives the four steps and the Middleware's real address", () => {
    assert.ok(section.startsWith("## Forward auth"), "the section exists");
    const steps = [...section.matchAll(/^\d\. \*\*([^*]+)\*\*/gm)].map((m) => m[1]);
    assert.deepEqual(steps, ["Proxy provider.", "Application.", "Outpost binding.", "`authentik_host`."]);
    assert.match(section, /\*\*Forward auth \(single application\)\*\*/);
    const address = (renderForwardAuthMiddleware({ name: "authentik-forward-auth", namespace: "NS" }).spec.forwardAuth.address as string).replace("NS", "<namespace>");
    assert.ok(section.includes(`\`${address}\``), address);
  });

  test("the main README's sign-in paragraph links the steps and names authentik_host", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const para = readme.slice(readme.indexOf("- **Sign-in through Authentik**"), readme.indexOf("- **Logs**"));
    assert.match(para, /authentik_host/);
    assert.match(para, /\(apps\/authentik\/README\.md#forward-auth-appsnameauth-authentik\)/);
  });
});
