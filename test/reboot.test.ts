// The rolling reboot (settings that need a power cycle: ProxmoxVm.rebootFingerprint): its chain
// under the recording monitor, what a change of memory, DNS, keys or versions does to it, and its
// scripts run against stubs (kubectl, qm) and shellcheck.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  DRIVER_ANNOTATION,
  DRIVER_REBOOTING_ANNOTATION,
  driverDecision,
  driverDrainScript,
  driverUncordonScript,
  rebootDrainScript,
  rebootWaitScript,
  REBOOTING_ANNOTATION,
  SETTINGS_ANNOTATION,
} from "../src/cluster/rollingReboot";
import { SSH_DIAL, SSH_DIAL_UP } from "../src/metal/proxmoxVm";
import { rebootCheckScript, rebootVmScript, REBOOT_SHUTDOWN_TIMEOUT } from "../src/metal/vmReboot";
import { planConfig, stackDoc, type Graph } from "./harness";
import { requireTool, shellcheck } from "./validators";

const SERVERS = ["k3s-server-01", "k3s-server-02", "k3s-server-03"];
const AGENTS = ["k3s-agent-01", "k3s-agent-02", "k3s-gpu-01"];
const NODES = [...SERVERS, ...AGENTS];
const STEPS = ["drain", "vm", "wait"] as const;

let lab: Graph | undefined;
async function labGraph(): Promise<Graph> {
  lab ??= await planConfig(stackDoc());
  return lab;
}
const conn = (g: Graph, name: string) => g.get(name).rawInputs.connection as Record<string, unknown>;
const changed = (a: Graph, b: Graph) =>
  b.resources
    .filter((r) => JSON.stringify(r.rawInputs) !== JSON.stringify(a.get(r.name, r.type).rawInputs))
    .map((r) => r.name)
    .sort();

