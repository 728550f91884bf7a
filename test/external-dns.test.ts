// external-dns (externalDns, seed 004): a release publishing the ingress hosts to Cloudflare or
// Pi-hole, the credential in a secret Secret read as env (never a Helm value), and the checks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../src/config/loader";
import { planConfig, stackDoc, type Graph } from "./harness";

/** The lab with external-dns: Cloudflare (the token cert-manager already uses) by default. */
function lab(externalDns: Record<string, unknown>, edit: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c = stackDoc();
  c["homelab:externalDns"] = externalDns;
  c["homelab:versions"].externalDns = "1.21.1";
  edit(c);
  return c;
}
/** A Cloudflare zone ID (32 hex): the lab's domain lab.example.com lies in the zone example.com. */
const ZONE = "0123456789abcdef0123456789abcdef";
const CLOUDFLARE = { enabled: true, provider: "cloudflare", zoneIds: [ZONE] };
const PIHOLE = { enabled: true, provider: "pihole", pihole: { server: "http://192.168.1.6" } };
const withPiholePassword = (c: Record<string, any>) => (c["homelab:piholePassword"] = { secure: "v1:placeholder:pihole" });

async function errorsOf(config: Record<string, any>): Promise<string[]> {
  try {
    await planConfig(config);
  } catch (e) {
    if (e instanceof ConfigError) return e.errors;
    throw e;
  }
  return [];
}

const CREDENTIAL_ENV = (name: string) => ({ name, valueFrom: { secretKeyRef: { name: "external-dns-credentials", key: "credential" } } });

