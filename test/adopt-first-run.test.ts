// Adopting a running lab (issue 19): the command steps cannot be imported, so the first `pulumi up`
// after the import runs every one of them. Here each real rendered script of the fixture lab's
// draft stack runs under bash with a PATH of stub binaries (k3s, systemctl, curl, cloud-init, qm,
// sudo, timeout, sleep) that record their calls and emulate a node already in the wanted state
// (k3s installed and active at the pinned version, its Node Ready, the VM running): none may
// install, upgrade, restart, cordon, drain or reboot. What a step does change there is asserted
// exactly and said in the README ("Adopting a running lab").
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { draftStack, readInventory } from "../src/adopt/inventory";
import type { RecordedResource } from "../src/plan/recorder";
import { parseStackFile, runPlan } from "../src/plan/run";
import { planFile, ROOT } from "./harness";

const VERSION = "v1.34.2+k3s1";
/** The lab's versions.nvidiaContainerToolkit. */
const TOOLKIT = "1.17.8-1";
const HAND_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHandAddedKeyHandAddedKeyHandAddedKeyHand01 other@laptop";

interface Run {
  readonly name: string;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly calls: string[];
  readonly dir: string;
}

/** The stubs of a node already in the wanted state; every call is appended to `log`. */
function stubs(log: string): Record<string, string> {
  return {
    sudo: `#!/bin/sh
printf '%s\\n' "sudo $*" >> ${log}
case "$1" in
  timeout) shift; shift; exec "$@" ;;
  install) for last; do :; done; mkdir -p "$(dirname "$last")"; cat > "$last" ;;
  cmp|rm|mv|grep|sed|test|systemctl|k3s|journalctl|nvidia-smi|systemd-run) exec "$@" ;;
  openssl) exit 0 ;;
  cat) [ "$2" = /etc/rancher/k3s/k3s.yaml ] && { printf 'apiVersion: v1\\nkind: Config\\n'; exit 0; }; exec "$@" ;;
esac
exit 0
`,
    timeout: `#!/bin/sh\nprintf '%s\\n' "timeout $*" >> ${log}\nshift\nexec "$@"\n`,
    k3s: `#!/bin/sh
printf '%s\\n' "k3s $*" >> ${log}
case "$1" in
  --version) echo "k3s version ${VERSION} (1f0c4b0e)"; echo "go version go1.24.9"; exit 0 ;;
  kubectl) ;;
  *) exit 0 ;;
esac
shift
case "$*" in
  *kubeletVersion*) printf '%s' '${VERSION}' ;;
  *"-o name"*) printf 'node/%s\\n' "$3" ;;
  *bootID*) printf 'boot-1' ;;
  *'type=="Ready"'*) printf 'True' ;;
esac
exit 0
`,
    // The other role's unit is not installed (systemctl cat fails); this role's is active.
    systemctl: `#!/bin/sh\nprintf '%s\\n' "systemctl $*" >> ${log}\n[ "$1" = cat ] && exit 1\nexit 0\n`,
    curl: `#!/bin/sh\nprintf '%s\\n' "curl $*" >> ${log}\ncase "$*" in *healthz*) echo ok ;; esac\nexit 0\n`,
    "cloud-init": `#!/bin/sh\nprintf '%s\\n' "cloud-init $*" >> ${log}\nexit 0\n`,
    qm: `#!/bin/sh\nprintf '%s\\n' "qm $*" >> ${log}\n[ "$1" = status ] && echo "status: running"\nexit 0\n`,
    sleep: "#!/bin/sh\nexit 0\n",
    // A GPU node with the driver package and the pinned toolkit installed, the GPU visible.
    dpkg: `#!/bin/sh\nprintf '%s\\n' "dpkg $*" >> ${log}\necho "Status: install ok installed"\n`,
    "dpkg-query": `#!/bin/sh\nprintf '%s\\n' "dpkg-query $*" >> ${log}\ncase "$*" in *nvidia-container-toolkit*) printf '%s' '${TOOLKIT}' ;; *) printf '%s' '580.95.05-0ubuntu0.24.04.2' ;; esac\n`,
    "nvidia-smi": `#!/bin/sh\nprintf '%s\\n' "nvidia-smi $*" >> ${log}\necho "GPU 0: NVIDIA RTX 4000 Ada Generation (UUID: GPU-0)"\n`,
    "nvidia-container-runtime": "#!/bin/sh\nexit 0\n",
    "systemd-run": `#!/bin/sh\nprintf '%s\\n' "systemd-run $*" >> ${log}\n`,
  };
}