describe("the rolling reboot chain", () => {
  test("per k3s node: drain on a control server, reboot on its Proxmox node, wait and uncordon; a standalone VM: check, reboot", async () => {
    const g = await labGraph();
    assert.deepEqual(
      g.children("reboot").map((r) => r.name),
      NODES.flatMap((n) => STEPS.map((s) => `${n}-reboot-${s}`)),
    );
    assert.deepEqual(
      g.children("vault-reboot").map((r) => r.name),
      ["vault-reboot-check", "vault-reboot-vm"],
    );
    for (const n of NODES) {
      assert.deepEqual(
        g.depNames(`${n}-reboot-vm`).filter((d) => d.includes("reboot")),
        [`${n}-reboot-drain`],
      );
      assert.deepEqual(
        g.depNames(`${n}-reboot-wait`).filter((d) => d.includes("reboot")),
        [`${n}-reboot-vm`],
      );
      // The decision travels on stdin: a step runs again only when the decision before it changes.
      assert.equal(g.get(`${n}-reboot-vm`).propertyDependencies.stdin?.length, 1);
      assert.deepEqual(g.get(`${n}-reboot-vm`).propertyDependencies.stdin, [g.get(`${n}-reboot-drain`).urn]);
      assert.deepEqual(g.get(`${n}-reboot-wait`).propertyDependencies.stdin, [g.get(`${n}-reboot-vm`).urn]);
      for (const s of STEPS) assert.deepEqual(g.get(`${n}-reboot-${s}`).rawInputs.triggers, g.get(`${n}-ready`).rawInputs.triggers, `${n}-${s}: restarts on a new VM`);
    }
  });

  test("servers one at a time, then agents one at a time (agentRebootBatch 1), after every upgrade", async () => {
    const g = await labGraph();
    const order = NODES;
    for (let i = 1; i < order.length; i++) {
      assert.ok(g.depNames(`${order[i]}-reboot-drain`).includes(`${order[i - 1]}-reboot-wait`), `${order[i]} after ${order[i - 1]}`);
    }
    assert.ok(!g.depNames("k3s-server-01-reboot-drain").some((d) => d.endsWith("-reboot-wait")));
    for (const n of NODES) {
      for (const u of NODES) assert.ok(g.dependsOn(`${n}-reboot-drain`, `${u}-k3s-upgrade`), `${n} reboots after ${u}'s upgrade`);
      assert.ok(g.dependsOn(`${n}-reboot-drain`, `${n}-k3s-member`), `${n} is registered before its drain`);
    }
    assert.ok(g.dependsOn("k3s-gpu-01-reboot-drain", "k3s-gpu-01-nvidia-check"));
    // Off the path to a ready cluster: nothing in the cluster waits for a reboot step.
    assert.ok(!g.dependsOn("k3s-kubeconfig", "k3s-server-01-reboot-wait"));
    assert.ok(!g.resources.some((r) => !r.name.includes("reboot") && r.dependencies.some((d) => g.byUrn(d).name.includes("-reboot-"))));
  });

  test("agentRebootBatch 2: two agents at a time after the last server", async () => {
    const doc = stackDoc();
    doc["homelab:cluster"] = { ...doc["homelab:cluster"], agentRebootBatch: 2 };
    const g = await planConfig(doc);
    for (const a of ["k3s-agent-01", "k3s-agent-02"])
      assert.deepEqual(
        g.depNames(`${a}-reboot-drain`).filter((d) => d.endsWith("-reboot-wait")),
        ["k3s-server-03-reboot-wait"],
      );
    assert.deepEqual(
      g.depNames("k3s-gpu-01-reboot-drain").filter((d) => d.endsWith("-reboot-wait")),
      ["k3s-agent-01-reboot-wait"],
    );
  });

  test("kubectl runs on a server other than the node; qm on the VM's Proxmox node as the provider's SSH user", async () => {
    const g = await labGraph();
    const doc = stackDoc();
    const hostOf = new Map((doc["homelab:nodes"] as { name: string; host: string }[]).map((n) => [n.name, n.host]));
    const pveAddress = new Map((doc["homelab:proxmox"].nodes as { name: string; address: string }[]).map((n) => [n.name, n.address]));
    assert.equal(conn(g, "k3s-server-01-reboot-drain").host, "10.0.20.12", "server 1 is drained from server 2");
    for (const n of NODES.slice(1)) assert.equal(conn(g, `${n}-reboot-drain`).host, "10.0.20.11");
    for (const n of NODES) {
      const vm = conn(g, `${n}-reboot-vm`);
      assert.equal(vm.host, pveAddress.get(hostOf.get(n)!));
      assert.equal(vm.user, "root");
      assert.equal(vm.dialErrorLimit, SSH_DIAL_UP.dialErrorLimit);
      assert.equal(conn(g, `${n}-reboot-wait`).dialErrorLimit, SSH_DIAL.dialErrorLimit, "may wait out its own control server's reboot");
      for (const s of STEPS) {
        const r = g.get(`${n}-reboot-${s}`);
        assert.ok(r.secretPaths.includes("connection"));
        assert.equal(r.inputs.logging, "stderr");
        assert.equal(r.inputs.addPreviousOutputInEnv, false);
      }
      assert.match(
        String(g.get(`${n}-reboot-vm`).rawInputs.create),
        new RegExp(`\nvmid='${(doc["homelab:nodes"] as { name: string; vmid: number }[]).find((x) => x.name === n)!.vmid}'\n`),
      );
    }
  });

  test("the single-server home stack drains its server from itself", async () => {
    const doc = stackDoc("Pulumi.home.yaml");
    const g = await planConfig(doc);
    assert.equal(conn(g, "k3s-control-reboot-drain").host, "192.168.0.100");
    assert.equal(conn(g, "k3s-control-reboot-wait").dialErrorLimit, SSH_DIAL.dialErrorLimit);
  });
});

