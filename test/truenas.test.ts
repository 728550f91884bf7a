// TrueNAS through democratic-csi (storage.truenas, seed 001): a release per class reading its driver
// config (API key inside) from a secret Secret, the classes apps use, and the checks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { ConfigError } from "../src/config/loader";
import { democraticCsiValues, iscsiDriverConfig, nfsDriverConfig } from "../src/system/democraticCsiRender";
import { planApps, STORAGE_READY } from "./apps-harness";
import { stackDoc, type Graph } from "./harness";
import { planSystem } from "./system-harness";

const TRUENAS = {
  enabled: true,
  host: "10.0.20.6",
  allowInsecure: true,
  nfs: { datasetParentName: "tank/k8s/nfs/vols", detachedSnapshotsDatasetParentName: "tank/k8s/nfs/snaps" },
  iscsi: { datasetParentName: "tank/k8s/iscsi/vols", detachedSnapshotsDatasetParentName: "tank/k8s/iscsi/snaps" },
};

/** The lab with TrueNAS in place of csi-driver-nfs. */
function truenasLab(edit: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c = stackDoc();
  c["homelab:storage"] = { truenas: TRUENAS };
  delete c["homelab:versions"].csiDriverNfs;
  c["homelab:versions"].democraticCsi = "0.15.1";
  c["homelab:truenasApiKey"] = { secure: "v1:placeholder:truenas" };
  c["homelab:apps"] = {};
  edit(c);
  return c;
}

let system: Graph | undefined;
const planned = async () => (system ??= (await planSystem(truenasLab())).graph);

