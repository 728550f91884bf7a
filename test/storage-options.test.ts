// Storage and monitoring options: the backup share on its own NFS server (seed 003), and
// monitoring without Traefik (seed 002: no ingress, Grafana by port-forward).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { renderPgDumpCronJob } from "../src/apps/backupRender";
import { ConfigError } from "../src/config/loader";
import { monitoringValues } from "../src/system/values";
import { planApps } from "./apps-harness";
import { planFile, stackDoc } from "./harness";
import { planSystem } from "./system-harness";

async function errorsOf(run: () => Promise<unknown>): Promise<string[]> {
  try {
    await run();
  } catch (e) {
    if (e instanceof ConfigError) return e.errors;
    throw e;
  }
  return [];
}

describe("the backup share on its own NFS server", () => {
  test("the pg_dump job mounts backupShare from backupServer; app data stays on the data server", async () => {
    const c = stackDoc();
    c["homelab:storage"].nfs.backupServer = "10.0.20.9";
    c["homelab:apps"] = { postgresql: { version: "4.6.2" } };
    const { graph: g } = await planApps(c);
    const expected = renderPgDumpCronJob({
      name: "postgresql-backup",
      namespace: "infrastructure",
      image: "docker.io/library/postgres:17.11",
      host: "postgresql.infrastructure.svc.cluster.local",
      passwordSecret: "postgresql-secrets",
      passwordKey: "password",
      nfsServer: "10.0.20.9",
      backupShare: "/volume1/k3s-backups",
    });
    assert.deepEqual(g.get("postgresql-backup").inputs, { apiVersion: "batch/v1", kind: "CronJob", ...expected });
    assert.deepEqual((g.get("postgresql-backup").inputs as any).spec.jobTemplate.spec.template.spec.volumes, [
      { name: "backup", nfs: { server: "10.0.20.9", path: "/volume1/k3s-backups" } },
    ]);
  });

  test("checks: backupServer needs backupShare; MetalLB's range may not cover it", async () => {
    assert.deepEqual(
      await errorsOf(() => {
        const c = stackDoc();
        delete c["homelab:storage"].nfs.backupShare;
        c["homelab:storage"].nfs.backupServer = "10.0.20.9";
        return planApps(c);
      }),
      ["storage.nfs.backupServer: is the server of backupShare, which is not set; set storage.nfs.backupShare or remove backupServer"],
    );
    assert.deepEqual(
      await errorsOf(() => {
        const c = stackDoc();
        c["homelab:storage"].nfs.backupServer = "10.0.20.205";
        return planApps(c);
      }),
      [`metallb.range: ${stackDoc()["homelab:metallb"].range} contains 10.0.20.205, the address of storage.nfs.backupServer; move the range off it`],
    );
  });

  test("seed 003: data on the UNAS, backups on the Synology", async () => {
    const g = await planFile("stacks/seed-003-codeofficer-arch.yaml");
    const job = g.get("postgresql-backup").inputs as any;
    assert.deepEqual(job.spec.jobTemplate.spec.template.spec.volumes, [{ name: "backup", nfs: { server: "10.20.11.10", path: "/volume1/k3s-backups" } }]);
    const nfsValues = JSON.stringify(g.resources.filter((r) => r.name.startsWith("nfs")).map((r) => r.rawInputs));
    assert.match(nfsValues, /10\.20\.11\.20/, "the StorageClass points at the UNAS");
    assert.doesNotMatch(nfsValues, /10\.20\.11\.10/);
  });
});

describe("monitoring without Traefik", () => {
  test("kube-prometheus-stack with Grafana's ingress off, no grafanaUrl, no Traefik dependency", async () => {
    const c = stackDoc();
    c["homelab:cluster"] = { ...c["homelab:cluster"], traefik: false };
    delete c["homelab:traefik"];
    c["homelab:apps"] = {};
    const { graph: g } = await planSystem(c);
    const values = (g.get("monitoring-release").inputs as any).values;
    assert.deepEqual(values.grafana.ingress, { enabled: false });
    assert.equal(JSON.stringify(values).includes("traefik"), false);
    assert.deepEqual(
      monitoringValues({ retention: "15d", storageSize: 20, storageClass: "local-path", grafanaHost: undefined, grafanaAdminSecret: "grafana-admin", clusterIssuer: undefined })
        .grafana,
      { admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" }, ingress: { enabled: false } },
    );
  });

  test("seed 002 (Traefik off) runs monitoring; the stack has no grafanaUrl output", async () => {
    const g = await planFile("stacks/seed-002-homelab.yaml");
    assert.ok(g.has("monitoring-release"));
    assert.equal(g.result.outputs.grafanaUrl, undefined);
    assert.equal(g.ofType("kubernetes:networking.k8s.io/v1:Ingress").length, 0);
  });
});