describe("what a change does to the reboot chain (plan before and after)", () => {
  test("memory on every node: every VM is updated in place, each drain step's fingerprint changes, chained one server at a time", async () => {
    const before = await labGraph();
    const doc = stackDoc();
    for (const n of doc["homelab:nodes"] as Record<string, unknown>[]) n.memory = 12288;
    const after = await planConfig(doc);
    const c = changed(before, after);
    const vms = NODES.map((n) => `${n}-vm`);
    for (const v of vms) assert.ok(c.includes(v), v);
    assert.deepEqual(
      c.filter((n) => n.includes("reboot")),
      NODES.map((n) => `${n}-reboot-drain`).sort(),
      "only the decisions change; the rest follows at apply",
    );
    for (const n of NODES) {
      const a = after.get(`${n}-vm`);
      const b = before.get(`${n}-vm`);
      assert.equal(a.rawInputs.rebootAfterUpdate, false, "the VM update never reboots");
      assert.deepEqual({ ...a.rawInputs, memory: b.rawInputs.memory }, b.rawInputs, `${n}: only memory changes on the VM`);
      assert.deepEqual(after.get(`${n}-reboot-drain`).rawInputs.triggers, before.get(`${n}-reboot-drain`).rawInputs.triggers, "an update, not a replacement");
      assert.notEqual(after.get(`${n}-reboot-drain`).rawInputs.update, before.get(`${n}-reboot-drain`).rawInputs.update);
    }
    // vault is not a k3s node: its own check step.
    assert.ok(c.includes("vault-reboot-check") === false, "vault keeps its memory (2048) and reboots nothing");
    for (let i = 1; i < SERVERS.length; i++) assert.ok(after.dependsOn(`${SERVERS[i]}-reboot-drain`, `${SERVERS[i - 1]}-reboot-wait`));
  });

  test("DNS servers: every VM and every decision (the cloud-init settings apply at a boot)", async () => {
    const before = await labGraph();
    const doc = stackDoc();
    doc["homelab:network"].dns = ["10.0.20.1", "1.1.1.1"];
    const after = await planConfig(doc);
    const c = changed(before, after);
    for (const n of [...NODES, "vault"]) assert.ok(c.includes(`${n}-vm`), n);
    assert.deepEqual(
      c.filter((n) => /reboot-(drain|check)$/.test(n)),
      [...NODES.map((n) => `${n}-reboot-drain`), "vault-reboot-check"].sort(),
    );
  });

  test("a new SSH key, a k3s version or a bigger disk needs no reboot: no decision changes its fingerprint", async () => {
    const before = await labGraph();
    const doc = stackDoc();
    doc["homelab:ssh"].authorizedKeys.push("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISecondKeySecondKeySecondKeySecondKey000002 second@lab");
    doc["homelab:versions"].k3s = "v1.35.0+k3s1";
    for (const n of doc["homelab:nodes"] as Record<string, unknown>[]) n.diskSize = 250;
    const after = await planConfig(doc);
    const c = changed(before, after);
    assert.deepEqual(
      c.filter((n) => n.includes("reboot")),
      [],
    );
  });

  test("an unchanged stack plans the same reboot steps (nothing re-runs)", async () => {
    const a = await labGraph();
    const b = await planConfig(stackDoc());
    assert.deepEqual(changed(a, b), []);
  });
});

// --- the scripts, run against stubs ------------------------------------------------------------

interface Stub {
  readonly dir: string;
  calls(): string[];
  ann(key: string): string | undefined;
}