describe("external-dns", () => {
  let cloudflare: Graph | undefined;
  const planned = async () => (cloudflare ??= await planConfig(lab(CLOUDFLARE)));

  test("Cloudflare: the token in a secret Secret, the TXT registry owned by the stack, upsert-only on the domain", async () => {
    const g = await planned();
    assert.equal(g.get("external-dns").type, "homelab:platform:ExternalDns");
    assert.deepEqual((g.get("external-dns-namespace").inputs as any).metadata, { name: "external-dns" });
    const secret = g.get("external-dns-credentials");
    assert.equal(secret.type, "kubernetes:core/v1:Secret");
    assert.deepEqual(secret.secretPaths, ["stringData"]);
    assert.deepEqual((secret.inputs as any).metadata, { name: "external-dns-credentials", namespace: "external-dns" });
    const token = (secret.rawInputs.stringData as Record<string, string>).credential;
    assert.equal(typeof token, "string");
    const rel = g.get("external-dns-release");
    const inputs = rel.inputs as any;
    assert.deepEqual(
      { chart: inputs.chart, version: inputs.version, repo: inputs.repositoryOpts.repo, name: inputs.name, namespace: inputs.namespace, atomic: inputs.atomic },
      { chart: "external-dns", version: "1.21.1", repo: "https://kubernetes-sigs.github.io/external-dns/", name: "external-dns", namespace: "external-dns", atomic: true },
    );
    assert.deepEqual(inputs.values, {
      domainFilters: ["lab.example.com"],
      env: [CREDENTIAL_ENV("CF_API_TOKEN")],
      // The zone by ID: Cloudflare's zone list is filtered by domainFilters, and lab.example.com
      // does not match the zone example.com (external-dns endpoint/domain_filter.go, v0.21.0).
      extraArgs: { "zone-id-filter": [ZONE] },
      fullnameOverride: "external-dns",
      interval: "1m",
      policy: "upsert-only",
      provider: { name: "cloudflare" },
      registry: "txt",
      sources: ["ingress"],
      txtOwnerId: "homelab-test",
    });
    assert.ok(!JSON.stringify(rel.rawInputs).includes(token), "the token is never a Helm value");
    assert.deepEqual(
      g.depNames("external-dns-release").filter((n) => n.startsWith("external-dns")),
      ["external-dns-credentials", "external-dns-namespace"],
    );
    // After the cluster is ready (what every system release waits for), never before.
    assert.deepEqual(g.depNames("external-dns-namespace"), ["k3s-kubeconfig"]);
  });

  test("Pi-hole v6 in-tree: the password as env, registry noop, the server and API version as arguments", async () => {
    const g = await planConfig(
      lab({ ...PIHOLE, sources: ["service", "ingress"], pihole: { server: "https://192.168.1.6", tlsSkipVerify: true } }, (c) => {
        withPiholePassword(c);
        c["homelab:domains"] = { home: { name: "home.example.org" } };
      }),
    );
    const secret = g.get("external-dns-credentials");
    assert.deepEqual(secret.secretPaths, ["stringData"]);
    const password = (secret.rawInputs.stringData as Record<string, string>).credential;
    const rel = g.get("external-dns-release");
    assert.deepEqual((rel.inputs as any).values, {
      domainFilters: ["lab.example.com", "home.example.org"],
      env: [CREDENTIAL_ENV("EXTERNAL_DNS_PIHOLE_PASSWORD")],
      extraArgs: { "pihole-api-version": "6", "pihole-server": "https://192.168.1.6", "pihole-tls-skip-verify": true },
      fullnameOverride: "external-dns",
      interval: "1m",
      policy: "upsert-only",
      provider: { name: "pihole" },
      registry: "noop",
      sources: ["ingress", "service"],
    });
    assert.ok(!JSON.stringify(rel.rawInputs).includes(password), "the password is never a Helm value");
  });

  test("off: nothing of it is planned", async () => {
    const g = await planConfig(stackDoc());
    assert.equal(g.resources.filter((r) => r.name.startsWith("external-dns")).length, 0);
  });

  test("checks: provider, its settings, the secrets, Pi-hole's policy, one owner per Cloudflare name", async () => {
    assert.deepEqual(
      await errorsOf(
        lab({ enabled: true }, (c) => {
          delete c["homelab:versions"].externalDns;
        }),
      ),
      [
        "externalDns.provider: is required when externalDns.enabled is true; set cloudflare or pihole",
        "versions.externalDns: is required because externalDns.enabled is true; pin the external-dns chart version, e.g. 1.21.1",
      ],
    );
    assert.deepEqual(await errorsOf(lab({ enabled: true, provider: "pihole", policy: "sync", txtOwnerId: "me" })), [
      "externalDns.pihole.server: is required because externalDns.provider is pihole; set Pi-hole's web URL such as http://192.168.1.6",
      "externalDns.txtOwnerId: Pi-hole keeps no TXT ownership records (external-dns runs with registry noop there); remove it",
      "externalDns.policy: sync deletes every record external-dns does not find in the cluster, and Pi-hole has no ownership records to limit that to its own, so hand-made Local DNS records would go; use upsert-only (the default)",
      "piholePassword: is required because externalDns.provider is pihole (Pi-hole's API login); run `pulumi config set --secret homelab:piholePassword ...`",
    ]);
    assert.deepEqual(
      await errorsOf(
        lab({ ...CLOUDFLARE, pihole: { server: "http://192.168.1.6" } }, (c) => {
          c["homelab:dns"] = { enabled: true, zoneId: "0123456789abcdef0123456789abcdef" };
          c["homelab:traefik"] = { loadBalancerIp: "10.0.20.200" };
        }),
      ),
      [
        "externalDns.pihole: is set but externalDns.provider is cloudflare; remove it or set provider: pihole",
        "externalDns.provider: cloudflare would publish the hosts under lab.example.com, which dns.enabled already publishes through Pulumi's records (*.lab.example.com and lab.example.com); one owner per name: turn dns.enabled off to let external-dns publish each host, or use provider pihole",
      ],
    );
    assert.deepEqual(
      await errorsOf(
        lab(CLOUDFLARE, (c) => {
          delete c["homelab:cloudflareApiToken"];
          c["homelab:certManager"].enabled = false;
        }),
      ),
      ["cloudflareApiToken: is required because externalDns.provider is cloudflare; run `pulumi config set --secret homelab:cloudflareApiToken ...`"],
    );
    assert.deepEqual(await errorsOf(lab({ enabled: true, provider: "cloudflare" })), [
      "externalDns.zoneIds: is required because externalDns.provider is cloudflare; external-dns reads only the zones its domain filter matches, and a domain inside a zone (lab.example.com in example.com) does not match it, so nothing would be published; list the Cloudflare zone ID of each domain's zone (the zone's Overview page)",
    ]);
    assert.deepEqual(await errorsOf(lab({ ...PIHOLE, zoneIds: [ZONE] }, withPiholePassword)), ["externalDns.zoneIds: Pi-hole has no zones (zone IDs are Cloudflare's); remove it"]);
    assert.deepEqual(await errorsOf(lab({ ...CLOUDFLARE, zoneIds: ["example.com"] })), [
      'externalDns.zoneIds[0]: "example.com" is invalid; it must be the 32-character Cloudflare zone ID',
    ]);
    assert.deepEqual(await errorsOf(lab({ enabled: true, provider: "route53", sources: [], policy: "delete" })), [
      'externalDns.provider: "route53" is not allowed; use one of "cloudflare", "pihole"',
      "externalDns.sources: list at least one source: ingress, service",
      'externalDns.policy: "delete" is not allowed; use one of "upsert-only", "create-only", "sync"',
    ]);
  });
});
