// More wildcard domains and issuers (issue 11, item 2): the lab stack with a second domain signed by
// a generated root CA and a third on step-ca over HTTP-01, each app on the domain it names. Exact
// Certificates, ClusterIssuers, Secrets and their secret flags, Traefik's TLS store, ingress hosts
// and TLS per domain; the pure resolution and its messages; and day two: a second domain added to
// the lab stack and one app moved onto it.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { coveringDomain, domainChecks, issuerKind, stackDomains, usedIssuers } from "../src/config/domains";
import { SECRET_KEYS, stackSchema } from "../src/config/schema";
import { consoleHostOf } from "../src/apps/render";
import { CATALOG } from "../src/apps/catalog";
import { caClusterIssuer, externalAcmeClusterIssuer } from "../src/system/manifests";
import { traefikValues } from "../src/system/values";
import { EXTRA_CHECKS } from "../src/checks";
import { digest } from "../src/plan/recorder";
import { planConfig, stackDoc, validateDoc, type Graph } from "./harness";
import { scenario } from "./scenario";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBexampleStepCaRoot\n-----END CERTIFICATE-----\n";
const STEP = "https://ca.lab.example.com/acme/acme/directory";
const WAIT_READY = { "pulumi.com/waitFor": "condition=Ready" };
const LAN_ONLY = { "traefik.ingress.kubernetes.io/router.middlewares": "default-lan-only@kubernetescrd" };

/** The lab stack with domains lan (the internal root CA) and home (step-ca), apps on both. */
function multiDomainLab(): Record<string, any> {
  const doc = stackDoc();
  doc["homelab:domains"] = {
    lan: { name: "lan.lab.example.com", issuer: "internal" },
    home: { name: "home.example.org", issuer: "step", lanOnly: false },
  };
  doc["homelab:certManager"].issuers = {
    internal: { ca: { commonName: "Lab Root CA" } },
    step: { acme: { server: STEP, caBundle: PEM } },
  };
  doc["homelab:apps"]["home-assistant"].domain = "lan";
  doc["homelab:apps"].n8n.host = "automation.lan";
  doc["homelab:apps"].jupyter.domain = "home";
  return doc;
}

/** The plain `homelab:*` keys of a stack document, parsed by the schema. */
function parsed(doc: Record<string, any>) {
  return stackSchema.parse(
    Object.fromEntries(
      Object.entries(doc)
        .filter(([k]) => !(SECRET_KEYS as readonly string[]).includes(k.replace(/^homelab:/, "")))
        .map(([k, v]) => [k.replace(/^homelab:/, ""), v]),
    ),
  );
}

let planned: Promise<Graph> | undefined;
const multi = () => (planned ??= planConfig(multiDomainLab()));
const inputs = (g: Graph, name: string) => g.get(name).inputs as any;