/** A stub `sudo` (stripping `timeout N`) for `k3s kubectl` (annotations kept in files) and `qm`. */
function stubs(
  opts: {
    annotations?: Record<string, string>;
    bootIds?: string[];
    ready?: boolean;
    drainOk?: boolean;
    apiUp?: boolean;
    vmStatus?: string;
    /** false: the Node does not exist (a GPU node before its first join). */
    registered?: boolean;
    /** The Node is already cordoned (.spec.unschedulable). */
    unschedulable?: boolean;
    /** false: every kubectl call fails (the API does not answer). */
    kubeApi?: boolean;
  } = {},
): Stub {
  const dir = mkdtempSync(join(tmpdir(), "reboot-stub-"));
  const log = join(dir, "calls.log");
  writeFileSync(log, "");
  for (const [k, v] of Object.entries(opts.annotations ?? {})) writeFileSync(join(dir, `ann-${k.replace("/", "_")}`), v);
  writeFileSync(join(dir, "boot-ids"), (opts.bootIds ?? ["B1"]).join("\n") + "\n");
  const kubectl = `
${opts.kubeApi === false ? 'echo "The connection to the server 127.0.0.1:6443 was refused" >&2; exit 1' : ""}
case "$*" in
  *"--ignore-not-found -o name") ${opts.registered === false ? "exit 0" : 'printf "node/%s\\n" "$3"; exit 0'} ;;
  "get node "*" -o jsonpath={.spec.unschedulable}") printf '%s' '${opts.unschedulable ? "true" : ""}'; exit 0 ;;
  *"jsonpath={.metadata.annotations."*) k=\${*##*annotations.}; k=\${k%\\}}; f="${dir}/ann-$(echo "$k" | tr / _)"; [ -f "$f" ] && cat "$f"; exit 0 ;;
  *bootID*) id=$(head -n1 "${dir}/boot-ids"); n=$(wc -l < "${dir}/boot-ids"); [ "$n" -gt 1 ] && sed -i 1d "${dir}/boot-ids"; printf '%s' "$id"; exit 0 ;;
  *'@.type=="Ready"'*) printf '%s' '${opts.ready === false ? "Unknown" : "True"}'; exit 0 ;;
  *"get --raw /readyz"*) ${opts.apiUp === false ? "exit 1" : "exit 0"} ;;
  drain*) ${opts.drainOk === false ? "exit 1" : "exit 0"} ;;
  "annotate node "*) shift 3; for kv in "$@"; do case "$kv" in --*) ;; *=*) printf '%s' "\${kv#*=}" > "${dir}/ann-$(echo "\${kv%%=*}" | tr / _)" ;; *-) rm -f "${dir}/ann-$(echo "\${kv%-}" | tr / _)" ;; esac; done; exit 0 ;;
  "get node "*) ${opts.registered === false ? 'echo "Error from server (NotFound): nodes not found" >&2; exit 1' : ":"} ;;
esac
exit 0`;
  const sudo = `#!/bin/sh
[ "$1" = timeout ] && shift 2
if [ "$1" = k3s ] && [ "$2" = kubectl ]; then shift 2; echo "kubectl $*" >> ${log}; ${kubectl}
fi
if [ "$1" = qm ]; then exec "${dir}/qm" "$@"; fi
exec "$@"
`;
  const qm = `#!/bin/sh
shift
echo "qm $*" >> ${log}
[ "$1" = status ] && { echo "status: ${opts.vmStatus ?? "running"}"; exit 0; }
exit 0
`;
  writeFileSync(join(dir, "sudo"), sudo);
  writeFileSync(join(dir, "qm"), qm.replace("shift\n", ""));
  writeFileSync(join(dir, "sleep"), "#!/bin/sh\nexit 0\n");
  writeFileSync(join(dir, "timeout"), '#!/bin/sh\nshift\nexec "$@"\n');
  for (const f of ["sudo", "qm", "sleep", "timeout"]) chmodSync(join(dir, f), 0o755);
  return {
    dir,
    calls: () =>
      readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .filter((l) => l !== ""),
    ann: (key) => {
      const f = join(dir, `ann-${key.replace("/", "_")}`);
      return existsSync(f) ? readFileSync(f, "utf8") : undefined;
    },
  };
}

