// The cluster layer under the recording monitor: join order, readiness gates, secrets, labels and
// taints, the upgrade chain, node removal, the GPU node and device plugin, the Cluster contract,
// the single-server home stack, and the critical path to a ready cluster.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse, stringify } from "yaml";
import { EXTRA_CHECKS } from "../src/checks";
import { buildCluster, type Cluster } from "../src/cluster";
import { loadStack } from "../src/config/loader";
import { buildMetal } from "../src/metal";
import { SSH_DIAL, SSH_DIAL_UP } from "../src/metal/proxmoxVm";
import { criticalPath, isClusterReady } from "../src/plan/graph";
import { digest, RecordingMonitor, type RecordedResource } from "../src/plan/recorder";
import { parseStackFile, PROJECT } from "../src/plan/run";
import { planConfig, planFile, stackDoc, type Graph } from "./harness";
import { requireTool, shellcheck } from "./validators";

const CMD = "command:remote:Command";
const SERVERS = ["k3s-server-01", "k3s-server-02", "k3s-server-03"];
const AGENTS = ["k3s-agent-01", "k3s-agent-02"];
const GPU = "k3s-gpu-01";
/** What the recording mock answers for a RandomPassword named so. */
const TOKEN = `plan-random-${digest("k3s-token", 16)}`;
const AGENT_TOKEN = `plan-random-${digest("k3s-agent-token", 16)}`;

let lab: Graph | undefined;
async function labGraph(): Promise<Graph> {
  lab ??= await planConfig(stackDoc());
  return lab;
}

/** Every SSH step of the cluster layer (not the metal layer's own gates). */
function clusterCommands(g: Graph): RecordedResource[] {
  // The rolling reboot's steps have their own tests (test/reboot.test.ts).
  return g.ofType(CMD).filter((r) => r.urn.includes("homelab:cluster:") && !r.urn.includes("homelab:metal:ProxmoxVm") && !r.urn.includes("homelab:cluster:RollingReboot"));
}

function configOf(g: Graph, node: string): Record<string, any> {
  return parse(String(g.get(`${node}-k3s-join`).rawInputs.stdin));
}

/** The SSH steps `name` waits for directly (its other dependencies are VMs, tokens, providers). */
function stepDeps(g: Graph, name: string): string[] {
  return g
    .get(name)
    .dependencies.map((u) => g.byUrn(u))
    .filter((r) => r.type === CMD)
    .map((r) => r.name)
    .sort();
}

function nodeSpec(doc: Record<string, any>, name: string): Record<string, any> {
  return (doc["homelab:nodes"] as Record<string, any>[]).find((n) => n.name === name)!;
}

