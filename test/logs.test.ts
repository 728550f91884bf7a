// Logs (monitoring.logs, seeds 002 and 004): Loki in one binary on a kept claim, Alloy on every node
// tailing its pods through the Kubernetes API, Loki in Grafana; the checks; and turning logs on in
// the lab stack as a day-two edit (creates only, Grafana's release updated in place).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../src/config/loader";
import { alloyConfig, alloyValues, helmTplLiteral, lokiValues, retentionHours } from "../src/system/logsRender";
import { planConfig, stackDoc, type Graph } from "./harness";
import { scenario } from "./scenario";

const LOGS = { enabled: true, retention: "30d", storageSize: 50 };
function lab(edit: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c = stackDoc();
  c["homelab:monitoring"].logs = LOGS;
  c["homelab:versions"].loki = "18.11.0";
  c["homelab:versions"].alloy = "1.11.1";
  edit(c);
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
const PUSH = "http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/push";

/**
 * A structural reading of Alloy syntax: blocks `name "label" {` / `name {`, attributes `k = v`,
 * balanced braces, brackets and strings; returns the labelled components and every reference to a
 * component's export (`a.b.label.export`) found in attribute values.
 */
function readAlloy(text: string): { components: string[]; references: string[]; attributes: Record<string, string[]> } {
  const components: string[] = [];
  const references: string[] = [];
  const attributes: Record<string, string[]> = {};
  const stack: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^\s+/, "");
    if (line === "" || line.startsWith("//")) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([a-z_]+(?:\.[a-z_]+)*) "([a-z_]+)" \{$/.exec(line))) {
      stack.push(`${m[1]}.${m[2]}`);
      components.push(`${m[1]}.${m[2]}`);
    } else if ((m = /^([a-z_]+(?:\.[a-z_]+)*) \{$/.exec(line))) stack.push(`${stack.at(-1)}>${m[1]}`);
    else if (line === "}") assert.ok(stack.pop(), "unbalanced }");
    else if ((m = /^([a-z_]+)\s+= (.+)$/.exec(line))) {
      const value = m[2];
      assert.equal((value.match(/"/g) ?? []).length % 2, 0, `unbalanced quotes: ${line}`);
      assert.equal((value.match(/\[/g) ?? []).length, (value.match(/\]/g) ?? []).length, `unbalanced brackets: ${line}`);
      (attributes[stack.at(-1)!] ??= []).push(m[1]);
      const outsideStrings = value.replace(/"[^"]*"/g, '""');
      for (const r of outsideStrings.matchAll(/\b((?:discovery|loki)\.[a-z_.]+)\b/g)) references.push(r[1]);
    } else assert.fail(`not Alloy syntax this reader knows: ${line}`);
  }
  assert.deepEqual(stack, [], "unclosed blocks");
  return { components, references, attributes };
}

describe("logs: Loki and Alloy", () => {
  let plan: Graph | undefined;
  const planned = async () => (plan ??= await planConfig(lab()));

  test("Loki on its own kept claim, in one binary, with retention; Alloy after it; both in the monitoring namespace", async () => {
    const g = await planned();
    assert.equal(g.get("monitoring-logs").type, "homelab:system:Logs");
    const claim = g.get("monitoring-logs-loki-data");
    assert.equal(claim.type, "kubernetes:core/v1:PersistentVolumeClaimPatch");
    assert.equal(claim.retainOnDelete, true, "the logs outlive turning logs off");
    assert.deepEqual(claim.ignoreChanges, ["spec.storageClassName"]);
    assert.deepEqual(claim.inputs, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        name: "loki-data",
        namespace: "monitoring",
        labels: { "app.kubernetes.io/name": "loki", "homelab/storage-kind": "database" },
        annotations: { "pulumi.com/patchFieldManager": "homelab-infra", "pulumi.com/patchForce": "true" },
      },
      spec: { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", resources: { requests: { storage: "50Gi" } } },
    });
    const loki = g.get("monitoring-logs-loki").inputs as any;
    assert.deepEqual(
      { chart: loki.chart, version: loki.version, repo: loki.repositoryOpts.repo, name: loki.name, namespace: loki.namespace, atomic: loki.atomic, timeout: loki.timeout },
      { chart: "loki", version: "18.11.0", repo: "https://grafana-community.github.io/helm-charts", name: "loki", namespace: "monitoring", atomic: true, timeout: 600 },
    );
    assert.deepEqual(loki.values, {
      backend: { replicas: 0 },
      chunksCache: { enabled: false },
      deploymentMode: "Monolithic",
      gateway: { enabled: false },
      loki: {
        auth_enabled: false,
        commonConfig: { replication_factor: 1 },
        compactor: { delete_request_store: "filesystem", retention_enabled: true },
        limits_config: { retention_period: "720h" },
        schemaConfig: { configs: [{ from: "2024-04-01", index: { period: "24h", prefix: "loki_index_" }, object_store: "filesystem", schema: "v13", store: "tsdb" }] },
        storage: { type: "filesystem" },
      },
      lokiCanary: { enabled: false },
      read: { replicas: 0 },
      resultsCache: { enabled: false },
      singleBinary: { persistence: { dataVolumeParameters: { persistentVolumeClaim: { claimName: "loki-data" } }, enabled: false }, replicas: 1 },
      test: { enabled: false },
      write: { replicas: 0 },
    });
    for (const dep of ["monitoring-namespace", "monitoring-logs-loki-data"]) assert.ok(g.depNames("monitoring-logs-loki").includes(dep), dep);
    assert.ok(g.depNames("monitoring-logs-loki-data").includes("monitoring-namespace"));
    const alloy = g.get("monitoring-logs-alloy").inputs as any;
    assert.deepEqual(
      { chart: alloy.chart, version: alloy.version, repo: alloy.repositoryOpts.repo, name: alloy.name, namespace: alloy.namespace },
      { chart: "alloy", version: "1.11.1", repo: "https://grafana.github.io/helm-charts", name: "alloy", namespace: "monitoring" },
    );
    assert.deepEqual(alloy.values, JSON.parse(JSON.stringify(alloyValues({ pushUrl: PUSH }))));
    assert.deepEqual(alloy.values.controller, { tolerations: [{ operator: "Exists" }], type: "daemonset" });
    assert.ok(g.depNames("monitoring-logs-alloy").includes("monitoring-logs-loki"));
  });

  test("Grafana gets Loki as a datasource beside Prometheus", async () => {
    const g = await planned();
    const grafana = (g.get("monitoring-release").inputs as any).values.grafana;
    assert.deepEqual(grafana.additionalDataSources, [
      { access: "proxy", isDefault: false, name: "Loki", type: "loki", uid: "loki", url: "http://loki.monitoring.svc.cluster.local:3100" },
    ]);
    const off = await planConfig(stackDoc());
    assert.equal((off.get("monitoring-release").inputs as any).values.grafana.additionalDataSources, undefined);
    assert.equal(off.has("monitoring-logs"), false);
  });

  test("Alloy's config: node-local pod discovery, the documented labels, tailed through the API, pushed to Loki", () => {
    const text = alloyConfig(PUSH);
    const { components, references, attributes } = readAlloy(text);
    assert.deepEqual(components, ["discovery.kubernetes.pods", "discovery.relabel.pod_logs", "loki.source.kubernetes.pod_logs", "loki.write.default"]);
    // Every reference names a declared component and one of its exports (Alloy's reference docs).
    const EXPORTS: Record<string, string> = { "discovery.kubernetes": "targets", "discovery.relabel": "output", "loki.write": "receiver" };
    assert.deepEqual(references, ["discovery.kubernetes.pods.targets", "discovery.relabel.pod_logs.output", "loki.write.default.receiver"]);
    for (const r of references) {
      const parts = r.split(".");
      const component = parts.slice(0, -1).join(".");
      assert.ok(components.includes(component), r);
      assert.equal(EXPORTS[parts.slice(0, 2).join(".")], parts.at(-1), r);
    }
    assert.deepEqual(attributes["discovery.kubernetes.pods"], ["role"]);
    assert.deepEqual(attributes["discovery.kubernetes.pods>selectors"], ["role", "field"]);
    assert.deepEqual(attributes["loki.source.kubernetes.pod_logs"], ["targets", "forward_to"]);
    assert.deepEqual(attributes["loki.write.default>endpoint"], ["url"]);
    assert.match(text, /field = "spec\.nodeName=" \+ coalesce\(sys\.env\("HOSTNAME"\), constants\.hostname\)/);
    assert.ok(text.includes(`url = "${PUSH}"`));
    assert.ok(!text.includes("{{"), "the chart passes the config through tpl: no template braces");
    for (const label of ["namespace", "pod", "container", "app", "job"]) assert.ok(text.includes(`target_label  = "${label}"`), label);
  });

  test("retention in whole days, as hours", () => {
    assert.equal(retentionHours("14d"), "336h");
    assert.equal((lokiValues({ retention: "1d", claim: "c" }).loki as any).limits_config.retention_period, "24h");
  });

  test("checks: monitoring on, both chart versions pinned, whole days", async () => {
    assert.deepEqual(
      await errorsOf(
        lab((c) => {
          delete c["homelab:versions"].loki;
          delete c["homelab:versions"].alloy;
        }),
      ),
      [
        "versions.loki: is required because monitoring.logs.enabled is true; pin the loki chart version (grafana-community), e.g. 18.11.0",
        "versions.alloy: is required because monitoring.logs.enabled is true; pin the alloy chart version, e.g. 1.11.1",
      ],
    );
    assert.deepEqual(
      await errorsOf(
        lab((c) => {
          c["homelab:monitoring"].enabled = false;
        }),
      ),
      [
        "monitoring.logs.enabled: the logs are read in the monitoring stack's Grafana, and monitoring.enabled is false; set monitoring.enabled: true or monitoring.logs.enabled: false",
      ],
    );
    assert.deepEqual(await errorsOf(lab((c) => (c["homelab:monitoring"].logs = { enabled: true, retention: "36h" }))), [
      `monitoring.logs.retention: "36h" is invalid; it must be whole days such as 14d (Loki's index period is 24h)`,
    ]);
  });
});

describe("day two: turning logs on in the lab stack", () => {
  test("creates Loki, its claim and Alloy; Grafana's release is updated in place with the datasource; nothing is replaced or deleted", async () => {
    const d = await scenario("Pulumi.lab.yaml", (doc) => {
      doc.config["homelab:monitoring"].logs = { enabled: true };
      doc.config["homelab:versions"].loki = "18.11.0";
      doc.config["homelab:versions"].alloy = "1.11.1";
    });
    const notSame = Object.fromEntries(d.changes.filter((c) => c.op !== "same").map((c) => [c.name, c.op]));
    assert.deepEqual(notSame, {
      "monitoring-logs": "create",
      "monitoring-logs-loki-data": "create",
      "monitoring-logs-loki": "create",
      "monitoring-logs-alloy": "create",
      "monitoring-release": "update",
    });
    assert.deepEqual(d.summary.replace, 0);
    assert.deepEqual(d.summary.delete, 0);
    assert.deepEqual(d.blockers, []);
    const release = d.changes.find((c) => c.name === "monitoring-release")!;
    assert.deepEqual(
      release.properties.map((p) => [p.path, p.forcesReplacement]),
      [["values.grafana.additionalDataSources", false]],
    );
  });
});

describe("Alloy's config through the chart's tpl (audit row C4)", () => {
  // alloy 1.11.1 values.yaml:38: configMap.content "is passed into tpl". In Go's text/template an
  // action whose pipeline is a string constant prints that constant, and text outside actions
  // (a lone "}}" included) is copied as is: so a template whose only actions are {{"{{"}} renders
  // to the text with each of them replaced by "{{".
  const ACTION = '{{"{{"}}';
  const rendered = (template: string) => {
    const literal = template.split(ACTION);
    for (const part of literal) assert.ok(!part.includes("{{"), `an action Helm would evaluate: ${part}`);
    return literal.join("{{");
  };

  test("braces reach Alloy byte for byte: no other action is left for Helm", () => {
    for (const text of ['replacement = "{{ .Values.x }}"', "{{- trim }}", "{{{{", "}} {{", 'a {{"{{"}} b', "no braces"]) {
      assert.equal(rendered(helmTplLiteral(text)), text, text);
    }
  });

  test("the release's content is the escaped config; today's config has no braces, so it is unchanged", () => {
    const braced = alloyValues({ pushUrl: "http://loki/{{ .Release.Name }}/push" }) as any;
    assert.equal(braced.alloy.configMap.content, alloyConfig("http://loki/{{ .Release.Name }}/push").replace("{{", ACTION));
    assert.equal(rendered(braced.alloy.configMap.content), alloyConfig("http://loki/{{ .Release.Name }}/push"));
    assert.equal((alloyValues({ pushUrl: PUSH }) as any).alloy.configMap.content, alloyConfig(PUSH));
  });
});