function run(stub: Stub, script: string, stdin = "") {
  const r = spawnSync("sh", ["-c", script], { input: stdin, encoding: "utf8", env: { ...process.env, PATH: `${stub.dir}:${process.env.PATH}` } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: stub.calls() };
}

describe("reboot-drain.sh (against a stub kubectl)", () => {
  const FP = "0123456789abcdef";
  test("create records the fingerprint and reboots nothing (a new node runs with its settings)", () => {
    const s = stubs();
    const r = run(s, rebootDrainScript("k3s-agent-01", FP, "create"));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "none\n");
    assert.equal(s.ann(SETTINGS_ANNOTATION), FP);
    assert.ok(!r.calls.some((c) => /cordon|drain/.test(c)), r.calls.join("\n"));
  });
  test("update with the recorded fingerprint: nothing", () => {
    const s = stubs({ annotations: { [SETTINGS_ANNOTATION]: FP } });
    const r = run(s, rebootDrainScript("k3s-agent-01", FP, "update"));
    assert.equal(r.stdout, "none\n");
    assert.ok(!r.calls.some((c) => /cordon|drain|annotate/.test(c)), r.calls.join("\n"));
  });
  test("update without a recorded fingerprint (a node older than this step): recorded, nothing else", () => {
    const s = stubs();
    const r = run(s, rebootDrainScript("k3s-agent-01", FP, "update"));
    assert.equal(r.stdout, "none\n");
    assert.equal(s.ann(SETTINGS_ANNOTATION), FP);
  });
  test("a changed fingerprint: cordon, drain, then record it with the boot ID to replace", () => {
    const s = stubs({ annotations: { [SETTINGS_ANNOTATION]: "old" }, bootIds: ["B1"] });
    const r = run(s, rebootDrainScript("k3s-agent-01", FP, "update"));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "reboot B1\n");
    const cordon = r.calls.indexOf("kubectl cordon k3s-agent-01");
    const drain = r.calls.findIndex((c) => c.startsWith("kubectl drain k3s-agent-01 --ignore-daemonsets --delete-emptydir-data --timeout=300s"));
    const annotate = r.calls.findIndex((c) => c.startsWith("kubectl annotate node k3s-agent-01"));
    assert.ok(cordon >= 0 && cordon < drain && drain < annotate, r.calls.join("\n"));
    assert.equal(s.ann(SETTINGS_ANNOTATION), FP);
    assert.equal(s.ann(REBOOTING_ANNOTATION), "B1");
  });
  test("a drain that does not finish stops the chain and records nothing (the next run drains again)", () => {
    const s = stubs({ annotations: { [SETTINGS_ANNOTATION]: "old" }, drainOk: false });
    const r = run(s, rebootDrainScript("k3s-agent-01", FP, "update"));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /draining k3s-agent-01 did not finish within 300s \(a PodDisruptionBudget may block it\); it stays cordoned: resolve it and run pulumi up again/);
    assert.equal(s.ann(SETTINGS_ANNOTATION), "old");
  });
  test("a node that is not Ready is rebooted without a drain", () => {
    const s = stubs({ annotations: { [SETTINGS_ANNOTATION]: "old" }, ready: false });
    const r = run(s, rebootDrainScript("k3s-agent-01", FP, "update"));
    assert.equal(r.stdout, "reboot B1\n");
    assert.ok(!r.calls.some((c) => c.startsWith("kubectl drain")));
  });
  test("a reboot started but not finished is resumed", () => {
    const s = stubs({ annotations: { [SETTINGS_ANNOTATION]: FP, [REBOOTING_ANNOTATION]: "B0" } });
    const r = run(s, rebootDrainScript("k3s-agent-01", FP, "update"));
    assert.equal(r.stdout, "reboot B0\n");
  });
});

describe("reboot-vm.sh (against a stub qm)", () => {
  test("'none' on stdin: no qm call but the status read", () => {
    const s = stubs();
    const r = run(s, rebootVmScript("k3s-agent-01", 221), "none\n");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "none\n");
    assert.deepEqual(r.calls, []);
  });
  test("'reboot' on stdin: a Proxmox reboot with a bounded shutdown, then it waits for the VM to run", () => {
    const s = stubs();
    const r = run(s, rebootVmScript("k3s-agent-01", 221), "reboot B1\n");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "reboot B1\n");
    assert.deepEqual(r.calls, ["qm status 221", `qm reboot 221 --timeout ${REBOOT_SHUTDOWN_TIMEOUT}`, "qm status 221"]);
  });
  test("a stopped VM is started instead", () => {
    const s = stubs({ vmStatus: "stopped" });
    const r = run(s, rebootVmScript("vault", 301), "reboot x\n");
    assert.ok(r.calls.includes("qm start 301"), r.calls.join("\n"));
  });
});

describe("reboot-wait.sh (against a stub kubectl)", () => {
  test("waits for a new boot ID and Ready (a server: its API too), then uncordons and clears the reboot mark", () => {
    const s = stubs({ annotations: { [REBOOTING_ANNOTATION]: "B1" }, bootIds: ["B1", "B1", "B2"] });
    const r = run(s, rebootWaitScript("k3s-server-02", "server", "10.0.20.12"), "reboot B1\n");
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.calls.includes("kubectl --server https://10.0.20.12:6443 --request-timeout=10s get --raw /readyz"), r.calls.join("\n"));
    assert.equal(r.calls.filter((c) => c.includes("bootID")).length, 3, "polled until the boot ID changed");
    // Each polled read is bounded by the API's own timeout too (finding 15).
    assert.ok(
      r.calls.filter((c) => c.includes("bootID") || c.includes('@.type=="Ready"') || c.includes("/readyz")).every((c) => c.includes(" --request-timeout=10s ")),
      r.calls.join("\n"),
    );
    assert.ok(r.calls.indexOf("kubectl uncordon k3s-server-02") > r.calls.findIndex((c) => c.includes("/readyz")));
    assert.equal(s.ann(REBOOTING_ANNOTATION), undefined);
  });
  test("'none': nothing", () => {
    const s = stubs();
    const r = run(s, rebootWaitScript("k3s-agent-01", "agent", "10.0.20.21"), "none\n");
    assert.equal(r.stdout, "none\n");
    assert.deepEqual(r.calls, []);
  });
  test("a server whose API does not answer stays cordoned, and the chain stops", () => {
    const s = stubs({ bootIds: ["B2"], apiUp: false });
    const r = run(s, rebootWaitScript("k3s-server-02", "server", "10.0.20.12"), "reboot B1\n");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /k3s-server-02 did not come back healthy after its reboot; it stays cordoned/);
    assert.ok(!r.calls.some((c) => c.includes("uncordon")));
  });
});