describe("K3sCluster: structure", () => {
  test("the cluster component holds the tokens, a K3sNode per server and agent, the kubeconfig read and the provider", async () => {
    const g = await labGraph();
    assert.deepEqual(
      g
        .children("k3s")
        .map((r) => [r.type, r.name])
        .sort(),
      [
        ...[...SERVERS, ...AGENTS].map((n) => ["homelab:cluster:K3sNode", `${n}-k3s`]),
        ["random:index/randomId:RandomId", "k3s-cluster-id"],
        ["random:index/randomPassword:RandomPassword", "k3s-token"],
        ["random:index/randomPassword:RandomPassword", "k3s-agent-token"],
        [CMD, "k3s-bootstrap"],
        ["time:index/rotating:Rotating", "k3s-kubeconfig-reread"],
        [CMD, "k3s-kubeconfig"],
        ["pulumi:providers:kubernetes", "k3s-k8s"],
      ].sort(),
    );
    assert.deepEqual(
      g.children("k3s-agent-01-k3s").map((r) => r.name),
      ["k3s-agent-01-k3s-join", "k3s-agent-01-k3s-member", "k3s-agent-01-k3s-drain", "k3s-agent-01-k3s-upgrade", "k3s-agent-01-k3s-uncordon"],
    );
    assert.deepEqual(
      g.children("k3s-server-01-k3s").map((r) => r.name),
      ["k3s-server-01-k3s-join", "k3s-server-01-k3s-member", "k3s-server-01-k3s-upgrade"],
    );
    for (const r of g.resources.filter((x) => x.type.startsWith("homelab:cluster:"))) {
      assert.deepEqual(r.inputs, {}, `${r.name}: component inputs are never stored`);
    }
    assert.deepEqual(g.get("k3s-token").inputs, { length: 48, special: false });
  });

  test("join order: the bootstrap, then server 1, 2, 3, one at a time; agents right after server 1, in parallel", async () => {
    const g = await labGraph();
    assert.deepEqual(stepDeps(g, "k3s-bootstrap"), ["k3s-server-01-ready"]);
    assert.deepEqual(stepDeps(g, "k3s-server-01-k3s-join"), ["k3s-bootstrap", "k3s-server-01-ready"]);
    assert.deepEqual(stepDeps(g, "k3s-server-02-k3s-join"), ["k3s-bootstrap", "k3s-server-01-k3s-join", "k3s-server-02-ready"]);
    assert.deepEqual(stepDeps(g, "k3s-server-03-k3s-join"), ["k3s-bootstrap", "k3s-server-02-k3s-join", "k3s-server-03-ready"]);
    assert.deepEqual(g.depNames("k3s-server-01-k3s-join"), ["k3s-agent-token", "k3s-bootstrap", "k3s-server-01-ready", "k3s-server-01-vm", "k3s-token"]);
    assert.ok(g.dependsOn("k3s-server-03-k3s-join", "k3s-server-01-k3s-join"));
    // A server's membership runs on another server, once that one has joined too (no cycle: the
    // join chain never waits for a membership step).
    assert.deepEqual(stepDeps(g, "k3s-server-01-k3s-member"), ["k3s-server-01-k3s-join", "k3s-server-02-k3s-join"]);
    assert.deepEqual(stepDeps(g, "k3s-server-02-k3s-member"), ["k3s-server-01-k3s-join", "k3s-server-02-k3s-join"]);
    for (const agent of [...AGENTS, GPU]) {
      const join = `${agent}-k3s-join`;
      assert.deepEqual(
        stepDeps(g, join),
        [`${agent}-ready`, "k3s-server-01-k3s-join", ...(agent === GPU ? [`${GPU}-nvidia-check`] : [])].sort(),
        `${agent} joins once server 1 is up`,
      );
      for (const other of [...SERVERS.slice(1), ...AGENTS, GPU].filter((n) => n !== agent)) {
        for (const step of [`${other}-ready`, `${other}-k3s-join`, `${other}-k3s-member`]) {
          if (g.has(step)) assert.ok(!g.dependsOn(`${agent}-k3s-member`, step), `${agent} must not wait for ${step}`);
        }
      }
    }
  });

  test("every SSH step depends on the readiness gate of the VM it connects to, with the dial budget", async () => {
    const g = await labGraph();
    const doc = stackDoc();
    const vmByIp = new Map((doc["homelab:nodes"] as { name: string; ip: string }[]).map((n) => [n.ip, n.name]));
    const commands = clusterCommands(g);
    assert.equal(commands.length, 6 * 3 + 3 * 2 + 2 + 4, "3 steps per node, drain and uncordon per agent, the bootstrap and the kubeconfig read, the GPU driver steps");
    for (const c of commands) {
      const conn = c.rawInputs.connection as Record<string, unknown>;
      const vm = vmByIp.get(String(conn.host));
      assert.ok(vm, `${c.name} connects to a cluster VM`);
      assert.ok(g.dependsOn(c.name, `${vm}-ready`), `${c.name} waits for ${vm}-ready`);
      // Only the step after the GPU driver's reboot waits out a boot; the rest run on a VM that is
      // up, so a dead VM (a delete path: uninstall, node removal) fails them in minutes.
      const dial = c.name === `${GPU}-nvidia-check` ? SSH_DIAL : SSH_DIAL_UP;
      assert.equal(conn.dialErrorLimit, dial.dialErrorLimit, `${c.name}: retries the dial`);
      assert.equal(conn.perDialTimeout, dial.perDialTimeout);
      assert.ok(c.secretPaths.includes("connection"), `${c.name}: the connection (private key) is secret`);
      assert.equal(c.inputs.addPreviousOutputInEnv, false, c.name);
      assert.ok(["stderr", "none"].includes(String(c.inputs.logging)), `${c.name}: stdout is never logged`);
    }
    // Membership steps run on the first server by name, except its own (on the next one); the
    // node's own steps on the node.
    const host = (name: string) => (g.get(name).rawInputs.connection as any).host;
    assert.equal(host("k3s-agent-02-k3s-member"), "10.0.20.11");
    assert.equal(host("k3s-agent-02-k3s-drain"), "10.0.20.11");
    assert.equal(host("k3s-agent-02-k3s-uncordon"), "10.0.20.11");
    assert.equal(host("k3s-server-03-k3s-member"), "10.0.20.11");
    assert.equal(host("k3s-server-01-k3s-member"), "10.0.20.12");
    assert.equal(host("k3s-agent-02-k3s-join"), "10.0.20.22");
    assert.equal(host("k3s-kubeconfig"), "10.0.20.11");
    // The GPU driver's drain and uncordon run kubectl on the GPU node's control server, after its
    // join; the install and check on the GPU node itself.
    for (const step of [`${GPU}-nvidia-drain`, `${GPU}-nvidia-uncordon`]) {
      assert.equal(host(step), "10.0.20.11", step);
      assert.ok(g.depNames(step).includes("k3s-server-01-k3s-join"), `${step}: kubectl works there`);
    }
    assert.equal(host(`${GPU}-nvidia`), "10.0.20.31");
    assert.equal(host(`${GPU}-nvidia-check`), "10.0.20.31");
  });
});

describe("K3sCluster: scripts as planned", () => {
  test("every create, update and delete of the cluster layer passes shellcheck", async (t) => {
    if (!requireTool(t, "shellcheck")) return;
    const g = await labGraph();
    const scripts = new Map<string, string>();
    for (const c of clusterCommands(g)) {
      for (const key of ["create", "update", "delete"] as const) {
        const text = c.rawInputs[key];
        if (typeof text === "string") scripts.set(text, `${c.name}.${key}`);
      }
    }
    assert.ok(scripts.size >= 15, `distinct scripts: ${scripts.size}`);
    for (const [script, where] of scripts) assert.equal(shellcheck(script), "", where);
  });
});

