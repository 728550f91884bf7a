// The seed designs as stacks: every file in stacks/ plans through the whole program, and each
// carries the choices of its seed that stacks/README.md claims.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { SECRET_KEYS } from "../src/config/schema";
import { planFile, ROOT, type Graph } from "./harness";

const STACKS = join(ROOT, "stacks");
const FILES = readdirSync(STACKS)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

const plans = new Map<string, Graph>();
/** Plans a stack file once (plans run one at a time: the Pulumi runtime is global). */
async function plan(file: string): Promise<Graph> {
  let g = plans.get(file);
  if (!g) {
    g = await planFile(`stacks/${file}`, file.replace(/\.yaml$/, ""));
    plans.set(file, g);
  }
  return g;
}

const releases = (g: Graph) =>
  g
    .ofType("kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease")
    .map((r) => `${(r.inputs as any).metadata.namespace}/${(r.inputs as any).metadata.name}`)
    .sort();
const syncOf = (g: Graph) => (g.get("flux-instance").inputs as any).spec.sync;
const nodes = (g: Graph) => g.ofType("homelab:cluster:K3sNode").length;

test("one stack per seed, 000 to 004, each described in stacks/README.md", () => {
  assert.deepEqual(
    FILES.map((f) => f.slice(0, 8)),
    ["seed-000", "seed-001", "seed-002", "seed-003", "seed-004"],
  );
  const readme = readFileSync(join(STACKS, "README.md"), "utf8");
  for (const f of FILES) assert.match(readme, new RegExp(`\`${f.replace(/\./g, "\\.")}\``), f);
  for (const f of FILES) {
    const config = (parse(readFileSync(join(STACKS, f), "utf8")) as { config: Record<string, unknown> }).config;
    for (const k of SECRET_KEYS) {
      const v = config[`homelab:${k}`];
      if (v !== undefined) assert.deepEqual(Object.keys(v as object), ["secure"], `${f}: ${k} only as a secure: placeholder`);
    }
  }
});

for (const file of FILES) {
  test(`${file} plans without error, with Flux syncing its path`, async () => {
    const g = await plan(file);
    assert.ok(g.resources.length > 30, `${file}: ${g.resources.length} resources`);
    assert.equal(syncOf(g).kind, "GitRepository");
    assert.match(String(g.result.outputs.fluxDeployKey), /^ssh-ed25519 /);
  });
}

