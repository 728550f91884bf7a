// The seed apps added beside custom apps, where they differ from the catalog's common shape
// (test/apps.test.ts covers scheduling, claims, secrets, ingress and the Flux objects of each):
// CopyParty's config file from the Secret, Pi-hole's DNS service, Authentik's secrets by reference.
import assert from "node:assert/strict";
import { test } from "node:test";
import { copypartyConfig } from "../src/apps/seedApps";
import { planApps } from "./apps-harness";
import { stackDoc, type Graph } from "./harness";

let plan: Graph | undefined;
async function graph(): Promise<Graph> {
  if (plan) return plan;
  const c = stackDoc();
  c["homelab:apps"] = {
    copyparty: { version: "4.6.2" },
    pihole: { version: "4.6.2" },
    authentik: { version: "2026.8.0" },
  };
  plan = (await planApps(c)).graph;
  return plan;
}
const values = (g: Graph, app: string) => (g.get(`${app}-release`).inputs as any).spec.values;

test("CopyParty reads one admin account from a config file in the Secret; anonymous users get nothing", async () => {
  const g = await graph();
  const v = values(g, "copyparty");
  assert.deepEqual(v.persistence.config, { type: "secret", name: "copyparty-secrets", globalMounts: [{ path: "/cfg/copyparty.conf", subPath: "copyparty.conf", readOnly: true }] });
  assert.deepEqual(v.persistence.files, { existingClaim: "copyparty-files", advancedMounts: { main: { main: [{ path: "/w" }] } } });
  assert.deepEqual(v.persistence.state, { existingClaim: "copyparty-state", advancedMounts: { main: { main: [{ path: "/cfg/hists" }] } } });
  const data = g.get("copyparty-secrets").rawInputs.stringData as Record<string, string>;
  assert.equal(data["copyparty.conf"], copypartyConfig(data["admin-password"]));
  assert.equal(copypartyConfig("pw"), "[global]\n  e2dsa\n  hist: /cfg/hists\n[accounts]\n  admin: pw\n[/]\n  /w\n  accs:\n    rwmda: admin\n");
  assert.ok(!JSON.stringify(g.get("copyparty-release").rawInputs).includes(data["admin-password"]));
});

test("Pi-hole: the web password by reference, DNS on a LoadBalancer (53 TCP and UDP), listening to the pod network", async () => {
  const v = values(await graph(), "pihole");
  const main = v.controllers.main.containers.main;
  assert.deepEqual(main.env.FTLCONF_webserver_api_password, { valueFrom: { secretKeyRef: { name: "pihole-secrets", key: "web-password" } } });
  assert.equal(main.env.FTLCONF_dns_listeningMode, "all");
  assert.deepEqual(v.service.dns, {
    controller: "main",
    type: "LoadBalancer",
    ports: { "dns-tcp": { port: 53, protocol: "TCP" }, "dns-udp": { port: 53, protocol: "UDP" } },
  });
});

test("Authentik: secret key and database passwords only by reference, the chart's PostgreSQL on the catalog's claim", async () => {
  const g = await graph();
  const v = values(g, "authentik");
  assert.deepEqual(v.global.env, [
    { name: "AUTHENTIK_SECRET_KEY", valueFrom: { secretKeyRef: { name: "authentik-secrets", key: "secret-key" } } },
    { name: "AUTHENTIK_POSTGRESQL__PASSWORD", valueFrom: { secretKeyRef: { name: "authentik-secrets", key: "postgresql-password" } } },
  ]);
  assert.deepEqual(v.postgresql, {
    enabled: true,
    auth: { existingSecret: "authentik-secrets", secretKeys: { userPasswordKey: "postgresql-password", adminPasswordKey: "postgres-password" } },
    primary: { persistence: { enabled: true, existingClaim: "authentik-postgresql" } },
  });
  assert.deepEqual(v.authentik, { error_reporting: { enabled: false } });
  assert.deepEqual(g.get("authentik-secrets").secretPaths, ["stringData"]);
  assert.deepEqual(g.get("authentik-secret-key", "random:index/randomPassword:RandomPassword").inputs, { length: 64, special: false });
});