describe("K3sCluster: secrets", () => {
  test("the tokens reach config.yaml through stdin only, and an agent never sees the server token", async () => {
    const g = await labGraph();
    for (const c of g.ofType(CMD)) {
      for (const key of ["create", "update", "delete"] as const) {
        const text = String(c.rawInputs[key] ?? "");
        assert.ok(!text.includes(TOKEN) && !text.includes(AGENT_TOKEN), `${c.name}.${key} holds no token`);
        assert.ok(!text.includes("client-key-data"), `${c.name}.${key} holds no kubeconfig`);
      }
      assert.equal(c.rawInputs.environment, undefined, `${c.name}: nothing in the environment`);
    }
    for (const s of SERVERS) {
      const join = g.get(`${s}-k3s-join`);
      assert.ok(join.secretPaths.includes("stdin"), `${s}: stdin is secret`);
      assert.equal(join.inputs.stdin, "[secret]");
      assert.equal(configOf(g, s).token, TOKEN);
      assert.equal(configOf(g, s)["agent-token"], AGENT_TOKEN);
    }
    for (const a of [...AGENTS, GPU]) {
      assert.ok(g.get(`${a}-k3s-join`).secretPaths.includes("stdin"));
      assert.equal(configOf(g, a).token, AGENT_TOKEN);
      assert.ok(!String(g.get(`${a}-k3s-join`).rawInputs.stdin).includes(TOKEN), `${a} gets the agent token only`);
    }
  });

  test("the kubeconfig is read unlogged into a secret output, and the stack output is secret", async () => {
    const g = await labGraph();
    const read = g.get("k3s-kubeconfig");
    assert.ok(read.additionalSecretOutputs.includes("stdout"));
    assert.equal(read.inputs.logging, "none");
    // Traefik's Middleware CRD comes from k3s's traefik-crd chart after "Ready": the kubeconfig waits for it.
    assert.match(String(read.inputs.create), /\ncrds='helmchartconfigs\.helm\.cattle\.io middlewares\.traefik\.io'\n/);
    assert.match(String(read.inputs.create), /kubectl wait --for=condition=Established "crd\/\$c"/);
    assert.deepEqual(stepDeps(g, "k3s-kubeconfig"), [...SERVERS.flatMap((s) => [`${s}-k3s-member`, `${s}-k3s-upgrade`])].sort());
    assert.equal(g.result.outputs.kubeconfig, "[secret]");
    // The token a restore from a snapshot needs, kept as a secret stack output.
    assert.equal(g.result.outputs.k3sToken, "[secret]");
    assert.equal(g.result.rawOutputs.k3sToken, TOKEN);
    const kubeconfig = parse(String(g.result.rawOutputs.kubeconfig));
    assert.equal(kubeconfig.clusters[0].cluster.server, "https://k3s.lab.example.com:6443");
    assert.equal(kubeconfig["current-context"], "homelab-test");
    assert.equal(g.result.outputs.apiServer, "https://k3s.lab.example.com:6443");
    const provider = g.get("k3s-k8s");
    assert.ok(provider.secretPaths.includes("kubeconfig"));
    // Pulumi itself talks to the first server (reachable whenever the SSH steps are), not to the
    // exported endpoint, which may be a DNS name or VIP the program does not create.
    const providerKubeconfig = parse(String(provider.rawInputs.kubeconfig));
    assert.equal(providerKubeconfig.clusters[0].cluster.server, "https://10.0.20.11:6443");
    assert.deepEqual(providerKubeconfig.users, kubeconfig.users);
    assert.deepEqual(g.depNames("k3s-k8s"), ["k3s-cluster-id", "k3s-kubeconfig"], "no VM names the cluster");
  });
});

describe("K3sCluster: config.yaml, labels and taints", () => {
  test("servers: config.yaml names no join target (the join step picks one); every API address in tls-san; servicelb off", async () => {
    const g = await labGraph();
    for (const s of SERVERS) {
      assert.equal(configOf(g, s)["cluster-init"], undefined, s);
      assert.equal(configOf(g, s).server, undefined, s);
    }
    // The join targets each node may use: every other server, by name.
    const peers = (n: string) => /\npeers='([^']*)'\n/.exec(String(g.get(`${n}-k3s-join`).rawInputs.create))![1];
    assert.equal(peers("k3s-server-01"), "https://10.0.20.12:6443 https://10.0.20.13:6443");
    assert.equal(peers("k3s-server-02"), "https://10.0.20.11:6443 https://10.0.20.13:6443");
    assert.equal(peers("k3s-agent-01"), "https://10.0.20.11:6443 https://10.0.20.12:6443 https://10.0.20.13:6443");
    for (const s of SERVERS) {
      const c = configOf(g, s);
      assert.deepEqual(c["tls-san"], ["k3s.lab.example.com", "10.0.20.11", "10.0.20.12", "10.0.20.13"]);
      assert.deepEqual(c.disable, ["servicelb"]);
      assert.equal(c["node-name"], s);
    }
    assert.deepEqual(Object.keys(configOf(g, "k3s-agent-01")).sort(), ["node-ip", "node-name", "token"]);
  });

  test("configured labels and taints: registered where the kubelet may, all reconciled from a server", async () => {
    const doc = stackDoc();
    Object.assign(nodeSpec(doc, "k3s-agent-01"), {
      labels: { "node-role.kubernetes.io/worker": "true", "node.kubernetes.io/workload": "media" },
      taints: ["dedicated=media:NoSchedule"],
    });
    const g = await planConfig(doc);
    const c = configOf(g, "k3s-agent-01");
    assert.deepEqual(c["node-label"], ["node.kubernetes.io/workload=media"]);
    assert.deepEqual(c["node-taint"], ["dedicated=media:NoSchedule"]);
    const member = String(g.get("k3s-agent-01-k3s-member").inputs.create);
    assert.match(member, /kubectl label node 'k3s-agent-01' --overwrite 'node-role\.kubernetes\.io\/worker=true' 'node\.kubernetes\.io\/workload=media' >&2/);
    assert.match(member, /kubectl taint node 'k3s-agent-01' --overwrite 'dedicated=media:NoSchedule' >&2/);
  });

  test("the GPU node registers with its labels and the GPU taint", async () => {
    const g = await labGraph();
    const c = configOf(g, GPU);
    assert.deepEqual(c["node-label"], ["accelerator=nvidia-rtx-4000-ada", "nvidia.com/device-plugin.config=time-slicing-4", "nvidia.com/gpu.present=true"]);
    assert.deepEqual(c["node-taint"], ["nvidia.com/gpu=true:NoSchedule"]);
    assert.match(String(g.get(`${GPU}-k3s-member`).inputs.create), /kubectl taint node 'k3s-gpu-01' --overwrite 'nvidia\.com\/gpu=true:NoSchedule'/);
  });

  test("a stack without Traefik and with an API VIP: traefik disabled, the VIP in tls-san and the kubeconfig", async () => {
    const doc = stackDoc();
    doc["homelab:cluster"] = { apiHostname: "k3s.lab.example.com", apiVip: "10.0.20.5", traefik: false };
    // Without Traefik nothing can be published: no ingress, no Grafana, no apps.
    for (const key of ["homelab:traefik", "homelab:apps", "homelab:flux"]) delete doc[key];
    doc["homelab:monitoring"] = { enabled: false };
    const g = await planConfig(doc);
    const c = configOf(g, "k3s-server-02");
    assert.deepEqual(c.disable, ["servicelb", "traefik"]);
    assert.deepEqual(c["tls-san"], ["10.0.20.5", "k3s.lab.example.com", "10.0.20.11", "10.0.20.12", "10.0.20.13"]);
    assert.equal(parse(String(g.result.rawOutputs.kubeconfig)).clusters[0].cluster.server, "https://10.0.20.5:6443");
  });
});

