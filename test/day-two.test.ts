// Day two on the system, platform and apps layers (issue 10), as the offline diff sees each edit
// of the lab stack (test/scenario.ts): no edit deletes what holds data, a claim never changes class,
// sizes grow only where the API lets them, and chart upgrades carry their CRDs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { diffPlans, type StackDiff } from "../src/plan/diff";
import { toPlanJson } from "../src/plan/format";
import { parseStackFile, runPlan } from "../src/plan/run";
import { ROOT } from "./harness";
import { scenario } from "./scenario";

const LAB = "Pulumi.lab.yaml";
const notSame = (d: StackDiff) => Object.fromEntries(d.changes.filter((c) => c.op !== "same").map((c) => [c.name, c.op]));
const change = (d: StackDiff, name: string) => {
  const c = d.changes.find((x) => x.name === name);
  assert.ok(c, `no change for ${name}`);
  return c;
};
const warningsFor = (d: StackDiff, name: string) => d.warnings.filter((w) => w.urn === change(d, name).urn).map((w) => w.message);
const CLAIM = "kubernetes:core/v1:PersistentVolumeClaimPatch";
const NAMESPACE = "kubernetes:core/v1:NamespacePatch";

describe("day two on the lab stack: nothing that holds data is deleted by an edit", () => {
  test("disabling the last apps of a namespace: the namespace and the claims leave the state only, kept in the cluster", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:apps"].n8n.enabled = false;
      doc.config["homelab:apps"]["home-assistant"].enabled = false;
    });
    for (const name of ["namespace-applications", "n8n-data"]) {
      const c = change(d, name);
      assert.equal(c.op, "delete", name);
      assert.deepEqual(c.reasons, ["removed from state, kept: retainOnDelete leaves the object where it is"], name);
    }
    assert.deepEqual(
      d.changes.filter(
        (c) =>
          (c.type === CLAIM || c.type === NAMESPACE || c.type.endsWith(":Namespace") || c.type.endsWith(":PersistentVolumeClaim")) && c.op === "delete" && c.reasons.length === 0,
      ),
      [],
      "no namespace or claim is really deleted",
    );
    assert.deepEqual(warningsFor(d, "namespace-applications"), [
      "namespace applications leaves the Pulumi state but stays in the cluster with everything in it (retainOnDelete); delete it with kubectl once its claims are no longer needed",
    ]);
    assert.deepEqual(warningsFor(d, "n8n-data"), [
      "claim applications/n8n-data leaves the Pulumi state but stays in the cluster with its data (retainOnDelete); delete it by hand when it is no longer needed",
    ]);
  });

  test("moving an app to another namespace: the old claim stays with its data, a new one is created, and the diff says to copy", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:apps"].ollama.namespace = "llm";
    });
    assert.deepEqual(notSame(d), {
      "namespace-llm": "create",
      "ollama-source": "replace",
      "ollama-models": "replace",
      "ollama-release": "replace",
      "ollama-ingress": "replace",
    });
    assert.deepEqual(warningsFor(d, "ollama-models"), [
      "claim ai/ollama-models stays where it is with its data (retainOnDelete) and a new, empty claim llm/ollama-models is created (metadata.namespace changed): copy the data into the new claim, then delete the old one by hand",
    ]);
  });

  test("enabling NFS on a stack that had none: no claim is replaced; each keeps its class, and the diff says how to migrate", async () => {
    const d = await scenario(
      LAB,
      (doc) => {
        doc.config["homelab:storage"] = { nfs: { enabled: true, server: "10.0.20.10", share: "/volume1/k3s" } };
        doc.config["homelab:versions"].csiDriverNfs = "4.12.0";
      },
      {
        base: (doc) => {
          doc.config["homelab:storage"] = {};
          delete doc.config["homelab:versions"].csiDriverNfs;
        },
      },
    );
    const claims = d.changes.filter((c) => c.type === CLAIM);
    assert.ok(claims.length >= 4, `${claims.length} claims`);
    for (const c of claims) assert.equal(c.op, "same", `${c.name}: the class change is ignored, nothing replaced`);
    for (const name of ["ollama-models", "jupyter-work"]) {
      assert.deepEqual(warningsFor(d, name), [
        `claim ai/${name} stays on local-path with its data: the program now computes nfs-client for it, but a claim's class is immutable, so the change is ignored; to move the data, disable the app, copy the data out of the kept claim, delete it with kubectl and enable the app again (or pin apps.<name>.storageClass: local-path to say it stays)`,
      ]);
    }
    assert.deepEqual(warningsFor(d, "postgresql-data"), [], "databases stay on local-path");
    assert.equal(change(d, "nfs-storage-class").op, "create");
  });

  test("raising sizes: in place on nfs-client; refused on local-path and in a chart's StatefulSet (said before up fails)", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:apps"].ollama.storageSize = 300;
      doc.config["homelab:apps"].postgresql.storageSize = 40;
      doc.config["homelab:apps"]["home-assistant"].storageSize = 10;
    });
    assert.deepEqual(notSame(d), { "ollama-models": "update", "postgresql-data": "update", "home-assistant-release": "update" });
    assert.deepEqual(warningsFor(d, "ollama-models"), []);
    assert.deepEqual(warningsFor(d, "postgresql-data"), [
      "claim infrastructure/postgresql-data would grow to 40Gi on local-path, which does not allow volume expansion: the API refuses it and pulumi up fails; keep 20Gi (local-path does not enforce the size anyway)",
    ]);
    assert.deepEqual(warningsFor(d, "home-assistant-release"), [
      "home-assistant-release changes the size of a claim its chart's StatefulSet creates (volumeClaimTemplates are immutable): the upgrade fails and is rolled back; keep the old size, or resize the claim by hand where its class allows it",
    ]);
  });

  test("bumping kube-prometheus-stack: the release updates in place and its CRD upgrade job runs with it", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:versions"].kubePrometheusStack = "80.0.0";
    });
    assert.deepEqual(notSame(d), { "monitoring-release": "update" });
    const c = change(d, "monitoring-release");
    assert.deepEqual(
      c.properties.map((p) => [p.path, p.old, p.new]),
      [["version", "79.5.0", "80.0.0"]],
    );
    assert.deepEqual(d.blockers, []);
  });

  test("turning monitoring off keeps its namespace (Prometheus' claim) and warns; Longhorn's removal needs its flag", async () => {
    const d = await scenario(LAB, (doc) => {
      doc.config["homelab:monitoring"] = { enabled: false };
    });
    assert.equal(change(d, "monitoring-namespace").op, "delete");
    assert.deepEqual(change(d, "monitoring-namespace").reasons, ["removed from state, kept: retainOnDelete leaves the object where it is"]);
    assert.equal(change(d, "monitoring-release").op, "delete");
  });
});