// --- the GPU driver's drain and uncordon (GpuNode): the same two scripts, rendered for a driver ---

describe("GPU driver drain (reboot-drain.sh as GpuNode renders it, against a stub kubectl)", () => {
  const NODE = "k3s-gpu-01";
  const PKG = "nvidia-driver-580-server-open";
  const OLD = "nvidia-driver-570-server-open";
  const registeredOnce = (calls: string[]) => assert.deepEqual(calls, [`kubectl get node ${NODE} --ignore-not-found -o name`], calls.join("\n"));
  for (const mode of ["create", "update"] as const) {
    test(`${mode}, node not registered (a first create): none at once, no wait for it to register, nothing recorded`, () => {
      const s = stubs({ registered: false });
      const r = run(s, driverDrainScript(NODE, PKG, mode));
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "none\n");
      assert.equal(r.stderr, `${NODE} is not registered in the cluster: nothing to drain\n`);
      registeredOnce(r.calls);
    });
  }
  test("an API that does not answer fails the step: it never counts as 'not registered'", () => {
    const s = stubs({ kubeApi: false });
    const r = run(s, driverDrainScript(NODE, PKG, "update"));
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /The connection to the server 127\.0\.0\.1:6443 was refused/);
  });
  test("create on a registered node (the step is new on an existing stack): records the package, drains nothing", () => {
    const s = stubs();
    const r = run(s, driverDrainScript(NODE, PKG, "create"));
    assert.equal(r.stdout, "none\n");
    assert.equal(s.ann(DRIVER_ANNOTATION), PKG);
    assert.ok(!r.calls.some((c) => /cordon|drain /.test(c)), r.calls.join("\n"));
  });
  test("update with the recorded package: none, nothing written", () => {
    const s = stubs({ annotations: { [DRIVER_ANNOTATION]: PKG } });
    const r = run(s, driverDrainScript(NODE, PKG, "update"));
    assert.equal(r.stdout, "none\n");
    assert.ok(!r.calls.some((c) => /cordon|drain |annotate/.test(c)), r.calls.join("\n"));
  });
  test("a changed package: cordon, drain, then the new package and the boot ID in the driver's own annotations", () => {
    const s = stubs({ annotations: { [DRIVER_ANNOTATION]: OLD, [SETTINGS_ANNOTATION]: "fp" }, bootIds: ["B1"] });
    const r = run(s, driverDrainScript(NODE, PKG, "update"));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "reboot B1\n");
    assert.match(r.stderr, new RegExp(`${NODE}: NVIDIA driver changed \\(${OLD} -> ${PKG}\\); cordon and drain before its reboot`));
    const cordon = r.calls.indexOf(`kubectl cordon ${NODE}`);
    const drain = r.calls.indexOf(`kubectl drain ${NODE} --ignore-daemonsets --delete-emptydir-data --timeout=300s`);
    const annotate = r.calls.indexOf(`kubectl annotate node ${NODE} --overwrite ${DRIVER_ANNOTATION}=${PKG} ${DRIVER_REBOOTING_ANNOTATION}=B1`);
    assert.ok(cordon >= 0 && cordon < drain && drain < annotate, r.calls.join("\n"));
    assert.equal(s.ann(DRIVER_ANNOTATION), PKG);
    assert.equal(s.ann(DRIVER_REBOOTING_ANNOTATION), "B1");
    // The rolling reboot's records are not touched.
    assert.equal(s.ann(SETTINGS_ANNOTATION), "fp");
    assert.equal(s.ann(REBOOTING_ANNOTATION), undefined);
  });
  test("a node cordoned before (by hand): drained, and the decision and its record say the cordon is not ours", () => {
    const s = stubs({ annotations: { [DRIVER_ANNOTATION]: OLD }, unschedulable: true });
    const r = run(s, driverDrainScript(NODE, PKG, "update"));
    assert.equal(r.stdout, "reboot B1 cordoned-before\n");
    assert.equal(s.ann(DRIVER_REBOOTING_ANNOTATION), "B1 cordoned-before");
  });
  test("a second change while this program's own drain is unfinished: its own cordon, not 'cordoned before'", () => {
    const s = stubs({ annotations: { [DRIVER_ANNOTATION]: PKG, [DRIVER_REBOOTING_ANNOTATION]: "B1" }, unschedulable: true, bootIds: ["B2"] });
    const r = run(s, driverDrainScript(NODE, "nvidia-driver-590-server-open", "update"));
    assert.equal(r.stdout, "reboot B2\n");
    const kept = stubs({ annotations: { [DRIVER_ANNOTATION]: PKG, [DRIVER_REBOOTING_ANNOTATION]: "B1 cordoned-before" }, unschedulable: true, bootIds: ["B2"] });
    assert.equal(run(kept, driverDrainScript(NODE, "nvidia-driver-590-server-open", "update")).stdout, "reboot B2 cordoned-before\n");
  });
  test("an unfinished drain of the same package is resumed with its cordon record", () => {
    const s = stubs({ annotations: { [DRIVER_ANNOTATION]: PKG, [DRIVER_REBOOTING_ANNOTATION]: "B0 cordoned-before" } });
    assert.equal(run(s, driverDrainScript(NODE, PKG, "update")).stdout, "reboot B0 cordoned-before\n");
  });
});