describe("K3sCluster: etcd snapshots and restore", () => {
  test("snapshots to S3 on the stack's schedule: k3s's own keys on every server only, the secret key only in the secret config.yaml", async () => {
    const doc = stackDoc();
    doc["homelab:etcdS3SecretKey"] = { secure: "v1:placeholder:s3-secret" };
    doc["homelab:cluster"] = { ...doc["homelab:cluster"], etcdSnapshots: { s3: { endpoint: "nas.lab.example.com:9000", bucket: "k3s-etcd", accessKey: "homelab-etcd" } } };
    const g = await planConfig(doc);
    for (const s of SERVERS) {
      const c = configOf(g, s);
      const keys = Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith("etcd-")));
      assert.deepEqual(
        { ...keys, "etcd-s3-secret-key": typeof keys["etcd-s3-secret-key"] },
        {
          "etcd-s3": true,
          "etcd-s3-access-key": "homelab-etcd",
          "etcd-s3-bucket": "k3s-etcd",
          "etcd-s3-endpoint": "nas.lab.example.com:9000",
          "etcd-s3-folder": "homelab-test",
          "etcd-s3-region": "us-east-1",
          "etcd-s3-secret-key": "string",
          "etcd-snapshot-retention": 28,
          "etcd-snapshot-schedule-cron": "0 */6 * * *",
        },
      );
      assert.ok(g.get(`${s}-k3s-join`).secretPaths.includes("stdin"));
    }
    for (const a of [...AGENTS, GPU]) assert.ok(!Object.keys(configOf(g, a)).some((k) => k.startsWith("etcd-")), a);
    // No script or plain input carries the secret key.
    const secretKey = configOf(g, "k3s-server-01")["etcd-s3-secret-key"];
    for (const c of g.ofType(CMD)) for (const k of ["create", "update", "delete"]) assert.ok(!String(c.rawInputs[k] ?? "").includes(secretKey), `${c.name}.${k}`);
  });

  test("a restore runs on the named server only, from the named snapshot", async () => {
    const doc = stackDoc();
    doc["homelab:etcdS3SecretKey"] = { secure: "v1:placeholder:s3-secret" };
    doc["homelab:cluster"] = {
      ...doc["homelab:cluster"],
      etcdSnapshots: { s3: { endpoint: "nas.lab.example.com:9000", bucket: "k3s-etcd", accessKey: "homelab-etcd" } },
      etcdRestore: { node: "k3s-server-02", snapshot: "etcd-snapshot-k3s-server-02-1767225600" },
    };
    const g = await planConfig(doc);
    for (const n of [...SERVERS, ...AGENTS, GPU]) {
      const want = n === "k3s-server-02" ? "etcd-snapshot-k3s-server-02-1767225600" : "";
      assert.match(String(g.get(`${n}-k3s-join`).rawInputs.create), new RegExp(`\nrestore='${want}'\n`), n);
    }
  });
});