describe("resolution (pure)", () => {
  const cfg = parsed(multiDomainLab());

  test("homelab:domain first with certManager.issuer, then homelab:domains by key", () => {
    assert.deepEqual(stackDomains(cfg), [
      { key: undefined, path: "domain", name: "lab.example.com", issuer: "staging", lanOnly: true },
      { key: "home", path: "domains.home", name: "home.example.org", issuer: "step", lanOnly: false },
      { key: "lan", path: "domains.lan", name: "lan.lab.example.com", issuer: "internal", lanOnly: true },
    ]);
    assert.deepEqual(usedIssuers(cfg), [
      { name: "internal", kind: "ca" },
      { name: "staging", kind: "letsencrypt" },
      { name: "step", kind: "acme-http01" },
    ]);
    assert.equal(issuerKind({ s: { acme: { server: STEP, caBundle: PEM, solver: "cloudflare" } } }, "s"), "acme-cloudflare");
    assert.equal(issuerKind({}, "nope"), undefined);
  });

  test("a wildcard covers exactly one label: n8n.lan under the lab domain is on lan.lab.example.com", () => {
    const domains = stackDomains(cfg);
    assert.equal(coveringDomain(domains, "automation.lan.lab.example.com")?.key, "lan");
    assert.equal(coveringDomain(domains, "n8n.lab.example.com")?.key, undefined);
    assert.equal(coveringDomain(domains, "n8n.lab.example.com")?.name, "lab.example.com");
    assert.equal(coveringDomain(domains, "a.b.lab.example.com"), undefined);
  });

  test("a console host keeps the first label's -console suffix under several labels", () => {
    const minio = CATALOG.get("minio")!;
    assert.equal(consoleHostOf(minio, undefined, "lab.example.com"), "minio-console.lab.example.com");
    assert.equal(consoleHostOf(minio, "s3.lan", "lab.example.com"), "s3-console.lan.lab.example.com");
  });

  test("every problem of domains and issuers at once, each with its fix", () => {
    const bad = parsed({
      ...stackDoc(),
      "homelab:domains": { a: { name: "lab.example.com" }, b: { name: "b.example.com", issuer: "vault" } },
      "homelab:cluster": { traefik: false },
      "homelab:certManager": {
        enabled: true,
        email: "a@example.com",
        issuer: "nope",
        issuers: { "letsencrypt-prod": { ca: {} }, x: {}, y: { acme: { server: STEP, caBundle: PEM } } },
      },
    });
    assert.deepEqual(domainChecks(bad), [
      "certManager.issuers.letsencrypt-prod: letsencrypt-prod is the name of a built-in Let's Encrypt issuer; choose another name, such as internal",
      "certManager.issuers.x: sets neither ca and acme; set exactly one (ca: a root the program generates, acme: an external ACME server such as step-ca)",
      "certManager.issuers.y.acme.solver: http01 answers challenges through Traefik, but cluster.traefik is false; set solver: cloudflare or cluster.traefik: true",
      "certManager.issuer: 'nope' is not an issuer of this stack; use one of staging, production, letsencrypt-prod, x, y, or declare it under certManager.issuers",
      "domains.a.name: lab.example.com is also homelab:domain; declare each domain once",
      "domains.b.issuer: 'vault' is not an issuer of this stack; use one of staging, production, letsencrypt-prod, x, y, or declare it under certManager.issuers",
    ]);
  });

  test("the issuers' manifests validate against cert-manager's schema", async () => {
    const { ClusterIssuer } = await import("@kubernetes-models/cert-manager/cert-manager.io/v1");
    new ClusterIssuer(caClusterIssuer({ name: "internal" })).validate();
    new ClusterIssuer(externalAcmeClusterIssuer({ name: "step", server: STEP, caBundle: PEM, solver: "cloudflare" })).validate();
    assert.deepEqual(externalAcmeClusterIssuer({ name: "step", server: STEP, caBundle: PEM, email: "ops@example.com", solver: "cloudflare" }).spec.acme, {
      email: "ops@example.com",
      server: STEP,
      caBundle: Buffer.from(PEM).toString("base64"),
      privateKeySecretRef: { name: "step-account-key" },
      solvers: [{ dns01: { cloudflare: { apiTokenSecretRef: { name: "cloudflare-api-token", key: "api-token" } } } }],
    });
  });

  test("Traefik's default TLS store: the default certificate, the other wildcards by SNI; one domain renders as before", () => {
    assert.deepEqual(traefikValues({ defaultCertificateSecret: "wildcard-tls", certificateSecrets: ["wildcard-lan-tls"] }).tlsStore, {
      default: { certificates: [{ secretName: "wildcard-lan-tls" }], defaultCertificate: { secretName: "wildcard-tls" } },
    });
    assert.deepEqual(traefikValues({ defaultCertificateSecret: "wildcard-tls", certificateSecrets: [] }), traefikValues({ defaultCertificateSecret: "wildcard-tls" }));
    assert.equal(traefikValues({}).tlsStore, undefined);
  });
});