describe("upgrading a stack deployed before the claims and namespaces were kept", () => {
  test("the plain Namespace and PersistentVolumeClaim of the old state are the same resources (aliases): nothing deleted or created", async () => {
    const head = toPlanJson(await runPlan({ stack: "lab", stackFile: parseStackFile(readFileSync(join(ROOT, LAB), "utf8")) }));
    // The state as the previous program left it: the same objects under the plain kinds, without the new options.
    const plain = (t: string) => t.replace(/:(Namespace|PersistentVolumeClaim)Patch\b/, ":$1");
    const base = {
      ...head,
      resources: head.resources.map((r) =>
        /:(Namespace|PersistentVolumeClaim)Patch$/.test(r.type) ? { ...r, type: plain(r.type), urn: plain(r.urn), aliases: [], retainOnDelete: false, ignoreChanges: [] } : r,
      ),
    };
    const d = diffPlans(base, head, "lab");
    const kept = d.changes.filter((c) => /:(Namespace|PersistentVolumeClaim)Patch$/.test(c.type));
    assert.ok(kept.length >= 8, `${kept.length}`);
    for (const c of kept) assert.ok(c.op === "same" || c.op === "update", `${c.name}: ${c.op}`);
    assert.deepEqual(
      d.changes.filter((c) => c.op === "delete" || c.op === "create" || c.op === "replace"),
      [],
    );
  });
});

describe("the retained Patch objects get their fixed, forced field manager (issue 18 B1)", () => {
  test("a stack planned before: every NamespacePatch and PersistentVolumeClaimPatch is an update of metadata.annotations, never a replace", async () => {
    const head = toPlanJson(await runPlan({ stack: "lab", stackFile: parseStackFile(readFileSync(join(ROOT, LAB), "utf8")) }));
    const OWNER = { "pulumi.com/patchFieldManager": "homelab-infra", "pulumi.com/patchForce": "true" };
    const withoutOwner = (inputs: any) => {
      const { annotations, ...metadata } = inputs.metadata;
      assert.deepEqual(annotations, OWNER);
      return { ...inputs, metadata };
    };
    const base = {
      ...head,
      resources: head.resources.map((r) => (/:(Namespace|PersistentVolumeClaim)Patch$/.test(r.type) ? { ...r, inputs: withoutOwner(r.inputs) } : r)),
    };
    const d = diffPlans(base, head, "lab");
    const patched = d.changes.filter((c) => /:(Namespace|PersistentVolumeClaim)Patch$/.test(c.type));
    assert.ok(patched.length >= 8, `${patched.length}`);
    for (const c of patched) {
      assert.equal(c.op, "update", c.name);
      assert.deepEqual(c.reasons, ["changed: metadata.annotations"], c.name);
    }
    assert.deepEqual(Object.keys(notSame(d)).sort(), patched.map((c) => c.name).sort(), "nothing else changes");
  });
});