describe("K3sCluster: lifecycle", () => {
  test("install/uninstall pairs are delete-before-replace, and every step reruns on a recreated VM", async () => {
    const g = await labGraph();
    for (const n of [...SERVERS, ...AGENTS, GPU]) {
      const join = g.get(`${n}-k3s-join`);
      const member = g.get(`${n}-k3s-member`);
      const upgrade = g.get(`${n}-k3s-upgrade`);
      assert.equal(join.deleteBeforeReplace, true, `${n}: uninstall before a reinstall`);
      assert.equal(member.deleteBeforeReplace, true, `${n}: the old Node object goes before the new one registers`);
      assert.equal(upgrade.deleteBeforeReplace, false);
      const instanceKey = g.get(`${n}-ready`).rawInputs.triggers as unknown[];
      assert.equal(instanceKey.length, 1);
      for (const step of [join, member, upgrade]) assert.deepEqual(step.rawInputs.triggers, instanceKey, `${step.name}: triggered by the VM's instance key`);
      assert.match(String(join.rawInputs.delete), /k3s(-agent)?-uninstall\.sh/);
    }
  });

  test("upgrade chain: servers one at a time, then agents one batch at a time, each drained first; none of it is on the join path", async () => {
    const g = await labGraph();
    assert.deepEqual(stepDeps(g, "k3s-server-01-k3s-upgrade"), ["k3s-server-01-k3s-member"]);
    assert.deepEqual(stepDeps(g, "k3s-server-02-k3s-upgrade"), ["k3s-server-01-k3s-upgrade", "k3s-server-02-k3s-member"]);
    assert.deepEqual(stepDeps(g, "k3s-server-03-k3s-upgrade"), ["k3s-server-02-k3s-upgrade", "k3s-server-03-k3s-member"]);
    // Default batch of 1: agent-01, then agent-02, then the GPU agent; each drain, upgrade, uncordon.
    const agents = [...AGENTS, GPU];
    for (const [i, a] of agents.entries()) {
      const after = i === 0 ? "k3s-server-03-k3s-upgrade" : `${agents[i - 1]}-k3s-uncordon`;
      // The GPU agent's upgrade drain also waits for its driver's uncordon (one drain at a time).
      const driver = a === GPU ? [`${GPU}-nvidia-uncordon`] : [];
      assert.deepEqual(stepDeps(g, `${a}-k3s-drain`), [...new Set([`${a}-k3s-member`, "k3s-server-03-k3s-upgrade", after, ...driver])].sort(), a);
      assert.deepEqual(stepDeps(g, `${a}-k3s-upgrade`), [`${a}-k3s-drain`]);
      assert.deepEqual(stepDeps(g, `${a}-k3s-uncordon`), [`${a}-k3s-upgrade`]);
      assert.ok(!g.dependsOn(`${a}-k3s-member`, "k3s-server-01-k3s-upgrade"), `${a} joins without waiting for upgrades`);
      assert.match(String(g.get(`${a}-k3s-drain`).rawInputs.create), new RegExp(`kubectl drain '${a}' --ignore-daemonsets --delete-emptydir-data --timeout=300s`));
    }
    // A batch of 2: the first two agents together, the third after the first.
    const doc = stackDoc();
    doc["homelab:cluster"] = { ...doc["homelab:cluster"], agentUpgradeBatch: 2 };
    const two = await planConfig(doc);
    assert.deepEqual(stepDeps(two, "k3s-agent-02-k3s-drain"), ["k3s-agent-02-k3s-member", "k3s-server-03-k3s-upgrade"]);
    assert.deepEqual(stepDeps(two, `${GPU}-k3s-drain`), ["k3s-agent-01-k3s-uncordon", `${GPU}-k3s-member`, `${GPU}-nvidia-uncordon`, "k3s-server-03-k3s-upgrade"]);
    assert.ok(!two.dependsOn("k3s-agent-02-k3s-upgrade", "k3s-agent-01-k3s-upgrade"));
  });

  test("a k3s version change updates the version steps in chain order and never touches a VM", async () => {
    const before = await labGraph();
    const doc = stackDoc();
    doc["homelab:versions"].k3s = "v1.35.1+k3s1";
    const after = await planConfig(doc);
    const changed = after.resources
      .filter((r) => JSON.stringify(r.rawInputs) !== JSON.stringify(before.get(r.name, r.type).rawInputs))
      .map((r) => r.name)
      .sort();
    const nodes = [...SERVERS, ...AGENTS, GPU];
    assert.deepEqual(
      changed,
      ["k3s-kubeconfig", ...nodes.flatMap((n) => [`${n}-k3s-join`, `${n}-k3s-upgrade`]), ...[...AGENTS, GPU].flatMap((a) => [`${a}-k3s-drain`, `${a}-k3s-uncordon`])].sort(),
      "only the k3s steps change (and the kubeconfig read, for the renewed certificate): no VM, no token",
    );
    // The kubeconfig is read again after the last server upgrade, checking every server's version.
    const read = after.get("k3s-kubeconfig").rawInputs;
    assert.match(String(read.create), /\nservers='k3s-server-01 k3s-server-02 k3s-server-03'\nversion='v1\.35\.1\+k3s1'\n/);
    assert.deepEqual(read.triggers, before.get("k3s-kubeconfig").rawInputs.triggers, "an update, not a replacement");
    assert.ok(after.dependsOn("k3s-kubeconfig", "k3s-server-03-k3s-upgrade"));
    for (const n of nodes) {
      const up = after.get(`${n}-k3s-upgrade`).rawInputs;
      assert.match(String(up.update), /\nversion='v1\.35\.1\+k3s1'\ninstaller_url='https:\/\/raw\.githubusercontent\.com\/k3s-io\/k3s\/v1\.35\.1%2Bk3s1\/install\.sh'\n/);
      assert.equal(up.update, up.create);
      assert.deepEqual(up.triggers, before.get(`${n}-k3s-upgrade`).rawInputs.triggers, `${n}: an update, not a replacement`);
      assert.deepEqual(after.get(`${n}-k3s-join`).rawInputs.triggers, before.get(`${n}-k3s-join`).rawInputs.triggers);
      // The join step only installs when k3s is absent: on a running node its update is a no-op.
      assert.match(String(after.get(`${n}-k3s-join`).rawInputs.update), /\nif \[ "\$installed" = false \]; then\n/);
    }
    // The order the engine applies those updates in.
    const order = ["k3s-server-01-k3s-upgrade", "k3s-server-02-k3s-upgrade", "k3s-server-03-k3s-upgrade"];
    for (let i = 1; i < order.length; i++) assert.ok(after.dependsOn(order[i], order[i - 1]));
    for (const a of [...AGENTS, GPU]) assert.ok(after.dependsOn(`${a}-k3s-upgrade`, "k3s-server-03-k3s-upgrade"));
  });

  test("removing a node: its membership step drains it and deletes the Node object from a server, before its VM goes", async () => {
    const g = await labGraph();
    const member = g.get("k3s-agent-02-k3s-member");
    const del = String(member.rawInputs.delete);
    assert.equal((member.rawInputs.connection as any).host, "10.0.20.11", "runs on a server, through kubectl");
    assert.match(del, /\nnode='k3s-agent-02'\nrole='agent'\ndrain_timeout='300s'\n/);
    assert.match(del, /kubectl drain "\$node" --ignore-daemonsets --delete-emptydir-data --timeout="\$drain_timeout"/);
    assert.match(del, /kubectl delete node "\$node" --timeout=120s/);
    assert.ok(del.indexOf("kubectl drain") < del.indexOf("kubectl delete node"));
    // The engine deletes dependents first: member, then join (uninstall), then the VM.
    assert.ok(g.dependsOn("k3s-agent-02-k3s-member", "k3s-agent-02-k3s-join"));
    assert.ok(g.dependsOn("k3s-agent-02-k3s-join", "k3s-agent-02-vm"));
    assert.match(String(g.get("k3s-agent-02-k3s-join").rawInputs.delete), /sudo \/usr\/local\/bin\/k3s-agent-uninstall\.sh/);
    // A server's removal also removes its etcd member (the Node object), unless it is the last.
    assert.match(String(g.get("k3s-server-03-k3s-member").rawInputs.delete), /\nrole='server'\n/);

    const doc = stackDoc();
    doc["homelab:nodes"] = (doc["homelab:nodes"] as { name: string }[]).filter((n) => n.name !== "k3s-agent-02");
    const without = await planConfig(doc);
    const gone = g.resources.filter((r) => !without.resources.some((x) => x.urn === r.urn)).map((r) => r.name);
    assert.deepEqual(gone.sort(), [
      "k3s-agent-02",
      "k3s-agent-02-authorized-keys",
      "k3s-agent-02-k3s",
      "k3s-agent-02-k3s-drain",
      "k3s-agent-02-k3s-join",
      "k3s-agent-02-k3s-member",
      "k3s-agent-02-k3s-uncordon",
      "k3s-agent-02-k3s-upgrade",
      "k3s-agent-02-ready",
      "k3s-agent-02-reboot-drain",
      "k3s-agent-02-reboot-vm",
      "k3s-agent-02-reboot-wait",
      "k3s-agent-02-user-data",
      "k3s-agent-02-vm",
    ]);
    for (const s of SERVERS) assert.deepEqual(configOf(without, s), configOf(g, s), `${s} is untouched`);
  });

  test("an unchanged stack plans the same inputs twice (nothing reruns)", async () => {
    const a = await labGraph();
    const b = await planConfig(stackDoc());
    for (const r of clusterCommands(a)) assert.deepEqual(b.get(r.name, r.type).rawInputs, r.rawInputs, r.name);
  });

  test("a preview plans the same graph (the kubeconfig is simply unknown)", async () => {
    const a = await labGraph();
    const p = await planConfig(stackDoc(), { preview: true });
    assert.deepEqual(
      p.resources.filter((r) => r.urn.includes("homelab:cluster:")).map((r) => r.urn),
      a.resources.filter((r) => r.urn.includes("homelab:cluster:")).map((r) => r.urn),
    );
  });
});

