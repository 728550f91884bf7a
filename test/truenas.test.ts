// TrueNAS through democratic-csi (storage.truenas, seed 001): a release per class reading its driver
// config (API key inside) from a secret Secret, the classes apps use, and the checks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { EXTRA_CHECKS } from "../src/checks";
import { ConfigError } from "../src/config/loader";
import { democraticCsiValues, iscsiDriverConfig, nfsDriverConfig } from "../src/system/democraticCsiRender";
import { planApps, STORAGE_READY } from "./apps-harness";
import { planConfig, stackDoc, validateDoc, type Graph } from "./harness";
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
  c["homelab:storage"] = { truenas: structuredClone(TRUENAS) };
  delete c["homelab:versions"].csiDriverNfs;
  c["homelab:versions"].democraticCsi = "0.15.1";
  c["homelab:versions"].democraticCsiDriver = "v1.9.4";
  c["homelab:truenasApiKey"] = { secure: "v1:placeholder:truenas" };
  c["homelab:apps"] = {};
  edit(c);
  return c;
}

/** The GPU nodes' taint, tolerated (the lab has a GPU node). */
const GPU_TOLERATION = { key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" };

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
      assert.deepEqual(rel.values, JSON.parse(JSON.stringify(democraticCsiValues(kind, `democratic-csi-${kind}-driver-config`, "v1.9.4", [GPU_TOLERATION]))));
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
    const v = democraticCsiValues("nfs", "s", "v1.9.4");
    assert.deepEqual((v.storageClasses as any[])[0].name, "freenas-nfs-csi");
    assert.deepEqual((democraticCsiValues("iscsi", "s", "v1.9.4").storageClasses as any[])[0].parameters, { fsType: "ext4" });
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
        delete c["homelab:versions"].democraticCsiDriver;
        c["homelab:storage"].truenas = { enabled: true };
      }),
      [
        "storage.truenas: is enabled with no class; declare nfs, iscsi or both (their datasets)",
        "versions.democraticCsi: is required because storage.truenas.enabled is true; pin the democratic-csi chart version, e.g. 0.15.1",
        "versions.democraticCsiDriver: is required because storage.truenas.enabled is true; pin democratic-csi's driver image: v1.9.4 for TrueNAS CORE 13 and SCALE up to 24.04, next@sha256:<digest> for 25.04 and later (README: TrueNAS versions)",
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

describe("democratic-csi's driver image, pinned (issue 18 B3)", () => {
  test("controller and node run versions.democraticCsiDriver, never the chart's default latest", async () => {
    const g = await planned();
    for (const kind of ["nfs", "iscsi"]) {
      const v = (g.get(`truenas-${kind}-release`).inputs as any).values;
      assert.deepEqual(v.controller, { driver: { image: { registry: "ghcr.io/democratic-csi/democratic-csi", tag: "v1.9.4" } } }, kind);
      assert.deepEqual(v.node.driver, { image: { registry: "ghcr.io/democratic-csi/democratic-csi", tag: "v1.9.4" } }, kind);
    }
  });
  test("a release tag or next pinned by digest; moving tags are refused", () => {
    const digest = `next@sha256:${"a".repeat(64)}`;
    const errorsFor = (tag: string) => {
      const r = validateDoc(
        truenasLab((c) => (c["homelab:versions"].democraticCsiDriver = tag)),
        { extraChecks: EXTRA_CHECKS },
      );
      return r.ok ? [] : r.errors;
    };
    assert.deepEqual(errorsFor(digest), []);
    const refused = "must be a democratic-csi release tag such as v1.9.4, or next@sha256:<digest> for TrueNAS 25.04 and later";
    for (const tag of ["latest", "next", "1.9.4"]) assert.deepEqual(errorsFor(tag), [`versions.democraticCsiDriver: "${tag}" is invalid; it ${refused}`], tag);
  });
});

describe("democratic-csi's node plugin on the GPU node (issue 18 A2)", () => {
  test("with a GPU node both node DaemonSets tolerate its taint (chart 0.15.1 node.tolerations: []); without one, the chart's default", async () => {
    const g = await planned();
    for (const kind of ["nfs", "iscsi"]) assert.deepEqual((g.get(`truenas-${kind}-release`).inputs as any).values.node.tolerations, [GPU_TOLERATION], kind);
    const noGpu = (
      await planSystem(
        truenasLab((c) => {
          c["homelab:nodes"] = c["homelab:nodes"].filter((n: any) => n.role !== "gpu");
          delete c["homelab:versions"].nvidiaDevicePlugin;
          delete c["homelab:versions"].nvidiaContainerToolkit;
        }),
      )
    ).graph;
    for (const kind of ["nfs", "iscsi"]) assert.equal((noGpu.get(`truenas-${kind}-release`).inputs as any).values.node.tolerations, undefined, kind);
  });

  /** The validator's errors for the TrueNAS lab with apps. */
  const errorsOf = (edit: (c: Record<string, any>) => void) => {
    const r = validateDoc(truenasLab(edit), { extraChecks: EXTRA_CHECKS });
    return r.ok ? [] : r.errors;
  };

  test("seed 001's GPU apps on TrueNAS claims pass the placement check (Plex's media library, Ollama's and Text Generation WebUI's models)", () => {
    assert.deepEqual(
      errorsOf((c) => (c["homelab:apps"] = { ollama: { version: "1.24.0" }, jupyter: { version: "4.6.2", gpu: true } })),
      [],
    );
    const seed1 = validateDoc(stackDoc("stacks/seed-001-wortmans.yaml"), { extraChecks: EXTRA_CHECKS });
    assert.deepEqual(seed1.ok ? [] : seed1.errors, []);
  });

  test("a taint a class's node plugin does not tolerate, on a node an app is placed on, is refused naming the app, node, claim, class and fix", () => {
    const dedicated = { key: "dedicated", operator: "Equal", value: "ai", effect: "NoSchedule" };
    const tainted = (c: Record<string, any>, taint: string) => (c["homelab:nodes"].find((n: any) => n.role === "gpu").taints = [taint]);
    // Ollama tolerates the extra taint through the stack's values, so it is still placed on the GPU node.
    const ollama = { version: "1.24.0", values: { tolerations: [GPU_TOLERATION, dedicated] } };
    assert.deepEqual(
      errorsOf((c) => {
        tainted(c, "dedicated=ai:NoSchedule");
        c["homelab:apps"] = { ollama };
      }),
      [
        "apps.ollama: runs on nodes[5] (k3s-gpu-01) with its claim ollama-models on freenas-nfs-csi, but democratic-csi's node plugin does not tolerate dedicated=ai:NoSchedule there: the volume cannot be mounted and the release would time out; remove that taint from nodes[5] (k3s-gpu-01), or pin apps.ollama.storageClass to a class whose node plugin runs there (nfs-client tolerates every taint)",
      ],
    );
    // Without the app's toleration it is not placed there at all: nothing to mount.
    assert.deepEqual(
      errorsOf((c) => {
        tainted(c, "dedicated=ai:NoSchedule");
        c["homelab:apps"] = { ollama: { version: "1.24.0" } };
      }),
      [],
    );
    // csi-driver-nfs's node plugin tolerates every taint (chart v4.12.0 node.tolerations: [{operator: Exists}]).
    assert.deepEqual(
      errorsOf((c) => {
        tainted(c, "dedicated=ai:NoSchedule");
        c["homelab:storage"] = { nfs: stackDoc()["homelab:storage"].nfs, truenas: TRUENAS };
        c["homelab:versions"].csiDriverNfs = stackDoc()["homelab:versions"].csiDriverNfs;
        c["homelab:apps"] = { ollama };
      }),
      [],
    );
    // local-path's helper pod is bound by nodeName: NoSchedule does not stop it, NoExecute evicts it.
    const jupyter = { version: "4.6.2", gpu: true, values: { defaultPodOptions: { tolerations: [GPU_TOLERATION, { ...dedicated, effect: "NoExecute" }] } } };
    assert.deepEqual(
      errorsOf((c) => {
        tainted(c, "dedicated=ai:NoExecute");
        c["homelab:apps"] = { jupyter: { ...jupyter, storageClass: "local-path" } };
      }),
      [
        "apps.jupyter: runs on nodes[5] (k3s-gpu-01) with its claim jupyter-work on local-path, but k3s's local-path helper pod does not tolerate dedicated=ai:NoExecute there: the volume cannot be mounted and the release would time out; remove that taint from nodes[5] (k3s-gpu-01)",
      ],
    );
  });
});

describe("democratic-csi's iSCSI node prerequisites in cloud-init (audit row C2)", () => {
  // democratic-csi README.md:124-139 (Node Prep, iSCSI, Ubuntu): open-iscsi lsscsi sg3-utils
  // multipath-tools scsitools, its multipath defaults, iscsid and open-iscsi enabled. Before the
  // fix only Longhorn nodes got open-iscsi: the iSCSI node plugin mounts the host's /etc/iscsi
  // with type Directory (chart 0.15.1 values.yaml:298-299) and could not start without it.
  const userData = (g: Graph, vm: string) => (g.get(`${vm}-user-data`).rawInputs.sourceRaw as { data: string }).data;
  const K3S_NODES = ["k3s-server-01", "k3s-server-02", "k3s-server-03", "k3s-agent-01", "k3s-agent-02", "k3s-gpu-01"];

  test("every k3s node of a stack with storage.truenas.iscsi gets the initiator, multipath and the services; a standalone VM does not", async () => {
    const g = await planConfig(truenasLab());
    for (const vm of K3S_NODES) {
      const doc = parse(userData(g, vm));
      for (const p of ["lsscsi", "multipath-tools", "open-iscsi", "scsitools", "sg3-utils"]) assert.ok(doc.packages.includes(p), `${vm}: ${p}`);
      assert.deepEqual(
        doc.write_files,
        [{ path: "/etc/multipath.conf", permissions: "0644", owner: "root:root", content: "defaults {\n    user_friendly_names yes\n    find_multipaths yes\n}\n" }],
        vm,
      );
      assert.deepEqual(doc.runcmd.slice(1), [
        ["systemctl", "restart", "multipathd"],
        ["systemctl", "enable", "--now", "iscsid"],
        ["systemctl", "enable", "--now", "open-iscsi"],
      ]);
    }
    const vault = parse(userData(g, "vault"));
    assert.ok(!vault.packages.includes("open-iscsi"));
    assert.equal(vault.write_files, undefined);
  });

  test("NFS only: no iSCSI packages; with Longhorn too, Longhorn's multipath blacklist and one package list", async () => {
    const nfsOnly = await planConfig(truenasLab((c) => delete c["homelab:storage"].truenas.iscsi));
    assert.ok(!parse(userData(nfsOnly, "k3s-agent-01")).packages.includes("open-iscsi"));
    const both = await planConfig(
      truenasLab((c) => {
        c["homelab:storage"].longhorn = { enabled: true };
        c["homelab:versions"].longhorn = "1.10.1";
      }),
    );
    const doc = parse(userData(both, "k3s-agent-01"));
    assert.equal(doc.packages.filter((p: string) => p === "open-iscsi").length, 1);
    assert.match(doc.write_files[0].content, /devnode "\^sd\[a-z0-9\]\+"/);
  });
});