/** Runs one step's `create` script as the remote shell would, against the stubs, in a scratch root. */
function runStep(r: RecordedResource, stdin: string | undefined, prepare: (dir: string, etc: string) => void = () => {}): Run {
  const dir = mkdtempSync(join(tmpdir(), "adopt-run-"));
  const etc = join(dir, "etc");
  const home = join(dir, "home");
  const bin = join(dir, "bin");
  const log = join(dir, "calls.log");
  for (const d of [etc, join(etc, "config.yaml.d"), join(home, ".ssh"), bin]) mkdirSync(d, { recursive: true });
  for (const [name, body] of Object.entries(stubs(log))) {
    writeFileSync(join(bin, name), body);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(log, "");
  prepare(dir, etc);
  const script = String(r.rawInputs.create).replace(`\netc='/etc/rancher/k3s'\n`, `\netc='${etc}'\n`);
  const out = spawnSync("bash", ["-c", script], { encoding: "utf8", input: stdin ?? "", env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home } });
  const calls = readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split(dir).join(""));
  return { name: r.name, status: out.status, stdout: out.stdout, stderr: out.stderr, calls, dir };
}

/**
 * What must not happen on a node already in the wanted state. Setting the stack's own labels and
 * taints (`kubectl label|taint --overwrite`, the same values) changes nothing there; removing one does.
 */
const CHANGES =
  /INSTALL_K3S|install\.sh|systemctl (restart|start|stop|enable|reboot)|qm (reboot|start|stop)|kubectl (cordon|uncordon|drain|delete)|kubectl (label|taint) node \S+ \S+-$|certificate rotate|k3s-uninstall|apt-get .*install|systemd-run/;

async function draftCommands(): Promise<RecordedResource[]> {
  const draft = draftStack(readInventory(join(ROOT, "test", "fixtures", "adopt")));
  const result = await runPlan({ stack: "adopted", stackFile: parseStackFile(draft.text) });
  return result.resources.filter((r) => r.type === "command:remote:Command");
}

async function labCommands(): Promise<RecordedResource[]> {
  return (await planFile("Pulumi.lab.yaml", "lab")).resources.filter((r) => r.type === "command:remote:Command");
}

/** Each step in registration order; a stdin that is another step's output (plan-stdout-<name>) gets that step's real output. */
function runAll(commands: RecordedResource[], prepare: (r: RecordedResource) => (dir: string, etc: string) => void): Run[] {
  const out = new Map<string, string>();
  return commands.map((r) => {
    const raw = typeof r.rawInputs.stdin === "string" ? r.rawInputs.stdin : undefined;
    const stdin = raw?.startsWith("plan-stdout-") ? out.get(raw.slice("plan-stdout-".length)) : raw;
    const run = runStep(r, stdin, prepare(r));
    out.set(r.name, run.stdout);
    return run;
  });
}

/** An adopted node whose config.yaml already is the one the stack renders. */
const sameConfig = (r: RecordedResource) => (_dir: string, etc: string) => {
  if (r.name.endsWith("-k3s-join")) writeFileSync(join(etc, "config.yaml"), String(r.rawInputs.stdin));
};