describe("GPU driver decision (the uncordon step's stdin, from saved outputs only)", () => {
  test("drained and rebooted, drained without a reboot, nothing drained", () => {
    assert.equal(driverDecision("reboot B1\n", "k3s-gpu-01: reboot scheduled\n"), "reboot B1");
    assert.equal(driverDecision("reboot B1 cordoned-before\n", "k3s-gpu-01: reboot scheduled\n"), "reboot B1 cordoned-before");
    assert.equal(driverDecision("reboot B1\n", "k3s-gpu-01: the driver is loaded; no reboot needed\n"), "drained B1");
    assert.equal(driverDecision("none\n", "k3s-gpu-01: reboot scheduled\n"), "none");
    assert.equal(driverDecision("none\n", "k3s-gpu-01: nvidia-driver-580-server-open and nvidia-container-toolkit are installed and the GPU is visible\n"), "none");
  });
});

describe("GPU driver uncordon (reboot-wait.sh as GpuNode renders it, against a stub kubectl)", () => {
  const NODE = "k3s-gpu-01";
  const PKG = "nvidia-driver-580-server-open";
  const record = `kubectl annotate node ${NODE} --overwrite ${DRIVER_ANNOTATION}=${PKG}`;
  test("'none' (a first create, an unchanged driver): records the package, nothing else", () => {
    const s = stubs();
    const r = run(s, driverUncordonScript(NODE, PKG), "none\n");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "none\n");
    assert.deepEqual(r.calls, [record]);
    assert.equal(s.ann(DRIVER_ANNOTATION), PKG);
  });
  test("'reboot': waits for a new boot ID and Ready, uncordons, clears its mark, records the package", () => {
    const s = stubs({ annotations: { [DRIVER_REBOOTING_ANNOTATION]: "B1" }, bootIds: ["B1", "B2"] });
    const r = run(s, driverUncordonScript(NODE, PKG), "reboot B1\n");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${NODE} rebooted and Ready\n`);
    assert.equal(r.calls.filter((c) => c.includes("bootID")).length, 2, "polled until the boot ID changed");
    assert.ok(!r.calls.some((c) => c.includes("/readyz")), "an agent: no API server of its own");
    const uncordon = r.calls.indexOf(`kubectl uncordon ${NODE}`);
    assert.ok(uncordon > r.calls.findIndex((c) => c.includes('@.type=="Ready"')));
    assert.ok(uncordon < r.calls.indexOf(record));
    assert.equal(s.ann(DRIVER_REBOOTING_ANNOTATION), undefined);
    assert.equal(s.ann(DRIVER_ANNOTATION), PKG);
  });
  test("'drained' (the install needed no reboot): no boot wait, Ready, uncordon", () => {
    const s = stubs({ annotations: { [DRIVER_REBOOTING_ANNOTATION]: "B1" }, bootIds: ["B1"] });
    const r = run(s, driverUncordonScript(NODE, PKG), "drained B1\n");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${NODE} drained and Ready\n`);
    assert.ok(!r.calls.some((c) => c.includes("bootID")), r.calls.join("\n"));
    assert.ok(r.calls.includes(`kubectl uncordon ${NODE}`));
    assert.equal(s.ann(DRIVER_ANNOTATION), PKG);
  });
  test("cordoned before the drain: stays cordoned, the package is still recorded", () => {
    const s = stubs({ annotations: { [DRIVER_REBOOTING_ANNOTATION]: "B1 cordoned-before" }, bootIds: ["B2"] });
    const r = run(s, driverUncordonScript(NODE, PKG), "reboot B1 cordoned-before\n");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /k3s-gpu-01 was cordoned before this program drained it; it stays cordoned/);
    assert.ok(!r.calls.some((c) => c.includes("uncordon")), r.calls.join("\n"));
    assert.equal(s.ann(DRIVER_REBOOTING_ANNOTATION), undefined);
    assert.equal(s.ann(DRIVER_ANNOTATION), PKG);
  });
  test("a node that does not come back Ready stays cordoned, and nothing is recorded", () => {
    const s = stubs({ bootIds: ["B2"], ready: false });
    const r = run(s, driverUncordonScript(NODE, PKG), "reboot B1\n");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /k3s-gpu-01 did not come back healthy after its reboot; it stays cordoned/);
    assert.ok(!r.calls.some((c) => c.includes("uncordon") || c.includes("annotate")), r.calls.join("\n"));
  });
});