describe("each stack carries its seed's choices", () => {
  test("000: the seed's catalog in infrastructure, applications and ai; GPU apps after the GPU node", async () => {
    const g = await plan("seed-000-codeofficer.yaml");
    assert.deepEqual(releases(g), [
      "ai/jupyter",
      "ai/ollama",
      "ai/stable-diffusion-webui",
      "applications/home-assistant",
      "applications/n8n",
      "infrastructure/minio",
      "infrastructure/postgresql",
      "infrastructure/redis",
    ]);
    for (const a of ["ollama", "stable-diffusion-webui", "jupyter"]) assert.ok(g.dependsOn(`${a}-release`, "nvidia-device-plugin-release"), a);
    assert.equal(syncOf(g).path, "clusters/lab");
    assert.ok(g.has("postgresql-backup"));
  });

  test("001: six nodes and ten standalone VMs; media, home-automation and llm namespaces; the Tesla's label", async () => {
    const g = await plan("seed-001-wortmans.yaml");
    assert.equal(nodes(g), 6);
    assert.equal(g.ofType("homelab:metal:ProxmoxVm").length, 16, "6 node VMs and 10 standalone VMs");
    assert.deepEqual(releases(g), [
      "applications/actual",
      "applications/copyparty",
      "applications/mealie",
      "applications/paperless-ngx",
      "home-automation/home-assistant",
      "home-automation/pihole",
      "llm/ollama",
      "llm/text-generation-webui",
      "media/lidarr",
      "media/plex",
      "media/prowlarr",
      "media/qbittorrent",
      "media/radarr",
      "media/sonarr",
    ]);
    assert.ok(g.dependsOn("text-generation-webui-release", "nvidia-device-plugin-release"), "after the GPU node");
    assert.equal((g.get("media-library-media").inputs as any).spec.storageClassName, "freenas-nfs-csi", "the media library on TrueNAS (democratic-csi)");
    assert.ok(g.has("truenas-iscsi-release"));
    assert.match(JSON.stringify(g.resources.filter((r) => r.name.startsWith("kube06")).map((r) => r.rawInputs)), /accelerator=nvidia-tesla-gpu/);
    assert.equal(syncOf(g).path, "k8s/clusters/homelab");
    // TLS from the seed's step-ca over HTTP-01: one certificate per ingress, no Let's Encrypt, no wildcard.
    assert.deepEqual(
      g.ofType("kubernetes:cert-manager.io/v1:ClusterIssuer").map((r) => r.name),
      ["cert-manager-step-ca"],
    );
    assert.equal(g.ofType("kubernetes:cert-manager.io/v1:Certificate").length, 0);
    assert.equal(g.has("cert-manager-cloudflare-token"), false);
    assert.deepEqual((g.get("sonarr-ingress").inputs as any).spec.tls, [{ hosts: ["sonarr.lab.example.org"], secretName: "sonarr-tls" }]);
    assert.equal((g.get("sonarr-ingress").inputs as any).metadata.annotations["cert-manager.io/cluster-issuer"], "step-ca");
  });

  test("002: one host, three VMs, no Traefik and no ingress", async () => {
    const g = await plan("seed-002-homelab.yaml");
    assert.equal(nodes(g), 3);
    assert.equal(g.ofType("kubernetes:networking.k8s.io/v1:Ingress").length, 0);
    assert.equal(g.result.outputs.traefikIp, undefined);
    assert.equal(syncOf(g).path, "clusters/homelab");
    assert.equal(g.ofType("proxmoxve:firewall/rulesLegacy:RulesLegacy").length, 3, "the Proxmox firewall on each VM's NIC");
  });

  test("003: three servers (the added k3s-server-03) and a GPU agent; the pg_dump job to the Synology share", async () => {
    const g = await plan("seed-003-codeofficer-arch.yaml");
    assert.equal(nodes(g), 4);
    assert.ok(g.has("k3s-server-03"));
    const job = g.get("postgresql-backup").inputs as any;
    assert.deepEqual(job.spec.jobTemplate.spec.template.spec.volumes, [{ name: "backup", nfs: { server: "10.20.11.10", path: "/volume1/k3s-backups" } }]);
    assert.equal((g.get("ollama-models").inputs as any).spec.storageClassName, "nfs-client");
    assert.equal((g.get("postgresql-data").inputs as any).spec.storageClassName, "local-path");
    // letsencrypt-prod issues the wildcard, Traefik's default certificate; no ingress orders its own.
    assert.equal((g.get("cert-manager-wildcard").inputs as any).spec.issuerRef.name, "letsencrypt-prod");
    assert.deepEqual((g.get("n8n-ingress").inputs as any).metadata.annotations, { "traefik.ingress.kubernetes.io/router.middlewares": "default-lan-only@kubernetescrd" });
    assert.deepEqual((g.get("n8n-ingress").inputs as any).spec.tls, [{ hosts: ["n8n.example.com"] }]);
  });

  test("004: three servers with Longhorn data disks, Cloudflare records, Authentik", async () => {
    const g = await plan("seed-004-overkill.yaml");
    assert.equal(nodes(g), 3);
    assert.ok(g.ofType("homelab:platform:DnsRecords").length === 1);
    assert.deepEqual(releases(g), ["authentik/authentik"]);
    assert.equal((g.get("authentik-postgresql").inputs as any).spec.storageClassName, "local-path");
    assert.equal(syncOf(g).path, "kubernetes/clusters/homelab");
    // *.<domain> and *.lan.<domain>: a wildcard each, from Let's Encrypt production; Authentik on the LAN one.
    assert.deepEqual(
      g.ofType("kubernetes:cert-manager.io/v1:Certificate").map((r) => [r.name, (r.inputs as any).spec.dnsNames, (r.inputs as any).spec.issuerRef.name]),
      [
        ["cert-manager-wildcard", ["*.example.net", "example.net"], "letsencrypt-prod"],
        ["cert-manager-wildcard-lan", ["*.lan.example.net", "lan.example.net"], "letsencrypt-prod"],
      ],
    );
    assert.deepEqual((g.get("authentik-ingress").inputs as any).spec.tls, [{ hosts: ["authentik.lan.example.net"] }]);
  });
});