describe("democratic-csi for TrueNAS", () => {
  test("one release per class, in a privileged namespace, each reading its config from its Secret", async () => {
    const g = await planned();
    assert.equal(g.get("truenas").type, "homelab:system:TruenasStorage");
    assert.deepEqual((g.get("truenas-namespace").inputs as any).metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
    for (const kind of ["nfs", "iscsi"] as const) {
      const rel = g.get(`truenas-${kind}-release`).inputs as any;
      assert.deepEqual(
        { chart: rel.chart, version: rel.version, repo: rel.repositoryOpts.repo, name: rel.name, namespace: rel.namespace },
        { chart: "democratic-csi", version: "0.15.1", repo: "https://democratic-csi.github.io/charts/", name: `democratic-csi-${kind}`, namespace: "democratic-csi" },
      );
      assert.deepEqual(rel.values, JSON.parse(JSON.stringify(democraticCsiValues(kind, `democratic-csi-${kind}-driver-config`))));
      assert.deepEqual(
        g.depNames(`truenas-${kind}-release`).filter((n) => n.startsWith("truenas")),
        ["truenas-namespace", `truenas-${kind}-config`].sort(),
      );
      const secret = g.get(`truenas-${kind}-config`);
      assert.deepEqual(secret.secretPaths, ["stringData"]);
      assert.deepEqual((secret.inputs as any).metadata, { name: `democratic-csi-${kind}-driver-config`, namespace: "democratic-csi" });
      const config = parse((secret.rawInputs.stringData as Record<string, string>)["driver-config-file.yaml"]);
      assert.equal(config.driver, `freenas-api-${kind}`);
      assert.deepEqual({ ...config.httpConnection, apiKey: "<key>" }, { protocol: "https", host: "10.0.20.6", port: 443, apiKey: "<key>", allowInsecure: true });
      assert.equal(typeof config.httpConnection.apiKey, "string");
      assert.ok(!JSON.stringify(g.get(`truenas-${kind}-release`).rawInputs).includes(config.httpConnection.apiKey), "the key is never a Helm value");
    }
    const v = democraticCsiValues("nfs", "s");
    assert.deepEqual((v.storageClasses as any[])[0].name, "freenas-nfs-csi");
    assert.deepEqual((democraticCsiValues("iscsi", "s").storageClasses as any[])[0].parameters, { fsType: "ext4" });
  });

  test("the driver configs follow democratic-csi's freenas-api examples", () => {
    const conn = { host: "10.0.20.6", port: 443, allowInsecure: false };
    assert.deepEqual(parse(nfsDriverConfig(conn, TRUENAS.nfs, "k")), {
      driver: "freenas-api-nfs",
      httpConnection: { protocol: "https", host: "10.0.20.6", port: 443, apiKey: "k", allowInsecure: false },
      zfs: {
        datasetParentName: "tank/k8s/nfs/vols",
        detachedSnapshotsDatasetParentName: "tank/k8s/nfs/snaps",
        datasetEnableQuotas: true,
        datasetEnableReservation: false,
        datasetPermissionsMode: "0777",
        datasetPermissionsUser: 0,
        datasetPermissionsGroup: 0,
      },
      nfs: {
        shareHost: "10.0.20.6",
        shareAlldirs: false,
        shareAllowedHosts: [],
        shareAllowedNetworks: [],
        shareMaprootUser: "root",
        shareMaprootGroup: "root",
        shareMapallUser: "",
        shareMapallGroup: "",
      },
    });
    const iscsi = parse(iscsiDriverConfig(conn, { ...TRUENAS.iscsi, targetPortalGroup: 2, initiatorGroup: 3 }, "k"));
    assert.equal(iscsi.iscsi.targetPortal, "10.0.20.6:3260");
    assert.deepEqual(iscsi.iscsi.targetGroups, [{ targetGroupPortalGroup: 2, targetGroupInitiatorGroup: 3, targetGroupAuthType: "None" }]);
  });

  test("apps: data volumes and the media library on TrueNAS's NFS class when storage.nfs is off", async () => {
    const { graph: g } = await planApps(truenasLab((c) => (c["homelab:apps"] = { ollama: { version: "1.24.0" }, radarr: { version: "4.6.2" } })));
    assert.equal((g.get("ollama-models").inputs as any).spec.storageClassName, "freenas-nfs-csi");
    assert.equal((g.get("radarr-config").inputs as any).spec.storageClassName, "local-path");
    assert.equal((g.get("media-library-media").inputs as any).spec.storageClassName, "freenas-nfs-csi");
    assert.ok(g.depNames("ollama-models").includes(STORAGE_READY));
  });

  test("checks: the secret, the host, the chart version, a class, sibling datasets", async () => {
    const errorsOf = async (edit: (c: Record<string, any>) => void) => {
      try {
        await planSystem(truenasLab(edit));
      } catch (e) {
        if (e instanceof ConfigError) return e.errors;
        throw e;
      }
      return [];
    };
    assert.deepEqual(
      await errorsOf((c) => {
        delete c["homelab:truenasApiKey"];
        delete c["homelab:versions"].democraticCsi;
        c["homelab:storage"].truenas = { enabled: true };
      }),
      [
        "storage.truenas: is enabled with no class; declare nfs, iscsi or both (their datasets)",
        "versions.democraticCsi: is required because storage.truenas.enabled is true; pin the democratic-csi chart version, e.g. 0.15.1",
        "storage.truenas.host: is required because storage.truenas.enabled is true; set the TrueNAS address",
        "truenasApiKey: is required because storage.truenas.enabled is true (the TrueNAS API); run `pulumi config set --secret homelab:truenasApiKey ...`",
      ],
    );
    assert.deepEqual(
      await errorsOf((c) => {
        c["homelab:storage"].truenas.nfs = { datasetParentName: "tank/k8s", detachedSnapshotsDatasetParentName: "tank/k8s/snaps" };
        c["homelab:storage"].truenas.iscsi.datasetParentName = "tank/k8s/iscsi";
      }),
      [
        "storage.truenas.nfs.detachedSnapshotsDatasetParentName: tank/k8s/snaps overlaps datasetParentName tank/k8s; make them siblings such as tank/snaps",
        "storage.truenas.iscsi.detachedSnapshotsDatasetParentName: tank/k8s/iscsi/snaps overlaps datasetParentName tank/k8s/iscsi; make them siblings such as tank/k8s/snaps",
        "storage.truenas.iscsi.datasetParentName: tank/k8s/iscsi overlaps the NFS class's tank/k8s; give each class its own datasets",
      ],
    );
  });
});