describe("the lab stack with an internal CA domain and a step-ca domain", () => {
  test("the generated root: an ECDSA key and a 10-year CA certificate, both protected, the key secret", async () => {
    const g = await multi();
    const key = g.get("cert-manager-internal-key");
    assert.equal(key.type, "tls:index/privateKey:PrivateKey");
    assert.deepEqual(key.inputs, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    assert.equal(key.protect, true);
    assert.deepEqual(key.additionalSecretOutputs.sort(), ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"]);
    const root = g.get("cert-manager-internal-root");
    assert.equal(root.type, "tls:index/selfSignedCert:SelfSignedCert");
    assert.equal(root.protect, true);
    assert.deepEqual(root.secretPaths, ["privateKeyPem"]);
    const { privateKeyPem, ...rest } = root.inputs as any;
    assert.match(String(privateKeyPem), /secret/i);
    assert.deepEqual(rest, {
      isCaCertificate: true,
      subject: { commonName: "Lab Root CA" },
      validityPeriodHours: 87600,
      allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
      setSubjectKeyId: true,
    });
    assert.equal(g.get("cert-manager-internal").type, "homelab:system:InternalCa");
  });

  test("the CA's key pair in a kubernetes.io/tls Secret built inside a secret, read by a CA ClusterIssuer", async () => {
    const g = await multi();
    const secret = g.get("cert-manager-internal-secret");
    assert.deepEqual(secret.secretPaths, ["stringData"]);
    assert.deepEqual(
      { ...(secret.inputs as any), stringData: undefined },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "internal-ca", namespace: "cert-manager" },
        type: "kubernetes.io/tls",
        stringData: undefined,
      },
    );
    assert.deepEqual(Object.keys((secret.rawInputs as any).stringData).sort(), ["tls.crt", "tls.key"]);
    assert.deepEqual(inputs(g, "cert-manager-internal-issuer"), {
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: "internal", annotations: WAIT_READY },
      spec: { ca: { secretName: "internal-ca" } },
    });
    assert.deepEqual(g.depNames("cert-manager-internal-issuer"), ["cert-manager-internal-secret", "cert-manager-namespace", "cert-manager-release"]);
  });

  test("step-ca as an ACME ClusterIssuer: its root as caBundle, HTTP-01 through a TLS router of Traefik", async () => {
    const g = await multi();
    assert.deepEqual(inputs(g, "cert-manager-step"), {
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: "step", annotations: WAIT_READY },
      spec: {
        acme: {
          server: STEP,
          caBundle: Buffer.from(PEM).toString("base64"),
          privateKeySecretRef: { name: "step-account-key" },
          solvers: [
            {
              http01: {
                ingress: {
                  ingressClassName: "traefik",
                  ingressTemplate: {
                    metadata: { annotations: { "traefik.ingress.kubernetes.io/router.entrypoints": "websecure", "traefik.ingress.kubernetes.io/router.tls": "true" } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    assert.deepEqual(g.depNames("cert-manager-step"), ["cert-manager-release"]);
  });

  test("a wildcard per domain that can have one (step-ca over HTTP-01 cannot), each from its issuer", async () => {
    const g = await multi();
    assert.deepEqual(
      g.ofType("kubernetes:cert-manager.io/v1:Certificate").map((r) => r.name),
      ["cert-manager-wildcard", "cert-manager-wildcard-lan"],
    );
    assert.deepEqual(inputs(g, "cert-manager-wildcard-lan"), {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "wildcard-lan", namespace: "kube-system", annotations: { ...WAIT_READY, "pulumi.com/timeoutSeconds": "900" } },
      spec: {
        secretName: "wildcard-lan-tls",
        dnsNames: ["*.lan.lab.example.com", "lan.lab.example.com"],
        issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "internal" },
      },
    });
    assert.deepEqual(g.depNames("cert-manager-wildcard-lan"), ["cert-manager-internal-issuer", "cert-manager-release"]);
    assert.equal(inputs(g, "cert-manager-wildcard").spec.secretName, "wildcard-tls");
    assert.deepEqual(
      g
        .ofType("kubernetes:cert-manager.io/v1:ClusterIssuer")
        .map((r) => inputs(g, r.name).metadata.name)
        .sort(),
      ["internal", "letsencrypt-prod", "letsencrypt-staging", "step"],
    );
  });

  test("Traefik serves both wildcards from its default store and waits for both", async () => {
    const g = await multi();
    assert.match(
      inputs(g, "traefik-config").spec.valuesContent,
      /tlsStore:\n  default:\n    certificates:\n      - secretName: wildcard-lan-tls\n    defaultCertificate:\n      secretName: wildcard-tls\n/,
    );
    assert.ok(g.depNames("traefik-config").includes("cert-manager-wildcard"));
    assert.ok(g.depNames("traefik-config").includes("cert-manager-wildcard-lan"));
  });

  test("ingresses per domain: the wildcards serve lan and lab; step-ca's domain orders a certificate per ingress and is public by default", async () => {
    const g = await multi();
    const ingress = (name: string) => ({ annotations: inputs(g, name).metadata.annotations, host: inputs(g, name).spec.rules[0].host, tls: inputs(g, name).spec.tls });
    assert.deepEqual(ingress("home-assistant-ingress"), {
      annotations: LAN_ONLY,
      host: "home-assistant.lan.lab.example.com",
      tls: [{ hosts: ["home-assistant.lan.lab.example.com"] }],
    });
    assert.deepEqual(ingress("n8n-ingress"), { annotations: LAN_ONLY, host: "automation.lan.lab.example.com", tls: [{ hosts: ["automation.lan.lab.example.com"] }] });
    assert.deepEqual(ingress("ollama-ingress"), { annotations: LAN_ONLY, host: "ollama.lab.example.com", tls: [{ hosts: ["ollama.lab.example.com"] }] });
    assert.deepEqual(ingress("jupyter-ingress"), {
      annotations: { "cert-manager.io/cluster-issuer": "step" },
      host: "jupyter.home.example.org",
      tls: [{ hosts: ["jupyter.home.example.org"], secretName: "jupyter-tls" }],
    });
  });

  test("the root certificate is a stack output, public; no output and no plain input holds the key", async () => {
    const g = await multi();
    // The plan's stand-in for the provider's certPem (src/plan/recorder.ts), unmasked: not a secret.
    assert.deepEqual(g.result.outputs.caCertificates, { internal: `-----BEGIN CERTIFICATE-----\nplan-${digest("cert-manager-internal-root")}\n-----END CERTIFICATE-----\n` });
    assert.equal(g.result.outputs.clusterIssuer, "letsencrypt-staging");
    assert.doesNotMatch(JSON.stringify(g.result.outputs), /PRIVATE KEY/);
    for (const r of g.resources) assert.doesNotMatch(JSON.stringify(r.inputs), /PRIVATE KEY/, `${r.name} holds the key in plain`);
  });

  test("a stack on the internal CA alone: no Let's Encrypt issuers, no Cloudflare token, no e-mail needed", async () => {
    const doc = stackDoc();
    delete doc["homelab:cloudflareApiToken"];
    doc["homelab:certManager"] = { enabled: true, issuer: "internal", issuers: { internal: { ca: {} } } };
    const g = await planConfig(doc);
    assert.deepEqual(
      g.resources
        .filter((r) => r.name.startsWith("cert-manager-") && r.type !== "pulumi:providers:kubernetes")
        .map((r) => r.name)
        .sort(),
      [
        "cert-manager-internal",
        "cert-manager-internal-issuer",
        "cert-manager-internal-key",
        "cert-manager-internal-root",
        "cert-manager-internal-secret",
        "cert-manager-namespace",
        "cert-manager-release",
        "cert-manager-wildcard",
      ],
    );
    assert.equal(inputs(g, "cert-manager-internal-root").subject.commonName, "Homelab Root CA");
    assert.equal(inputs(g, "cert-manager-wildcard").spec.issuerRef.name, "internal");
    assert.equal(g.result.outputs.clusterIssuer, "internal");
  });
});

describe("day two: a second domain added to the lab stack, one app moved onto it", () => {
  test("creates the wildcard, updates Traefik's store and the app's ingress in place; nothing replaced or deleted", async () => {
    const d = await scenario("Pulumi.lab.yaml", (doc) => {
      doc.config["homelab:domains"] = { lan: { name: "lan.lab.example.com" } };
      doc.config["homelab:apps"]["home-assistant"].domain = "lan";
    });
    assert.deepEqual(Object.fromEntries(d.changes.filter((c) => c.op !== "same").map((c) => [c.name, c.op])), {
      "cert-manager-wildcard-lan": "create",
      "traefik-config": "update",
      "home-assistant-ingress": "update",
    });
    assert.deepEqual(d.summary.replace, 0);
    assert.deepEqual(d.summary.delete, 0);
    assert.deepEqual(d.blockers, []);
    const ingress = d.changes.find((c) => c.name === "home-assistant-ingress")!;
    assert.deepEqual(
      ingress.properties.map((p) => [p.path, p.old, p.new, p.forcesReplacement]),
      [
        ["spec.rules[0].host", "home-assistant.lab.example.com", "home-assistant.lan.lab.example.com", false],
        ["spec.tls[0].hosts[0]", "home-assistant.lab.example.com", "home-assistant.lan.lab.example.com", false],
      ],
    );
  });
});

describe("day two: the lab's domain moved from Let's Encrypt to a generated root CA", () => {
  test("creates the CA and its issuer, re-points the wildcard in place; Let's Encrypt's issuers and the token stay", async () => {
    const d = await scenario("Pulumi.lab.yaml", (doc) => {
      doc.config["homelab:certManager"].issuer = "internal";
      doc.config["homelab:certManager"].issuers = { internal: { ca: {} } };
    });
    assert.deepEqual(Object.fromEntries(d.changes.filter((c) => c.op !== "same").map((c) => [c.name, c.op])), {
      "cert-manager-internal": "create",
      "cert-manager-internal-key": "create",
      "cert-manager-internal-root": "create",
      "cert-manager-internal-secret": "create",
      "cert-manager-internal-issuer": "create",
      "cert-manager-wildcard": "update",
    });
    const wildcard = d.changes.find((c) => c.name === "cert-manager-wildcard")!;
    assert.deepEqual(
      wildcard.properties.map((p) => [p.path, p.old, p.new, p.forcesReplacement]),
      [["spec.issuerRef.name", "letsencrypt-staging", "internal", false]],
    );
    assert.deepEqual(d.blockers, []);
  });
});

describe("app checks per domain (exact messages, all at once)", () => {
  const validate = (edit: (doc: Record<string, any>) => void, file?: string) => {
    const doc = stackDoc(file);
    edit(doc);
    return validateDoc(doc, { extraChecks: EXTRA_CHECKS });
  };

  test("an unknown domain names the declared ones; a domain on an app without a web interface; a host no wildcard covers", () => {
    const r = validate((d) => {
      d["homelab:domains"] = { lan: { name: "lan.lab.example.com" }, iot: { name: "iot.example.org" } };
      d["homelab:apps"].n8n.domain = "home";
      d["homelab:apps"].postgresql.domain = "lan";
      d["homelab:apps"].ollama.host = "llm.ai";
      d["homelab:apps"].jupyter.domain = "lan";
      d["homelab:apps"].jupyter.host = "notebooks.lan";
    });
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.errors.filter((e) => e.startsWith("apps.")), [
      "apps.postgresql.domain: postgresql has no web interface to publish; remove domain",
      "apps.n8n.domain: 'home' is not declared under homelab:domains; use one of iot, lan, or remove it for homelab:domain (lab.example.com)",
      "apps.ollama.host: llm.ai.lab.example.com is not covered by a wildcard certificate (each covers one label: *.lab.example.com, *.iot.example.org, *.lan.lab.example.com); use a single label, or declare ai.lab.example.com under homelab:domains",
      "apps.jupyter.host: notebooks.lan.lan.lab.example.com is not covered by a wildcard certificate (each covers one label: *.lab.example.com, *.iot.example.org, *.lan.lab.example.com); use a single label, or declare lan.lan.lab.example.com under homelab:domains",
    ]);
  });

  test("a stack on Let's Encrypt still needs the e-mail; one on a generated CA alone needs neither e-mail nor token", () => {
    const r = validate((d) => delete d["homelab:certManager"].email);
    assert.deepEqual(r.ok ? [] : r.errors, ["certManager.email: is required because certManager.enabled is true; set the ACME account e-mail"]);
    const ca = validate((d) => (d["homelab:certManager"] = { enabled: true, issuer: "internal", issuers: { internal: { ca: {} } } }));
    assert.equal(ca.ok, true, ca.ok ? "" : ca.errors.join("\n"));
  });

  test("the LAN warning counts an app on a public domain (domains.<key>.lanOnly: false) as public", () => {
    const lanWarning = (r: ReturnType<typeof validate>) => r.warnings.filter((w) => w.startsWith("traefik.lanAllowlist:"));
    const base = (d: Record<string, any>) => {
      delete d["homelab:traefik"].lanAllowlist;
      d["homelab:domains"].public = { name: "example.org", lanOnly: false };
    };
    const onLan = validate(base, "stacks/seed-004-overkill.yaml");
    assert.equal(onLan.ok, true, onLan.ok ? "" : onLan.errors.join("\n"));
    assert.equal(lanWarning(onLan).length, 1, "authentik is LAN-only on lan");
    assert.deepEqual(lanWarning(validate((d) => (base(d), (d["homelab:apps"].authentik.domain = "public")), "stacks/seed-004-overkill.yaml")), []);
  });
});