describe("adopt: the first run of every command step on a lab already in the wanted state (stub runs)", () => {
  test("no step installs, upgrades, restarts, cordons, drains or reboots anything", async () => {
    const commands = await draftCommands();
    assert.equal(commands.length, 30);
    const runs = runAll(commands, (r) => (dir, etc) => {
      sameConfig(r)(dir, etc);
      writeFileSync(join(dir, "home", ".ssh", "authorized_keys"), `${HAND_KEY}\n`);
    });
    for (const run of runs) {
      assert.equal(run.status, 0, `${run.name}: ${run.stderr}`);
      const changing = run.calls.filter((c) => CHANGES.test(c));
      assert.deepEqual(changing, [], `${run.name} changed the node:\n${run.calls.join("\n")}`);
    }
    const by = (name: string) => runs.find((r) => r.name === name)!;
    assert.match(by("k3s-bootstrap").stderr, /k3s-server-01: k3s already runs here; the cluster exists, nothing to bootstrap/);
    assert.equal(existsSync(join(by("k3s-bootstrap").dir, "etc", "homelab-bootstrap")), false, "no bootstrap marker");
    assert.deepEqual(
      by("k3s-agent-01-k3s-upgrade").calls.filter((c) => c.startsWith("k3s --version")),
      ["k3s --version"],
    );
    assert.match(by("k3s-agent-01-k3s-drain").stderr, /k3s-agent-01 already runs v1\.34\.2\+k3s1; no drain needed/);
    // The reboot gate records the VM's settings on the Node (an annotation) and decides "none".
    assert.equal(by("k3s-server-01-reboot-drain").stdout, "none\n");
    assert.ok(
      by("k3s-server-01-reboot-drain").calls.includes(
        "sudo timeout 900 k3s kubectl annotate node k3s-server-01 --overwrite homelab-infra/vm-settings=" + fingerprintOf(commands, "k3s-server-01-reboot-drain"),
      ),
    );
    assert.match(by("k3s-server-01-reboot-vm").stderr, /k3s-server-01 \(VM 211\): its settings need no reboot/);
    assert.ok(!by("k3s-server-01-reboot-vm").calls.some((c) => c.startsWith("qm ")), "Proxmox is not even asked");
  });

  test("the lab stack too (HA servers, a GPU node, a standalone VM): its 64 steps change nothing on a lab already in the wanted state", async () => {
    const commands = await labCommands();
    assert.equal(commands.length, 64);
    const runs = runAll(commands, sameConfig);
    for (const run of runs) {
      assert.equal(run.status, 0, `${run.name}: ${run.stderr}`);
      assert.deepEqual(
        run.calls.filter((c) => CHANGES.test(c)),
        [],
        `${run.name} changed the node:\n${run.calls.join("\n")}`,
      );
    }
    const by = (name: string) => runs.find((r) => r.name === name)!;
    assert.match(by("k3s-gpu-01-nvidia").stdout, /^k3s-gpu-01: nvidia-driver-\S+ and nvidia-container-toolkit 1\.17\.8-1 are installed and the GPU is visible$/m);
    assert.equal(by("k3s-gpu-01-nvidia-drain").stdout, "none\n");
    assert.equal(by("k3s-gpu-01-nvidia-check").stdout, "580.95.05-0ubuntu0.24.04.2\n");
    assert.equal(by("vault-reboot-check").stdout, "none\n");
    // The GPU node's labels and taint, set to the stack's values (a hand-built node without the
    // taint gets it: NoSchedule keeps new pods off, evicts nothing running).
    assert.deepEqual(
      by("k3s-gpu-01-k3s-member").calls.filter((c) => c.startsWith("sudo") && / (label|taint) /.test(c)),
      [
        "sudo timeout 900 k3s kubectl label node k3s-gpu-01 --overwrite accelerator=nvidia-rtx-4000-ada nvidia.com/device-plugin.config=time-slicing-4 nvidia.com/gpu.present=true",
        "sudo timeout 900 k3s kubectl taint node k3s-gpu-01 --overwrite nvidia.com/gpu=true:NoSchedule",
      ],
    );
  });

  test("what the first run does change: authorized_keys becomes ssh.authorizedKeys (a hand-added key is dropped), the join step's config.yaml, a restart when it differed", async () => {
    const commands = await draftCommands();
    const keys = commands.find((r) => r.name === "k3s-agent-01-authorized-keys")!;
    const run = runStep(keys, String(keys.rawInputs.stdin), (dir) => writeFileSync(join(dir, "home", ".ssh", "authorized_keys"), `${HAND_KEY}\n`));
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(join(run.dir, "home", ".ssh", "authorized_keys"), "utf8"), String(keys.rawInputs.stdin));
    assert.ok(!readFileSync(join(run.dir, "home", ".ssh", "authorized_keys"), "utf8").includes("other@laptop"));

    // A hand-built node: the same k3s, another config.yaml. join.sh writes the stack's and restarts
    // k3s once, without blocking; it installs nothing.
    const join_ = commands.find((r) => r.name === "k3s-agent-01-k3s-join")!;
    const hand = runStep(join_, String(join_.rawInputs.stdin), (_dir, etc) => writeFileSync(join(etc, "config.yaml"), "token: hand-made\nnode-label: [a=b]\n"));
    assert.equal(hand.status, 0, hand.stderr);
    assert.deepEqual(
      hand.calls.filter((c) => CHANGES.test(c)),
      ["sudo systemctl restart --no-block k3s-agent", "systemctl restart --no-block k3s-agent"],
    );
    assert.match(hand.stderr, /k3s-agent-01: config\.yaml changed; restarting k3s-agent/);
    assert.equal(readFileSync(join(hand.dir, "etc", "config.yaml"), "utf8"), String(join_.rawInputs.stdin));
    // The same node with the stack's config.yaml already in place: no restart at all.
    const same = runStep(join_, String(join_.rawInputs.stdin), (dir, etc) => sameConfig(join_)(dir, etc));
    assert.equal(same.status, 0, same.stderr);
    assert.deepEqual(
      same.calls.filter((c) => CHANGES.test(c)),
      [],
    );
  });
});

function fingerprintOf(commands: RecordedResource[], name: string): string {
  const m = String(commands.find((r) => r.name === name)!.rawInputs.create).match(/^fingerprint='([0-9a-f]+)'$/m);
  assert.ok(m, `${name} sets a fingerprint`);
  return m[1];
}