describe("GpuNode", () => {
  test("a cluster-wide PCI mapping, and the VM passes the GPU through it (q35, OVMF + EFI disk, no ballooning)", async () => {
    const g = await labGraph();
    const gpuNode = g.get(GPU, "homelab:cluster:GpuNode");
    // The cluster side only: the VM and its mapping are the metal layer's, like every other VM.
    assert.deepEqual(
      g.resources
        .filter((r) => r.parent === gpuNode.urn)
        .map((r) => [r.type, r.name])
        .sort(),
      [
        ["homelab:cluster:K3sNode", `${GPU}-k3s`],
        [CMD, `${GPU}-nvidia-drain`],
        [CMD, `${GPU}-nvidia`],
        [CMD, `${GPU}-nvidia-check`],
        [CMD, `${GPU}-nvidia-uncordon`],
      ].sort(),
    );
    assert.equal(g.get(GPU, "homelab:metal:ProxmoxVm").parent, g.get("k3s-server-01", "homelab:metal:ProxmoxVm").parent);
    const mapping = g.get(`${GPU}-pci`);
    assert.equal(mapping.inputs.name, "gpu-k3s-gpu-01");
    assert.deepEqual(mapping.inputs.maps, [{ node: "pve-01", path: "0000:01:00.0", id: "10de:27b0", subsystemId: "10de:16fa", iommuGroup: 14 }]);
    assert.match(mapping.provider, /pulumi:providers:proxmoxve::proxmox::/);
    const vm = g.get(`${GPU}-vm`);
    assert.deepEqual(vm.inputs.hostpcis, [{ device: "hostpci0", mapping: "gpu-k3s-gpu-01", pcie: true, rombar: true }]);
    assert.equal(vm.inputs.machine, "q35");
    assert.equal(vm.inputs.bios, "ovmf");
    assert.deepEqual(vm.inputs.efiDisk, { datastoreId: "local-lvm", type: "4m", preEnrolledKeys: false });
    assert.deepEqual(vm.inputs.memory, { dedicated: 32768, floating: 0 });
    assert.ok(g.depNames(`${GPU}-vm`).includes(`${GPU}-pci`), "the VM waits for its mapping");
  });

  test("driver and toolkit (with their reboot) before the k3s agent joins", async () => {
    const g = await labGraph();
    // A driver change drains the node first (from its control server), and uncordons it once the
    // check passed and the agent is a Ready member again.
    assert.deepEqual(stepDeps(g, `${GPU}-nvidia-drain`), [`${GPU}-ready`, "k3s-server-01-k3s-join"]);
    assert.deepEqual(stepDeps(g, `${GPU}-nvidia`), [`${GPU}-nvidia-drain`, `${GPU}-ready`]);
    assert.deepEqual(stepDeps(g, `${GPU}-nvidia-check`), [`${GPU}-nvidia`]);
    assert.deepEqual(stepDeps(g, `${GPU}-nvidia-uncordon`), [`${GPU}-k3s-member`, `${GPU}-nvidia`, `${GPU}-nvidia-check`, `${GPU}-nvidia-drain`, "k3s-server-01-k3s-join"]);
    // The uncordon's stdin is the decision, made of the drain's and the install's saved output only.
    const uncordon = g.get(`${GPU}-nvidia-uncordon`);
    assert.equal(uncordon.propertyDependencies.stdin?.length, 2);
    assert.deepEqual([...(uncordon.propertyDependencies.stdin ?? [])].sort(), [g.get(`${GPU}-nvidia-drain`).urn, g.get(`${GPU}-nvidia`).urn].sort());
    for (const step of [`${GPU}-nvidia-drain`, `${GPU}-nvidia`, `${GPU}-nvidia-check`, `${GPU}-nvidia-uncordon`]) {
      assert.deepEqual(g.get(step).rawInputs.triggers, g.get(`${GPU}-ready`).rawInputs.triggers, `${step}: replaced with a new VM (its create never drains)`);
    }
    assert.match(String(g.get(`${GPU}-nvidia-drain`).rawInputs.create), /\nmode='create'\n/);
    assert.match(String(g.get(`${GPU}-nvidia-drain`).rawInputs.update), /\nmode='update'\n/);
    assert.match(String(g.get(`${GPU}-nvidia-drain`).rawInputs.update), /\nsettings_key='homelab-infra\/gpu-driver'\nfingerprint='nvidia-driver-580-server-open'\n/);
    assert.match(String(g.get(`${GPU}-nvidia-uncordon`).rawInputs.update), /\nrecord_key='homelab-infra\/gpu-driver'\nrecord_value='nvidia-driver-580-server-open'\n/);
    assert.ok(g.depNames(`${GPU}-k3s-join`).includes(`${GPU}-nvidia-check`));
    // The toolkit at the stack's pin (versions.nvidiaContainerToolkit), all four of its packages.
    assert.match(
      String(g.get(`${GPU}-nvidia`).inputs.create),
      /\npkg='nvidia-driver-580-server-open'\ntoolkit_version='1\.17\.8-1'\ntoolkit_packages='nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1'\n/,
    );
    const doc = stackDoc();
    nodeSpec(doc, GPU).gpu.kernelModules = "proprietary";
    const proprietary = await planConfig(doc);
    assert.match(String(proprietary.get(`${GPU}-nvidia`).inputs.create), /\npkg='nvidia-driver-580-server'\ntoolkit_version='1\.17\.8-1'\n/);
    // A toolkit bump: only the install's script changes (no drain: the driver package is the same).
    const bump = stackDoc();
    bump["homelab:versions"].nvidiaContainerToolkit = "1.18.0-1";
    const bumped = await planConfig(bump);
    const changed = bumped.resources.filter((r) => JSON.stringify(r.rawInputs) !== JSON.stringify(g.get(r.name, r.type).rawInputs)).map((r) => r.name);
    assert.deepEqual(changed, [`${GPU}-nvidia`]);
    assert.match(String(bumped.get(`${GPU}-nvidia`).inputs.update), /\ntoolkit_version='1\.18\.0-1'\n/);
  });

  test("the device plugin chart waits for the GPU agent; the smoke Job gates the GPU", async () => {
    const g = await labGraph();
    const release = g.get("nvidia-device-plugin-release");
    const { name, chart, version, repositoryOpts, atomic, cleanupOnFail, timeout } = release.inputs;
    assert.deepEqual(
      { name, chart, version, repositoryOpts, atomic, cleanupOnFail, timeout },
      {
        name: "nvidia-device-plugin",
        chart: "nvidia-device-plugin",
        version: "0.18.0",
        repositoryOpts: { repo: "https://nvidia.github.io/k8s-device-plugin" },
        atomic: true,
        cleanupOnFail: true,
        timeout: 600,
      },
    );
    assert.equal(release.inputs.namespace, "nvidia-device-plugin");
    const values = release.inputs.values as Record<string, any>;
    assert.equal(values.runtimeClassName, "nvidia");
    assert.deepEqual(values.nodeSelector, { "nvidia.com/gpu.present": "true" });
    assert.deepEqual(Object.keys(values.config.map), ["default", "time-slicing-4"]);
    assert.ok(g.depNames("nvidia-device-plugin-release").includes(`${GPU}-nvidia-uncordon`));
    assert.match(release.provider, /pulumi:providers:kubernetes::k3s-k8s::/);
    const job = g.get(`nvidia-device-plugin-smoke-${GPU}`);
    assert.ok(g.depNames(job.name).includes("nvidia-device-plugin-release"));
    assert.ok(g.depNames(job.name).includes(`${GPU}-nvidia-uncordon`));
    assert.equal((job.inputs.spec as any).template.spec.nodeSelector["kubernetes.io/hostname"], GPU);
    // What the Job proves: the VM, the driver package and the version the check read from dpkg.
    const instanceKey = (g.get(`${GPU}-ready`).rawInputs.triggers as string[])[0];
    assert.deepEqual((job.inputs.spec as any).template.metadata.annotations, {
      "homelab-infra/gpu-fingerprint": `${instanceKey}/nvidia-driver-580-server-open=plan-stdout-${GPU}-nvidia-check`,
    });
    assert.ok(g.depNames(job.name).includes(`${GPU}-nvidia-check`));
    assert.match(job.provider, /pulumi:providers:kubernetes::k3s-k8s::/);
    // The device plugin is not on the path to a ready cluster.
    assert.ok(!g.dependsOn("k3s-kubeconfig", `${GPU}-k3s-member`));
  });

  test("without the smoke test there is no Job", async () => {
    const doc = stackDoc();
    doc["homelab:cluster"] = { ...doc["homelab:cluster"], gpuSmokeTest: false };
    const g = await planConfig(doc);
    assert.ok(g.has("nvidia-device-plugin-release"));
    assert.equal(g.ofType("kubernetes:batch/v1:Job").length, 0);
  });
});