describe("reboot-check.sh (a standalone VM, state on the VM)", () => {
  test("create records, an equal fingerprint does nothing, a changed one asks for a reboot", () => {
    const s = stubs();
    const state = join(s.dir, "state");
    const script = (fp: string, mode: "create" | "update") => rebootCheckScript("vault", fp, mode).replace("/var/lib/homelab-infra/vm-settings", state);
    assert.equal(run(s, script("aaaa", "create")).stdout, "none\n");
    assert.equal(readFileSync(state, "utf8"), "aaaa\n");
    assert.equal(run(s, script("aaaa", "update")).stdout, "none\n");
    assert.equal(run(s, script("bbbb", "update")).stdout, "reboot bbbb\n");
    assert.equal(readFileSync(state, "utf8"), "bbbb\n");
  });
});

describe("reboot scripts pass shellcheck", () => {
  test("every reboot script as planned", async (t) => {
    if (!requireTool(t, "shellcheck")) return;
    const g = await labGraph();
    const scripts = new Set<string>();
    for (const r of g.resources.filter((x) => x.name.includes("-reboot-"))) {
      for (const k of ["create", "update"]) if (typeof r.rawInputs[k] === "string") scripts.add(String(r.rawInputs[k]));
    }
    assert.ok(scripts.size >= 6 * 2 + 2, `${scripts.size}`);
    for (const s of scripts) assert.equal(shellcheck(s), "", s.split("\n")[1]);
  });
  test("the GPU driver's drain and uncordon as planned, in sh and bash", async (t) => {
    if (!requireTool(t, "shellcheck")) return;
    const g = await labGraph();
    const scripts = ["k3s-gpu-01-nvidia-drain", "k3s-gpu-01-nvidia-uncordon"].flatMap((n) => ["create", "update"].map((k) => String(g.get(n).rawInputs[k])));
    assert.equal(new Set(scripts).size, 3, "drain create, drain update, uncordon");
    for (const s of scripts) for (const shell of ["sh", "bash"]) assert.equal(shellcheck(s, shell), "", `${shell}: ${s.split("\n")[1]}`);
  });
});