/** Runs the metal and cluster layers under the recording monitor and hands the Cluster to `fn`. */
async function withCluster(doc: Record<string, unknown>, fn: (c: Cluster) => Promise<void>): Promise<void> {
  const stackFile = parseStackFile(stringify({ config: doc }));
  const monitor = new RecordingMonitor();
  pulumi.runtime.setAllConfig(stackFile.config, stackFile.secretKeys);
  await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, PROJECT, "test", false);
  pulumi.runtime.setMockOptions(monitor, PROJECT, "test", false);
  const loaded = loadStack(EXTRA_CHECKS);
  await pulumi.runtime.runInPulumiStack(async () => {
    await fn(buildCluster(loaded.config, buildMetal(loaded.config, loaded.secrets)));
    return {};
  });
  await pulumi.runtime.disconnect();
}

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply((v) => (resolve(v), v)));
const nameOf = async (r: pulumi.Resource) => (await value(r.urn)).split("::").at(-1);

describe("the Cluster contract", () => {
  test("provider, secret kubeconfig, apiServer, ready, nodeReady per node, gpuReady", async () => {
    await withCluster(stackDoc(), async (c) => {
      assert.equal(c.apiServer, "https://k3s.lab.example.com:6443");
      assert.equal(await pulumi.isSecret(c.kubeconfig), true);
      assert.equal(await nameOf(c.provider), "k3s-k8s");
      assert.deepEqual(await Promise.all(c.ready.map(nameOf)), ["k3s-kubeconfig"]);
      assert.equal(await nameOf(c.nodeReady("k3s-server-02")), "k3s-server-02-k3s-member");
      assert.equal(await nameOf(c.nodeReady("k3s-agent-01")), "k3s-agent-01-k3s-member");
      // The GPU node is ready once its driver steps have uncordoned it (after its membership step).
      assert.equal(await nameOf(c.nodeReady(GPU)), `${GPU}-nvidia-uncordon`);
      assert.throws(() => c.nodeReady("vault"), /unknown cluster node vault; the nodes are k3s-server-01, k3s-server-02, k3s-server-03, k3s-agent-01, k3s-agent-02, k3s-gpu-01/);
      assert.deepEqual(await Promise.all(c.gpuReady.map(nameOf)), [`nvidia-device-plugin-smoke-${GPU}`]);
    });
  });

  test("no GPU node: gpuReady is empty", async () => {
    const doc = stackDoc();
    doc["homelab:nodes"] = (doc["homelab:nodes"] as { role: string }[]).filter((n) => n.role !== "gpu");
    delete doc["homelab:apps"]; // the catalog's GPU apps need a GPU node
    await withCluster(doc, async (c) => {
      assert.deepEqual(c.gpuReady, []);
    });
  });
});

describe("single-server stacks", () => {
  test("home (1 server, 2 agents): the server initialises alone, agents join it, the kubeconfig points at it", async () => {
    const g = await planFile("Pulumi.home.yaml", "home");
    const server = configOf(g, "k3s-control");
    assert.deepEqual(server["tls-san"], ["192.168.0.100"]);
    assert.deepEqual(server.disable, ["servicelb"]);
    // The only server: no peer to join, so its join initialises etcd (with the bootstrap's mark);
    // its membership runs on itself.
    assert.match(String(g.get("k3s-control-k3s-join").rawInputs.create), /\npeers=''\n/);
    assert.equal((g.get("k3s-control-k3s-member").rawInputs.connection as any).host, "192.168.0.100");
    for (const a of ["k3s-node-1", "k3s-node-2"]) {
      assert.match(String(g.get(`${a}-k3s-join`).rawInputs.create), /\npeers='https:\/\/192\.168\.0\.100:6443'\n/);
      assert.ok(g.depNames(`${a}-k3s-join`).includes("k3s-control-k3s-join"));
      assert.ok(g.dependsOn(`${a}-k3s-upgrade`, "k3s-control-k3s-upgrade"));
    }
    assert.deepEqual(stepDeps(g, "k3s-kubeconfig"), ["k3s-control-k3s-member", "k3s-control-k3s-upgrade"]);
    assert.equal(g.result.outputs.apiServer, "https://192.168.0.100:6443");
    assert.equal(g.result.outputs.kubeconfig, "[secret]");
    assert.equal(g.resources.filter((r) => r.urn.includes("NvidiaDevicePlugin") || r.urn.includes("GpuNode")).length, 0);
  });

  test("the lab reduced to one server plans too", async () => {
    const doc = stackDoc();
    doc["homelab:nodes"] = (doc["homelab:nodes"] as { name: string }[]).filter((n) => !["k3s-server-02", "k3s-server-03"].includes(n.name));
    const g = await planConfig(doc);
    assert.deepEqual(stepDeps(g, "k3s-kubeconfig"), ["k3s-server-01-k3s-member", "k3s-server-01-k3s-upgrade"]);
    assert.deepEqual(configOf(g, "k3s-server-01")["tls-san"], ["k3s.lab.example.com", "10.0.20.11"]);
  });
});

describe("critical path", () => {
  test("adding agents does not lengthen the path to a ready cluster", async () => {
    const base = criticalPath((await labGraph()).resources, isClusterReady);
    const doc = stackDoc();
    for (const [i, host] of ["pve-01", "pve-02", "pve-03", "pve-01"].entries()) {
      (doc["homelab:nodes"] as unknown[]).push({ name: `k3s-agent-1${i}`, role: "agent", host, vmid: 240 + i, ip: `10.0.20.${40 + i}` });
    }
    const more = await planConfig(doc);
    assert.equal(more.ofType("homelab:cluster:K3sNode").length, 10);
    const path = criticalPath(more.resources, isClusterReady);
    assert.equal(path.seconds, base.seconds);
    assert.deepEqual(
      path.steps.map((s) => s.name),
      base.steps.map((s) => s.name),
    );
    assert.ok(
      path.steps.every((s) => !/agent|gpu/.test(s.name)),
      "no agent on the path to a ready cluster",
    );
    assert.equal(path.steps.at(-1)?.name, "k3s-k8s");
  });
});
