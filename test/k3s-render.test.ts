// The cluster layer's pure rendering: k3s config.yaml per role, the SSH scripts (shellcheck, and
// the label/taint/drain logic run against a stub kubectl), the kubeconfig rewrite, and the GPU
// pieces (driver install, device plugin values, smoke Job).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { clusterSettings, kubeletLabels, renderK3sConfig, type K3sClusterSettings } from "../src/cluster/k3sConfig";
import {
  installerUrl,
  joinScript,
  bundledCrds,
  bootstrapScript,
  drainScript,
  kubeconfigScript,
  uncordonScript,
  memberScript,
  removeScript,
  rewriteKubeconfig,
  taintKey,
  uninstallScript,
  upgradeScript,
} from "../src/cluster/k3sScripts";
import {
  devicePluginValues,
  driverPackage,
  GPU_TAINT_STRING,
  gpuNodeLabels,
  nvidiaCheckScript,
  nvidiaInstallScript,
  smokeJob,
  SMOKE_TEST_IMAGE,
  CURL_BOUNDS,
  TOOLKIT_PACKAGES,
  TOOLKIT_SOURCE,
  APT_UPDATE_TRIES,
  UNATTENDED_BLACKLIST,
} from "../src/cluster/nvidia";
import { planKubeconfig } from "../src/plan/recorder";
import { ROOT as ROOT_DIR, stackDoc, validateDoc } from "./harness";
import { requireTool, shellcheck } from "./validators";

const VERSION = "v1.34.2+k3s1";
/** versions.nvidiaContainerToolkit as the stacks pin it. */
const TOOLKIT = "1.17.8-1";
const TOKENS = { token: "server-token-value", agentToken: "agent-token-value" };
const SETTINGS: K3sClusterSettings = {
  tlsSans: ["k3s.lab.example.com", "10.0.20.11", "10.0.20.12", "10.0.20.13"],
  disable: ["servicelb"],
  clusterCidr: "10.42.0.0/16",
  serviceCidr: "10.43.0.0/16",
};

/** The lab stack's config, validated, with `edit` applied to the raw `homelab:` map first. */
function labConfig(edit: (doc: Record<string, any>) => void = () => {}) {
  const doc = stackDoc();
  edit(doc);
  const r = validateDoc(doc);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

describe("k3s config.yaml", () => {
  test("a server gets both tokens, every API address, servicelb off, and no join target", () => {
    const yaml = renderK3sConfig({ name: "k3s-server-01", ip: "10.0.20.11", role: "server", labels: { zone: "a" }, taints: [] }, SETTINGS, TOKENS);
    assert.deepEqual(parse(yaml), {
      "agent-token": "agent-token-value",
      "cluster-cidr": "10.42.0.0/16",
      disable: ["servicelb"],
      "node-ip": "10.0.20.11",
      "node-label": ["zone=a"],
      "node-name": "k3s-server-01",
      "secrets-encryption": true,
      "service-cidr": "10.43.0.0/16",
      "tls-san": ["k3s.lab.example.com", "10.0.20.11", "10.0.20.12", "10.0.20.13"],
      token: "server-token-value",
    });
    assert.ok(yaml.startsWith("agent-token: agent-token-value\ncluster-cidr:"), "keys are sorted");
  });

  test("another server's config.yaml is the same but for its own name and address (the join step picks its join target)", () => {
    const doc = parse(renderK3sConfig({ name: "k3s-server-02", ip: "10.0.20.12", role: "server", labels: {}, taints: [] }, SETTINGS, TOKENS));
    assert.equal(doc["cluster-init"], undefined);
    assert.equal(doc.server, undefined);
    assert.equal(doc.token, "server-token-value");
    assert.equal(doc["node-label"], undefined);
    assert.deepEqual(doc["tls-san"], SETTINGS.tlsSans);
  });

  test("an agent gets only the agent token, its labels the kubelet may set, and its taints", () => {
    const doc = parse(
      renderK3sConfig(
        {
          name: "k3s-gpu-01",
          ip: "10.0.20.31",
          role: "agent",
          labels: { "node-role.kubernetes.io/worker": "true", accelerator: "nvidia-rtx-4000-ada", "nvidia.com/gpu.present": "true" },
          taints: [GPU_TAINT_STRING],
        },
        SETTINGS,
        TOKENS,
      ),
    );
    assert.deepEqual(doc, {
      "node-ip": "10.0.20.31",
      "node-label": ["accelerator=nvidia-rtx-4000-ada", "nvidia.com/gpu.present=true"],
      "node-name": "k3s-gpu-01",
      "node-taint": ["nvidia.com/gpu=true:NoSchedule"],
      token: "agent-token-value",
    });
  });

  test("kubelet labels drop what NodeRestriction forbids a kubelet to set on itself", () => {
    assert.deepEqual(
      kubeletLabels({
        "node-role.kubernetes.io/worker": "true",
        "kubernetes.io/role": "worker",
        "example.k8s.io/x": "y",
        "node.kubernetes.io/workload": "general",
        "kubelet.kubernetes.io/x": "y",
        "topology.kubernetes.io/zone": "rack-1",
        "kubernetes.io/arch": "amd64",
        "example.com/team": "media",
        accelerator: "nvidia-rtx-4000-ada",
      }),
      {
        "node.kubernetes.io/workload": "general",
        "kubelet.kubernetes.io/x": "y",
        "topology.kubernetes.io/zone": "rack-1",
        "kubernetes.io/arch": "amd64",
        "example.com/team": "media",
        accelerator: "nvidia-rtx-4000-ada",
      },
    );
  });

  test("cluster settings: every API address in tls-san, servicelb off with MetalLB, traefik off when the stack drops it", () => {
    assert.deepEqual(clusterSettings(labConfig()), {
      tlsSans: ["k3s.lab.example.com", "10.0.20.11", "10.0.20.12", "10.0.20.13"],
      disable: ["servicelb"],
      clusterCidr: "10.42.0.0/16",
      serviceCidr: "10.43.0.0/16",
      extra: { server: {}, agent: {} },
    });
    const noTraefik = labConfig((d) => {
      d["homelab:cluster"] = { apiHostname: "k3s.lab.example.com", apiVip: "10.0.20.5", traefik: false, tlsSans: ["k3s.example.net"] };
      delete d["homelab:traefik"];
      d["homelab:monitoring"] = { enabled: false };
    });
    assert.deepEqual(clusterSettings(noTraefik).disable, ["servicelb", "traefik"]);
    assert.deepEqual(clusterSettings(noTraefik).tlsSans, ["10.0.20.5", "k3s.lab.example.com", "10.0.20.11", "10.0.20.12", "10.0.20.13", "k3s.example.net"]);
    const noMetallb = labConfig((d) => {
      d["homelab:metallb"] = { enabled: false };
      delete d["homelab:traefik"];
      d["homelab:dns"] = { enabled: false };
    });
    assert.deepEqual(clusterSettings(noMetallb).disable, []);
  });
});

describe("k3s scripts", () => {
  const scripts: Record<string, string> = {
    "join server": joinScript({ node: "k3s-server-01", role: "server", version: VERSION, peers: ["https://10.0.20.12:6443", "https://10.0.20.13:6443"] }),
    "join server with a restore": joinScript({ node: "k3s-server-01", role: "server", version: VERSION, peers: [], restore: "etcd-snapshot-k3s-server-01-1767225600" }),
    "join agent": joinScript({ node: "k3s-agent-01", role: "agent", version: VERSION, peers: ["https://10.0.20.11:6443"] }),
    bootstrap: bootstrapScript("k3s-server-01", ["https://10.0.20.12:6443"]),
    drain: drainScript("k3s-agent-01", VERSION),
    uncordon: uncordonScript("k3s-agent-01", VERSION),
    "uninstall server": uninstallScript("k3s-server-01", "server"),
    "uninstall agent": uninstallScript("k3s-agent-01", "agent"),
    "upgrade server": upgradeScript("k3s-server-01", "server", VERSION),
    "upgrade agent": upgradeScript("k3s-agent-01", "agent", VERSION),
    member: memberScript({ node: "k3s-gpu-01", labels: { accelerator: "x", "node-role.kubernetes.io/worker": "true" }, taints: [GPU_TAINT_STRING] }),
    "member without labels": memberScript({ node: "k3s-agent-01", labels: {}, taints: [] }),
    "remove server": removeScript("k3s-server-02", "server"),
    "remove agent": removeScript("k3s-agent-01", "agent"),
    kubeconfig: kubeconfigScript(["k3s-server-01", "k3s-server-02", "k3s-server-03"], VERSION),
    "kubeconfig with bundled CRDs": kubeconfigScript(["k3s-server-01"], VERSION, bundledCrds([])),
    "nvidia install (open)": nvidiaInstallScript("k3s-gpu-01", { driverBranch: "570", kernelModules: "open" }, TOOLKIT),
    "nvidia install (proprietary)": nvidiaInstallScript("k3s-gpu-01", { driverBranch: "535", kernelModules: "proprietary" }, TOOLKIT),
    "nvidia check": nvidiaCheckScript("k3s-gpu-01", { driverBranch: "570", kernelModules: "open" }),
  };

  for (const [name, script] of Object.entries(scripts)) {
    test(`${name}: passes shellcheck`, (t) => {
      if (!requireTool(t, "shellcheck")) return;
      assert.equal(shellcheck(script), "");
    });
  }

  test("the kubeconfig waits for the bundled Traefik CRDs, unless Traefik is disabled", () => {
    assert.deepEqual(bundledCrds(["servicelb"]), ["helmchartconfigs.helm.cattle.io", "middlewares.traefik.io"]);
    assert.deepEqual(bundledCrds(["servicelb", "traefik"]), []);
    assert.match(scripts["kubeconfig with bundled CRDs"], /\ncrds='helmchartconfigs\.helm\.cattle\.io middlewares\.traefik\.io'\n/);
    assert.match(scripts.kubeconfig, /\ncrds=''\n/);
  });

  test("scripts are their parameters, lib.sh, then the script files read from src/cluster/scripts", () => {
    const join = scripts["join server"];
    const file = (f: string) => readFileSync(`${ROOT_DIR}/src/cluster/scripts/${f}`, "utf8");
    const lib = file("lib.sh");
    for (const f of ["join.sh", "health.sh"]) assert.ok(join.includes(file(f)), f);
    assert.ok(join.includes(lib));
    assert.ok(join.startsWith("#!/bin/sh\n# Joins k3s-server-01 to the cluster as a k3s server."));
    assert.match(join, /\nset -eu\nnode='k3s-server-01'\nrole='server'\nunit='k3s'\nother_unit='k3s-agent'\n/);
    assert.match(join, /\npeers='https:\/\/10\.0\.20\.12:6443 https:\/\/10\.0\.20\.13:6443'\nrestore=''\n/);
    assert.equal(joinScript({ node: "k3s-server-01", role: "server", version: VERSION, peers: ["https://10.0.20.12:6443", "https://10.0.20.13:6443"] }), join, "deterministic");
  });

  test("the installer is the release's own script, with the version pinned; every download and API call has a deadline; no start blocks", () => {
    assert.equal(installerUrl(VERSION), "https://raw.githubusercontent.com/k3s-io/k3s/v1.34.2%2Bk3s1/install.sh");
    const join = scripts["join server"];
    assert.match(join, /\ninstaller_url='https:\/\/raw\.githubusercontent\.com\/k3s-io\/k3s\/v1\.34\.2%2Bk3s1\/install\.sh'\n/);
    assert.match(join, /curl -fsSL --retry 5 --retry-connrefused --connect-timeout 10 --max-time 300 -o "\$2" "\$1"/);
    assert.match(join, /sudo env INSTALL_K3S_VERSION="\$version" INSTALL_K3S_EXEC="\$role" INSTALL_K3S_SKIP_START=true sh "\$installer"/);
    assert.match(join, /kubectl\(\) \{ sudo timeout "\$kubectl_bound" k3s kubectl "\$@"; \}/);
    // The k3s steps (the NVIDIA scripts are the GPU node's own).
    for (const [name, script] of Object.entries(scripts).filter(([n]) => !n.startsWith("nvidia"))) {
      for (const line of script.split("\n").filter((l) => /^\s*[^#]*\bcurl /.test(l))) assert.match(line, /--max-time \d+/, `${name}: ${line}`);
      for (const line of script.split("\n").filter((l) => /systemctl (start|restart) /.test(l) && !/^\s*#/.test(l))) assert.match(line, /--no-block/, `${name}: ${line}`);
    }
  });

  test("upgrade: the installer only off the pinned version; the health check at the version either way", () => {
    const up = scripts["upgrade server"];
    assert.match(up, /\nwant_version='v1\.34\.2\+k3s1'\n/);
    assert.match(scripts["upgrade agent"], /\nwant_version=''\n/);
    const installer = up.indexOf('sh "$installer"');
    assert.ok(up.indexOf('if [ "$current" != "$version" ]; then') < installer, "the installer inside the version check");
    assert.ok(up.indexOf("if ! healthy; then") > installer, "health after it");
  });

  test("uninstall: the installer's uninstall script of the role, and nothing when k3s is gone", () => {
    assert.match(scripts["uninstall server"], /if \[ -x \/usr\/local\/bin\/k3s-uninstall\.sh \]; then\n  sudo \/usr\/local\/bin\/k3s-uninstall\.sh >&2\nelse/);
    assert.match(scripts["uninstall agent"], /\/usr\/local\/bin\/k3s-agent-uninstall\.sh/);
  });

  test("taint keys for removal", () => {
    assert.equal(taintKey("nvidia.com/gpu=true:NoSchedule"), "nvidia.com/gpu:NoSchedule");
    assert.equal(taintKey("dedicated:NoExecute"), "dedicated:NoExecute");
    assert.equal(taintKey("a=b=c:PreferNoSchedule"), "a:PreferNoSchedule");
  });

  test("kubeconfig: prints only the file", () => {
    const stdoutLines = scripts.kubeconfig.split("\n").filter((l) => /^\s*(echo|sudo cat|printf)/.test(l) && !l.includes(">&2"));
    assert.deepEqual(stdoutLines, ["sudo cat /etc/rancher/k3s/k3s.yaml"]);
  });
});

/** Runs a script against a stub `sudo` (standing in for `sudo k3s kubectl`) and returns its calls. */
function runWithStubKubectl(
  script: string,
  opts: {
    annotations?: Record<string, string>;
    taints?: string;
    kubeletVersion?: string;
    nodeExists?: boolean;
    nodeReady?: boolean;
    servers?: number;
    drainOk?: boolean;
    apiUp?: boolean;
    /** The admin certificate expires within the renewal window (until the rotation). */
    certNearExpiry?: boolean;
    /** The node carries this program's upgrade cordon. */
    upgradeCordon?: string;
  },
) {
  const dir = mkdtempSync(join(tmpdir(), "kubectl-stub-"));
  const log = join(dir, "calls.log");
  const ann = opts.annotations ?? {};
  const stub = `#!/bin/sh
# stub: sudo k3s kubectl <args>
[ "$1" = cat ] && { echo "apiVersion: v1 # $2"; exit 0; }
if [ "$1" = openssl ]; then [ -f ${log}.rotated ] && exit 0; exit ${opts.certNearExpiry ? 1 : 0}; fi
case "$*" in
  "timeout 300 systemctl stop k3s"|"systemctl start --no-block k3s") echo "$*" >> ${log}; exit 0 ;;
  "k3s certificate rotate --service admin") echo "$*" >> ${log}; touch ${log}.rotated; exit 0 ;;
esac
# Every kubectl call runs under timeout(1) with the script's bound.
[ "$1" = timeout ] && [ "$2" = 900 ] && shift 2
[ "$1" = k3s ] && [ "$2" = kubectl ] || { echo "unexpected sudo $*" >&2; exit 97; }
shift 2
# Polled reads carry their own request deadline; logged without it.
set -- $(echo "$*" | sed 's/ --request-timeout=10s//')
echo "$*" >> ${log}
case "$*" in
  "get --raw /readyz") ${opts.apiUp === false ? "exit 1" : "exit 0"} ;;
  *"--ignore-not-found -o name") ${opts.nodeExists === false ? "exit 0" : 'echo "node/x"'} ;;
  "get nodes -l node-role.kubernetes.io/control-plane=true -o name") i=0; while [ $i -lt ${opts.servers ?? 3} ]; do echo node/s$i; i=$((i+1)); done ;;
  *"managed-labels}") printf '%s' '${ann.labels ?? ""}' ;;
  *"managed-taints}") printf '%s' '${ann.taints ?? ""}' ;;
  *"upgrade-cordon}") printf '%s' '${opts.upgradeCordon ?? ""}' ;;
  *"{.key}:{.effect}"*) printf '%s' '${opts.taints ?? ""}' ;;
  *kubeletVersion*) printf '%s' '${opts.kubeletVersion ?? ""}' ;;
  *'@.type=="Ready"'*) printf '%s' '${opts.nodeReady === false ? "Unknown" : "True"}' ;;
  "taint node "*-) case " ${opts.taints ?? ""} " in *" \${4%-} "*) ;; *) echo "error: taint \${4%-} not found" >&2; exit 1 ;; esac ;;
  drain*) ${opts.drainOk === false ? "exit 1" : "exit 0"} ;;
esac
exit 0
`;
  writeFileSync(join(dir, "sudo"), stub);
  writeFileSync(join(dir, "k3s"), "#!/bin/sh\nexit 0\n");
  writeFileSync(join(dir, "sleep"), "#!/bin/sh\nexit 0\n");
  for (const f of ["sudo", "k3s", "sleep"]) chmodSync(join(dir, f), 0o755);
  writeFileSync(log, "");
  const r = spawnSync("sh", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    calls: readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .filter((l) => l !== ""),
  };
}

describe("kubeconfig script (run against a stub kubectl)", () => {
  const script = kubeconfigScript(["k3s-server-01", "k3s-server-02"], VERSION);

  test("prints k3s.yaml once every server is Ready at the pinned version", () => {
    const r = runWithStubKubectl(script, { kubeletVersion: VERSION });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "apiVersion: v1 # /etc/rancher/k3s/k3s.yaml\n");
    assert.deepEqual(r.calls, [
      "get --raw /readyz",
      "wait --for=condition=Ready node/k3s-server-01 --timeout=600s",
      "get node k3s-server-01 -o jsonpath={.status.nodeInfo.kubeletVersion}",
      "wait --for=condition=Ready node/k3s-server-02 --timeout=600s",
      "get node k3s-server-02 -o jsonpath={.status.nodeInfo.kubeletVersion}",
    ]);
  });

  test("a server still at another version: times out naming it, and prints no kubeconfig", () => {
    const r = runWithStubKubectl(script, { kubeletVersion: "v1.33.6+k3s1" });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /timed out after 600s waiting for k3s-server-01 to report v1\.34\.2\+k3s1/);
  });
});

describe("kubeconfig renewal and agent upgrade drains (run against a stub kubectl)", () => {
  test("kubeconfig: an admin certificate within the renewal window is rotated (stop, rotate, start) before the file is printed", () => {
    const script = kubeconfigScript(["k3s-server-01"], VERSION);
    assert.match(script, /\nrenew_days='120'\n/);
    const r = runWithStubKubectl(script, { kubeletVersion: VERSION, certNearExpiry: true });
    assert.equal(r.status, 0, r.stderr);
    const at = (c: string) => r.calls.indexOf(c);
    assert.ok(at("timeout 300 systemctl stop k3s") > 0, r.calls.join("\n"));
    assert.ok(at("timeout 300 systemctl stop k3s") < at("k3s certificate rotate --service admin"));
    assert.ok(at("k3s certificate rotate --service admin") < at("systemctl start --no-block k3s"));
    assert.equal(r.calls.at(-1), "get --raw /readyz", "the API answers again before the file is read");
    assert.equal(r.stdout, "apiVersion: v1 # /etc/rancher/k3s/k3s.yaml\n");
    assert.match(r.stderr, /the admin client certificate expires within 120 days; rotating it/);
    const fresh = runWithStubKubectl(script, { kubeletVersion: VERSION });
    assert.ok(!fresh.calls.some((c) => c.includes("rotate") || c.includes("systemctl")), "a fresh certificate is left alone");
  });

  test("drain: an agent off the pinned version is marked, cordoned and drained; at the version nothing happens", () => {
    const r = runWithStubKubectl(drainScript("k3s-agent-01", VERSION), { kubeletVersion: "v1.33.6+k3s1" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, [
      "get node k3s-agent-01 --ignore-not-found -o jsonpath={.status.nodeInfo.kubeletVersion}",
      "annotate node k3s-agent-01 --overwrite homelab-infra/upgrade-cordon=v1.34.2+k3s1",
      "cordon k3s-agent-01",
      "drain k3s-agent-01 --ignore-daemonsets --delete-emptydir-data --timeout=300s",
    ]);
    const at = runWithStubKubectl(drainScript("k3s-agent-01", VERSION), { kubeletVersion: VERSION });
    assert.equal(at.status, 0);
    assert.equal(at.calls.length, 1);
    const stuck = runWithStubKubectl(drainScript("k3s-agent-01", VERSION), { kubeletVersion: "v1.33.6+k3s1", drainOk: false });
    assert.equal(stuck.status, 1);
    assert.match(
      stuck.stderr,
      /draining k3s-agent-01 did not finish within 300s \(a PodDisruptionBudget may block it\); resolve it and run pulumi up again \(k3s-agent-01 stays cordoned\)/,
    );
  });

  test("uncordon: once the agent is Ready at the version, only this program's cordon is lifted", () => {
    const r = runWithStubKubectl(uncordonScript("k3s-agent-01", VERSION), { kubeletVersion: VERSION, upgradeCordon: VERSION });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls.slice(-2), ["uncordon k3s-agent-01", "annotate node k3s-agent-01 homelab-infra/upgrade-cordon-"]);
    const theirs = runWithStubKubectl(uncordonScript("k3s-agent-01", VERSION), { kubeletVersion: VERSION });
    assert.ok(!theirs.calls.some((c) => c.startsWith("uncordon")), "a cordon somebody else made stays");
    const late = runWithStubKubectl(uncordonScript("k3s-agent-01", VERSION), { kubeletVersion: "v1.33.6+k3s1", upgradeCordon: VERSION });
    assert.equal(late.status, 1);
    assert.match(late.stderr, /timed out after 600s waiting for k3s-agent-01 to report v1\.34\.2\+k3s1/);
  });
});

describe("membership and removal scripts (run against a stub kubectl)", () => {
  test("member: waits for Ready, removes labels and taints it set before that the config dropped, applies the rest", () => {
    const script = memberScript({ node: "k3s-agent-01", labels: { b: "2", "node-role.kubernetes.io/worker": "true" }, taints: ["gpu=true:NoSchedule"] });
    const r = runWithStubKubectl(script, { annotations: { labels: "a,b", taints: "old:NoExecute,gpu:NoSchedule" }, taints: "gpu:NoSchedule old:NoExecute" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, [
      "get node k3s-agent-01",
      "wait --for=condition=Ready node/k3s-agent-01 --timeout=600s",
      "get node k3s-agent-01 -o jsonpath={.metadata.annotations.homelab-infra/managed-labels}",
      "label node k3s-agent-01 a-",
      "get node k3s-agent-01 -o jsonpath={.metadata.annotations.homelab-infra/managed-taints}",
      'get node k3s-agent-01 -o jsonpath={range .spec.taints[*]}{.key}:{.effect}{" "}{end}',
      "taint node k3s-agent-01 old:NoExecute-",
      "label node k3s-agent-01 --overwrite b=2 node-role.kubernetes.io/worker=true",
      "taint node k3s-agent-01 --overwrite gpu=true:NoSchedule",
      "annotate node k3s-agent-01 --overwrite homelab-infra/managed-labels=b,node-role.kubernetes.io/worker homelab-infra/managed-taints=gpu:NoSchedule",
    ]);
  });

  test("member: a re-run skips a dropped taint the node no longer has (kubectl would fail removing it)", () => {
    // A run that removed old:NoExecute and then failed before annotating leaves the annotation listing it.
    const script = memberScript({ node: "k3s-agent-01", labels: {}, taints: ["gpu=true:NoSchedule"] });
    const r = runWithStubKubectl(script, { annotations: { taints: "old:NoExecute,gpu:NoSchedule" }, taints: "gpu:NoSchedule" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.calls.some((c) => c.startsWith("taint node k3s-agent-01 old")), r.calls.join("\n"));
    assert.equal(r.calls.at(-1), "annotate node k3s-agent-01 --overwrite homelab-infra/managed-labels= homelab-infra/managed-taints=gpu:NoSchedule");
  });

  test("member: a first run (no annotation) removes nothing", () => {
    const r = runWithStubKubectl(memberScript({ node: "n", labels: {}, taints: [] }), {});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.calls.filter((c) => / (label|taint) /.test(` ${c}`)),
      [],
    );
    assert.equal(r.calls.at(-1), "annotate node n --overwrite homelab-infra/managed-labels= homelab-infra/managed-taints=");
  });

  test("remove: drains, then deletes the Node object", () => {
    const r = runWithStubKubectl(removeScript("k3s-agent-02", "agent"), {});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, [
      "get --raw /readyz",
      "get node k3s-agent-02 --ignore-not-found -o name",
      'get node k3s-agent-02 -o jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      "drain k3s-agent-02 --ignore-daemonsets --delete-emptydir-data --timeout=300s",
      "delete node k3s-agent-02 --timeout=120s",
    ]);
  });

  test("remove: a node that is not Ready (a dead VM) is deleted without a drain that could only time out", () => {
    const r = runWithStubKubectl(removeScript("k3s-agent-02", "agent"), { nodeReady: false });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.calls.some((c) => c.startsWith("drain")), r.calls.join("\n"));
    assert.equal(r.calls.at(-1), "delete node k3s-agent-02 --timeout=120s");
    assert.match(r.stderr, /node k3s-agent-02 is not Ready; deleting it without a drain/);
  });

  test("remove: a server leaves only when other servers remain (its etcd member goes with the Node)", () => {
    const r = runWithStubKubectl(removeScript("k3s-server-03", "server"), { servers: 3 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.calls.includes("delete node k3s-server-03 --timeout=120s"));
    const last = runWithStubKubectl(removeScript("k3s-server-01", "server"), { servers: 1 });
    assert.equal(last.status, 0, last.stderr);
    assert.ok(!last.calls.some((c) => c.startsWith("drain") || c.startsWith("delete")), "the last server is never drained");
    assert.match(last.stderr, /k3s-server-01 is the last server; leaving it/);
  });

  test("remove: a node already gone is fine; a failed drain or an unreachable API fails with the node's name", () => {
    assert.equal(runWithStubKubectl(removeScript("x", "agent"), { nodeExists: false }).status, 0);
    const drain = runWithStubKubectl(removeScript("k3s-agent-02", "agent"), { drainOk: false });
    assert.equal(drain.status, 1);
    assert.match(drain.stderr, /draining k3s-agent-02 did not finish within 300s \(a PodDisruptionBudget may block it\); resolve it and run pulumi up again/);
    assert.ok(!drain.calls.some((c) => c.startsWith("delete")), "no Node deletion after a failed drain");
    const api = runWithStubKubectl(removeScript("k3s-agent-02", "agent"), { apiUp: false });
    assert.equal(api.status, 1);
    assert.match(api.stderr, /cannot reach the Kubernetes API to remove node k3s-agent-02/);
  });
});

interface JoinState {
  /** k3s already installed (a VM that joined before). */
  installed: boolean;
  /** config.yaml on the node already equals the rendered one. */
  sameConfig: boolean;
  active: boolean;
  otherRoleUnit?: boolean;
  /** Servers whose supervisor answers /cacerts. */
  answering?: string[];
  /** The bootstrap step's marker is on the node. */
  marker?: boolean;
  /** The join drop-in as the node has it (undefined: absent). */
  dropIn?: string;
  /** config.yaml as the node has it, when not the rendered one (default "old: config\n"). */
  oldConfig?: string;
  peers?: string[];
  restore?: string;
}

const CONFIG = "node-name: n\ntoken: the-secret\n";

/**
 * Runs the join script with stubs (curl, systemctl, sudo, k3s) against a scratch /etc/rancher/k3s:
 * returns what it ran (paths relative to the scratch root) and the files it left.
 */
function runJoin(role: "server" | "agent", state: JoinState) {
  const dir = mkdtempSync(join(tmpdir(), "join-stub-"));
  const etc = join(dir, "etc");
  const log = join(dir, "calls.log");
  const answering = (state.answering ?? []).map((u) => `${u}/cacerts`).join(" ");
  const stubs: Record<string, string> = {
    curl: `#!/bin/sh\necho "curl $*" >> ${log}\nfor a in "$@"; do case " ${answering} " in *" $a "*) exit 0 ;; esac; case "$a" in */cacerts) exit 7 ;; esac; done\nexit 0\n`,
    sleep: "#!/bin/sh\nexit 0\n",
    // `systemctl cat <unit>` answers whether the other role's unit is installed (not logged).
    systemctl: `#!/bin/sh\n[ "$1" = cat ] && exit ${state.otherRoleUnit ? 0 : 1}\necho "systemctl $*" >> ${log}\n[ "$1" = is-active ] && exit ${state.active ? 0 : 3}\nexit 0\n`,
    sudo: `#!/bin/sh
printf '%s\\n' "sudo $*" | sed "s#${dir}##g" >> ${log}
case "$1" in
  install) for last; do :; done; mkdir -p "$(dirname "$last")"; cat > "$last" ;;
  cmp|rm|mv|grep|sed|test) exec "$@" ;;
  systemctl) shift; exec systemctl "$@" ;;
esac
exit 0
`,
    ...(state.installed ? { k3s: "#!/bin/sh\nexit 0\n" } : {}),
  };
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(join(dir, name), body);
    chmodSync(join(dir, name), 0o755);
  }
  mkdirSync(join(etc, "config.yaml.d"), { recursive: true });
  if (state.installed) writeFileSync(join(etc, "config.yaml"), state.sameConfig ? CONFIG : (state.oldConfig ?? "old: config\n"));
  if (state.marker) writeFileSync(join(etc, "homelab-bootstrap"), "n\n");
  if (state.dropIn !== undefined) writeFileSync(join(etc, "config.yaml.d", "90-homelab-join.yaml"), state.dropIn);
  writeFileSync(log, "");
  const script = joinScript({ node: "k3s-agent-01", role, version: VERSION, peers: state.peers ?? ["https://10.0.20.11:6443", "https://10.0.20.12:6443"], restore: state.restore });
  const r = spawnSync("sh", ["-c", script.replace(`\netc='/etc/rancher/k3s'\n`, `\netc='${etc}'\n`)], {
    encoding: "utf8",
    input: CONFIG,
    // Only the stubs and the shell's basics: no real k3s on this machine's PATH.
    env: { ...process.env, PATH: `${dir}:/usr/bin:/bin` },
  });
  const calls = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .filter((l) => l !== "");
  const read = (f: string) => (existsSync(join(etc, f)) ? readFileSync(join(etc, f), "utf8") : undefined);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls, config: read("config.yaml"), dropIn: read("config.yaml.d/90-homelab-join.yaml") };
}

const INSTALL = (extra = "") => `sudo env INSTALL_K3S_VERSION=v1.34.2+k3s1 INSTALL_K3S_EXEC=agent INSTALL_K3S_SKIP_START=true${extra} sh`;
const STAGE = ["sudo install -D -m 600 -o root -g root /dev/stdin /etc/config.yaml.next", "sudo cmp -s /etc/config.yaml.next /etc/config.yaml"];

describe("join script (run against stubs)", () => {
  test("a fresh agent: config.yaml from stdin, the first server that answers as its join target, the pinned installer, a start that does not block", () => {
    const r = runJoin("agent", { installed: false, sameConfig: false, active: false, answering: ["https://10.0.20.12:6443"] });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.config, CONFIG, "stdin goes to the file");
    assert.equal(r.dropIn, "server: https://10.0.20.12:6443\n", "10.0.20.11 did not answer; 10.0.20.12 did");
    assert.ok(!r.stdout.includes("the-secret") && !r.stderr.includes("the-secret"), "never printed");
    assert.deepEqual(r.calls.slice(0, 3), [...STAGE, "sudo mv -f /etc/config.yaml.next /etc/config.yaml"]);
    assert.deepEqual(r.calls.slice(3, 5), [
      "curl -fsk --connect-timeout 5 --max-time 10 -o /dev/null https://10.0.20.11:6443/cacerts",
      "curl -fsk --connect-timeout 5 --max-time 10 -o /dev/null https://10.0.20.12:6443/cacerts",
    ]);
    assert.equal(r.calls[5], "sudo install -D -m 600 -o root -g root /dev/stdin /etc/config.yaml.d/90-homelab-join.yaml");
    assert.match(
      r.calls[6],
      /^curl -fsSL --retry 5 --retry-connrefused --connect-timeout 10 --max-time 300 -o \S+ https:\/\/raw\.githubusercontent\.com\/k3s-io\/k3s\/v1\.34\.2%2Bk3s1\/install\.sh$/,
    );
    assert.ok(r.calls[7].startsWith(INSTALL()), r.calls[7]);
    assert.deepEqual(r.calls.slice(8), [
      "sudo systemctl start --no-block k3s-agent",
      "systemctl start --no-block k3s-agent",
      "curl -fsS --max-time 10 http://127.0.0.1:10248/healthz",
    ]);
    assert.match(r.stderr, /k3s-agent-01: joining the cluster through https:\/\/10\.0\.20\.12:6443/);
  });

  test("the bootstrap server on the first run: nobody answers, the marker is there: it initialises etcd", () => {
    const r = runJoin("server", { installed: false, sameConfig: false, active: false, marker: true });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.dropIn, "cluster-init: true\n");
    assert.match(r.stderr, /no server of the cluster answers; this server initialises it/);
  });

  test("a rebuilt first server (a fresh VM: no marker) joins through a surviving server, never initialising a second etcd", () => {
    const r = runJoin("server", {
      installed: false,
      sameConfig: false,
      active: false,
      answering: ["https://10.0.20.11:6443"],
      peers: ["https://10.0.20.11:6443", "https://10.0.20.13:6443"],
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.dropIn, "server: https://10.0.20.11:6443\n");
    // Even with the marker (say, a failed first run retried later), a server that answers wins.
    const marked = runJoin("server", { installed: false, sameConfig: false, active: false, marker: true, answering: ["https://10.0.20.11:6443"] });
    assert.equal(marked.dropIn, "server: https://10.0.20.11:6443\n");
  });

  test("no server answers and no marker: refused before anything is installed, saying what to do", () => {
    const r = runJoin("server", { installed: false, sameConfig: false, active: false });
    assert.equal(r.status, 1);
    assert.equal(r.dropIn, undefined);
    assert.ok(!r.calls.some((c) => c.includes("INSTALL_K3S")), r.calls.join("\n"));
    assert.match(
      r.stderr,
      /k3s-agent-01: no server of the cluster answers \(tried: https:\/\/10\.0\.20\.11:6443 https:\/\/10\.0\.20\.12:6443\) and this node did not bootstrap it, so it cannot join\. Start a server of the cluster and run pulumi up again; if every server is lost, restore one from a snapshot \(cluster\.etcdRestore\)/,
    );
    assert.equal(runJoin("agent", { installed: false, sameConfig: false, active: false, marker: true }).status, 1, "an agent never initialises");
  });

  test("a restore: the server installs without enabling, resets etcd from the snapshot, then starts; refused while a server answers", () => {
    const r = runJoin("server", { installed: false, sameConfig: false, active: false, restore: "etcd-snapshot-x-1767225600" });
    assert.equal(r.status, 0, r.stderr);
    const reset = r.calls.indexOf("sudo timeout 1800 k3s server --cluster-reset --cluster-reset-restore-path=etcd-snapshot-x-1767225600");
    const install = r.calls.findIndex((c) => c.includes("INSTALL_K3S_SKIP_ENABLE=true"));
    const enable = r.calls.indexOf("sudo systemctl enable k3s");
    const start = r.calls.indexOf("sudo systemctl start --no-block k3s");
    assert.ok(install >= 0 && install < reset && reset < enable && enable < start, r.calls.join("\n"));
    assert.equal(r.dropIn, "cluster-init: true\n");
    const live = runJoin("server", { installed: false, sameConfig: false, active: false, restore: "s", answering: ["https://10.0.20.11:6443"] });
    assert.equal(live.status, 1);
    assert.match(
      live.stderr,
      /cluster\.etcdRestore names this server, but a server of the cluster answers at https:\/\/10\.0\.20\.11:6443: a restore would start a second cluster beside it/,
    );
    assert.ok(!live.calls.some((c) => c.includes("cluster-reset") || c.includes("INSTALL_K3S")));
  });

  test("a re-run on a node that is right changes nothing", () => {
    const r = runJoin("agent", { installed: true, sameConfig: true, active: true, dropIn: "server: https://10.0.20.11:6443\n" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, [
      STAGE[0],
      "sudo test -e /etc/config.yaml.d/90-homelab-join.yaml",
      STAGE[1],
      "sudo rm -f /etc/config.yaml.next",
      "sudo sed -n s/^server: *[\"']\\{0,1\\}\\([^\"']*\\).*$/\\1/p /etc/config.yaml.d/90-homelab-join.yaml",
      "systemctl is-active --quiet k3s-agent",
      "curl -fsS --max-time 10 http://127.0.0.1:10248/healthz",
    ]);
  });

  test("a changed config is swapped in and restarts the unit without blocking; nothing reinstalls k3s", () => {
    const r = runJoin("agent", { installed: true, sameConfig: false, active: true, dropIn: "server: https://10.0.20.11:6443\n" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.config, CONFIG);
    assert.ok(r.calls.includes("sudo systemctl restart --no-block k3s-agent"));
    assert.ok(!r.calls.some((c) => c.startsWith("curl -fsSL") || c.includes("INSTALL_K3S")));
  });

  test("a node installed by the earlier layout (the join target in config.yaml): the line moves to the drop-in, nothing restarts", () => {
    const r = runJoin("agent", { installed: true, sameConfig: false, active: true, oldConfig: `node-name: n\nserver: "https://10.0.20.11:6443"\ntoken: the-secret\n` });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.dropIn, `server: "https://10.0.20.11:6443"\n`);
    assert.equal(r.config, CONFIG);
    assert.ok(!r.calls.some((c) => c.includes("restart")), r.calls.join("\n"));
    const first = runJoin("server", { installed: true, sameConfig: false, active: true, oldConfig: `cluster-init: true\nnode-name: n\ntoken: the-secret\n` });
    assert.equal(first.dropIn, "cluster-init: true\n");
    assert.ok(!first.calls.some((c) => c.includes("restart")), first.calls.join("\n"));
  });

  test("the server a node joined through left the stack: the drop-in names a surviving one, and nothing restarts", () => {
    const r = runJoin("agent", { installed: true, sameConfig: true, active: true, dropIn: "server: https://10.0.20.9:6443\n", answering: ["https://10.0.20.12:6443"] });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.dropIn, "server: https://10.0.20.12:6443\n");
    assert.match(r.stderr, /https:\/\/10\.0\.20\.9:6443 left the stack; k3s rejoins through https:\/\/10\.0\.20\.12:6443 when it next starts/);
    assert.ok(!r.calls.some((c) => c.includes("restart")));
  });

  test("a node k3s runs on in the other role (a role changed in the config) is refused before anything changes", () => {
    const r = runJoin("server", { installed: true, sameConfig: false, active: true, otherRoleUnit: true });
    assert.equal(r.status, 1);
    assert.deepEqual(r.calls, [], "config.yaml untouched, nothing restarted");
    assert.equal(r.config, "old: config\n");
    assert.match(r.stderr, /k3s-agent-01: k3s runs here as an agent; a node cannot change role in place\. Remove it from the stack, run pulumi up, then add it back as a server/);
  });

  test("an unchanged config on a stopped unit starts it without blocking", () => {
    const r = runJoin("agent", { installed: true, sameConfig: true, active: false, dropIn: "server: https://10.0.20.11:6443\n" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.calls.includes("sudo systemctl start --no-block k3s-agent"));
    assert.ok(!r.calls.some((c) => c.includes("restart")));
  });
});

/** Runs the bootstrap script with stubs: k3s there or not, a peer answering or not; returns the marker it left. */
function runBootstrap(state: { installed: boolean; answering: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), "bootstrap-stub-"));
  const etc = join(dir, "etc");
  const stubs: Record<string, string> = {
    curl: `#!/bin/sh\nexit ${state.answering ? 0 : 7}\n`,
    sudo: `#!/bin/sh\n[ "$1" = install ] || exit 0\nfor last; do :; done\nmkdir -p "$(dirname "$last")"\ncat > "$last"\n`,
    ...(state.installed ? { k3s: "#!/bin/sh\nexit 0\n" } : {}),
  };
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(join(dir, name), body);
    chmodSync(join(dir, name), 0o755);
  }
  const script = bootstrapScript("k3s-server-01", ["https://10.0.20.12:6443"]).replace(`\netc='/etc/rancher/k3s'\n`, `\netc='${etc}'\n`);
  const r = spawnSync("sh", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:/usr/bin:/bin` } });
  const marker = join(etc, "homelab-bootstrap");
  return { status: r.status, stderr: r.stderr, marker: existsSync(marker) ? readFileSync(marker, "utf8") : undefined };
}

describe("bootstrap script (run against stubs)", () => {
  test("a fresh first server with no server answering gets the marker that lets it initialise etcd", () => {
    const r = runBootstrap({ installed: false, answering: false });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.marker, "k3s-server-01\n");
  });

  test("no marker where k3s already runs or a server of the cluster answers (a stack older than the bootstrap step)", () => {
    for (const state of [
      { installed: true, answering: false },
      { installed: false, answering: true },
    ]) {
      const r = runBootstrap(state);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.marker, undefined, JSON.stringify(state));
      assert.match(r.stderr, /nothing to bootstrap/);
    }
  });
});

/** Runs the upgrade script with `k3s --version` reporting `installed`; returns what it ran. */
function runUpgrade(role: "server" | "agent", installed: string, target: string, opts: { apiUp?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "upgrade-stub-"));
  const log = join(dir, "calls.log");
  const stubs: Record<string, string> = {
    k3s: `#!/bin/sh\necho "k3s version ${installed} (abcdef12)"\necho "go version go1.24.4"\n`,
    curl: `#!/bin/sh\necho "curl $*" >> ${log}\n`,
    sleep: "#!/bin/sh\nexit 0\n",
    sudo: `#!/bin/sh
echo "sudo $*" >> ${log}
case "$*" in
  *kubeletVersion*) printf '%s' '${target}' ;;
  "timeout 900 k3s kubectl get --raw /readyz --request-timeout=10s") exit ${opts.apiUp === false ? 1 : 0} ;;
esac
exit 0
`,
  };
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(join(dir, name), body);
    chmodSync(join(dir, name), 0o755);
  }
  writeFileSync(log, "");
  const r = spawnSync("sh", ["-c", upgradeScript("k3s-server-02", role, target)], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  const calls = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .filter((l) => l !== "");
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls };
}

describe("upgrade script (run against stubs)", () => {
  test("at the pinned version it installs nothing and only confirms the node is healthy at that version", () => {
    const r = runUpgrade("server", VERSION, VERSION);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, [
      "sudo timeout 900 k3s kubectl get --raw /readyz --request-timeout=10s",
      "sudo timeout 900 k3s kubectl get node k3s-server-02 --request-timeout=10s",
      "sudo timeout 900 k3s kubectl wait --for=condition=Ready node/k3s-server-02 --timeout=600s",
      "sudo timeout 900 k3s kubectl get node k3s-server-02 --request-timeout=10s -o jsonpath={.status.nodeInfo.kubeletVersion}",
    ]);
    assert.equal(r.stdout, "k3s-server-02 runs k3s v1.34.2+k3s1\n");
  });

  test("a re-run after an upgrade that left the server unhealthy fails again, so the chain does not move on", () => {
    // The binary is already at the target (the installer ran), but the API never came back.
    const r = runUpgrade("server", VERSION, VERSION, { apiUp: false });
    assert.equal(r.status, 1);
    assert.ok(!r.calls.some((c) => c.startsWith("curl") || c.includes("INSTALL_K3S")), "no second install");
    assert.match(r.stderr, /timed out after 600s waiting for the API server on k3s-server-02/);
    assert.match(r.stderr, /k3s-server-02: k3s is not healthy; its last log lines:/);
    assert.ok(r.calls.includes("sudo journalctl -u k3s -n 40 --no-pager"));
  });

  test("one minor version up: the pinned installer, then the node Ready at the new version", () => {
    const r = runUpgrade("server", "v1.33.6+k3s1", VERSION);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.calls[0],
      /^curl -fsSL --retry 5 --retry-connrefused --connect-timeout 10 --max-time 300 -o \S+ https:\/\/raw\.githubusercontent\.com\/k3s-io\/k3s\/v1\.34\.2%2Bk3s1\/install\.sh$/,
    );
    assert.match(r.calls[1], /^sudo env INSTALL_K3S_VERSION=v1\.34\.2\+k3s1 INSTALL_K3S_EXEC=server INSTALL_K3S_SKIP_START=true sh \S+$/);
    assert.deepEqual(r.calls.slice(2), [
      "sudo systemctl restart --no-block k3s",
      "sudo timeout 900 k3s kubectl get --raw /readyz --request-timeout=10s",
      "sudo timeout 900 k3s kubectl get node k3s-server-02 --request-timeout=10s",
      "sudo timeout 900 k3s kubectl wait --for=condition=Ready node/k3s-server-02 --timeout=600s",
      "sudo timeout 900 k3s kubectl get node k3s-server-02 --request-timeout=10s -o jsonpath={.status.nodeInfo.kubeletVersion}",
    ]);
    assert.match(r.stderr, /k3s-server-02: upgrading k3s from v1\.33\.6\+k3s1 to v1\.34\.2\+k3s1/);
  });

  test("a patch release up on an agent: the installer, then the kubelet's health", () => {
    const r = runUpgrade("agent", "v1.34.1+k3s1", VERSION);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.calls[1], /INSTALL_K3S_EXEC=agent/);
    assert.deepEqual(
      r.calls.slice(2),
      ["sudo systemctl restart --no-block k3s-agent", "curl -fsS --max-time 10 http://127.0.0.1:10248/healthz"],
      "an agent has no kubectl; its kubelet answers the health check",
    );
  });

  test("a patch release or k3s revision back is a downgrade too, refused (full release order, not only the minor)", () => {
    for (const installed of ["v1.34.3+k3s1", "v1.34.2+k3s2", "v1.35.0+k3s1"]) {
      const r = runUpgrade("server", installed, VERSION);
      assert.equal(r.status, 1, installed);
      assert.match(
        r.stderr,
        new RegExp(`k3s ${installed.replace(/[.+]/g, "\\$&")} cannot be downgraded to v1\\.34\\.2\\+k3s1; pin ${installed.replace(/[.+]/g, "\\$&")} or newer`),
      );
      assert.deepEqual(r.calls, []);
    }
    // Up by a revision, a patch release, or across ten patch releases (1.34.9 -> 1.34.10 sorts numerically).
    for (const [from, to] of [
      ["v1.34.2+k3s1", "v1.34.2+k3s2"],
      ["v1.34.9+k3s1", "v1.34.10+k3s1"],
    ]) {
      const r = runUpgrade("agent", from, to);
      assert.equal(r.status, 0, `${from} -> ${to}: ${r.stderr}`);
      assert.match(r.stderr, /upgrading k3s/);
    }
  });

  test("skipping a minor version or going back is refused before anything changes", () => {
    const skip = runUpgrade("server", "v1.32.9+k3s1", VERSION);
    assert.equal(skip.status, 1);
    assert.match(skip.stderr, /k3s-server-02: k3s v1\.32\.9\+k3s1 to v1\.34\.2\+k3s1 skips a minor version; upgrade one minor version at a time/);
    assert.deepEqual(skip.calls, []);
    const down = runUpgrade("server", "v1.35.0+k3s1", VERSION);
    assert.equal(down.status, 1);
    assert.match(down.stderr, /k3s v1\.35\.0\+k3s1 cannot be downgraded to v1\.34\.2\+k3s1; pin v1\.35\.0\+k3s1 or newer/);
    assert.deepEqual(down.calls, []);
  });
});

describe("kubeconfig rewrite", () => {
  test("points at the API endpoint and names cluster, user and context; keeps the credentials", () => {
    const out = parse(rewriteKubeconfig(planKubeconfig("k3s-kubeconfig"), "https://k3s.lab.example.com:6443", "homelab-lab"));
    const original = parse(planKubeconfig("k3s-kubeconfig"));
    assert.deepEqual(out.clusters, [
      { name: "homelab-lab", cluster: { "certificate-authority-data": original.clusters[0].cluster["certificate-authority-data"], server: "https://k3s.lab.example.com:6443" } },
    ]);
    assert.deepEqual(out.users, [{ name: "homelab-lab", user: original.users[0].user }]);
    assert.deepEqual(out.contexts, [{ name: "homelab-lab", context: { cluster: "homelab-lab", user: "homelab-lab" } }]);
    assert.equal(out["current-context"], "homelab-lab");
  });

  test("refuses anything that is not a k3s admin kubeconfig", () => {
    assert.throws(() => rewriteKubeconfig("sudo: a password is required\n", "https://x:6443", "n"), /is not a k3s admin kubeconfig/);
    assert.throws(() => rewriteKubeconfig("", "https://x:6443", "n"), /is not a k3s admin kubeconfig/);
  });
});

/** Runs the NVIDIA install script against stubs (dpkg, sudo, curl); returns what it ran and the files it wrote. */
function runNvidiaInstall(state: { installed: boolean; visibleBefore: boolean; visibleAfterInstall?: boolean; updateFailures?: number; toolkitVersion?: string }) {
  const dir = mkdtempSync(join(tmpdir(), "nvidia-stub-"));
  const log = join(dir, "calls.log");
  const stubs: Record<string, string> = {
    dpkg: state.installed ? `#!/bin/sh\necho "Package: $2"\necho "Status: install ok installed"\n` : "#!/bin/sh\nexit 1\n",
    // The installed toolkit's version (what toolkit_pinned compares with the pin).
    "dpkg-query": `#!/bin/sh\n[ "$*" = "-W -f=\\\${Version} nvidia-container-toolkit" ] || exit 2\nprintf '%s' '${state.toolkitVersion ?? TOOLKIT}'\n`,
    curl: `#!/bin/sh\necho "curl $*" >> ${log}\n`,
    sleep: "#!/bin/sh\nexit 0\n",
    sudo: `#!/bin/sh
echo "sudo $*" >> ${log}
case "$1" in
  tee) cat > "${dir}/written-$(basename "$2")" ;;
  nvidia-smi) if [ -f "${dir}/installed" ]; then exit ${state.visibleAfterInstall ? 0 : 1}; fi; exit ${state.visibleBefore ? 0 : 1} ;;
  env)
    case "$*" in
      *" update")
        n=$(cat "${dir}/updates" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "${dir}/updates"
        [ "$n" -gt ${state.updateFailures ?? 0} ] || { echo "E: Could not get lock /var/lib/apt/lists/lock" >&2; exit 100; } ;;
      *" install "*) touch "${dir}/installed" ;;
    esac ;;
esac
exit 0
`,
  };
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(join(dir, name), body);
    chmodSync(join(dir, name), 0o755);
  }
  writeFileSync(log, "");
  const script = nvidiaInstallScript("k3s-gpu-01", { driverBranch: "570", kernelModules: "open" }, TOOLKIT);
  const r = spawnSync("sh", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:/usr/bin:/bin` } });
  const written: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((n) => n.startsWith("written-"))) written[f.slice("written-".length)] = readFileSync(join(dir, f), "utf8");
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    calls: readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .filter((l) => l !== ""),
    written,
  };
}

describe("GPU rendering", () => {
  test("driver package: open kernel modules by default (Turing and newer), proprietary on request", () => {
    assert.equal(driverPackage({ driverBranch: "570", kernelModules: "open" }), "nvidia-driver-570-server-open");
    assert.equal(driverPackage({ driverBranch: "535", kernelModules: "proprietary" }), "nvidia-driver-535-server");
  });

  test("install: its parameters, then scripts/nvidia-install.sh (rendered deterministically); checks before it acts, reboot before sshd stops", () => {
    const s = nvidiaInstallScript("k3s-gpu-01", { driverBranch: "570", kernelModules: "open" }, TOOLKIT);
    const file = readFileSync(`${ROOT_DIR}/src/cluster/scripts/nvidia-install.sh`, "utf8");
    assert.equal(
      s,
      [
        "#!/bin/sh",
        "# Installs the NVIDIA driver (nvidia-driver-570-server-open) and nvidia-container-toolkit 1.17.8-1 on k3s-gpu-01.",
        "set -eu",
        "node='k3s-gpu-01'",
        "pkg='nvidia-driver-570-server-open'",
        "toolkit_version='1.17.8-1'",
        "toolkit_packages='nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1'",
        "toolkit_key_url='https://nvidia.github.io/libnvidia-container/gpgkey'",
        "toolkit_keyring='/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg'",
        "toolkit_list='/etc/apt/sources.list.d/nvidia-container-toolkit.list'",
        "toolkit_repo='https://nvidia.github.io/libnvidia-container/stable/deb'",
        "unattended_blacklist_path='/etc/apt/apt.conf.d/51homelab-nvidia-driver'",
        `unattended_blacklist='${UNATTENDED_BLACKLIST}'`,
        `apt_update_tries='${APT_UPDATE_TRIES}'`,
        "apt_update_seconds='10'",
        "curl_connect_timeout='10'",
        "curl_max_time='300'",
        "",
        file,
      ].join("\n"),
    );
    assert.equal(nvidiaInstallScript("k3s-gpu-01", { driverBranch: "570", kernelModules: "open" }, TOOLKIT), s, "deterministic");
    const noop = file.indexOf('if installed "$pkg" && toolkit_pinned && gpu_visible; then');
    const reboot = file.indexOf("sudo systemd-run --on-active=5 --timer-property=AccuracySec=1s systemctl reboot");
    const stopSsh = file.indexOf("sudo systemctl stop ssh.service");
    assert.ok(noop > 0 && noop < file.indexOf("until apt_get update"), "checks before it acts");
    assert.ok(reboot > 0 && reboot < stopSsh, "the reboot is scheduled before sshd stops (a failed schedule leaves sshd up)");
    // Every curl is bounded (finding 15).
    const curls = file.split("\n").filter((l) => /^\s*curl /.test(l));
    assert.deepEqual(
      curls.map((l) => l.trim()),
      ['curl -fsSL --retry 5 --retry-connrefused --connect-timeout "$curl_connect_timeout" --max-time "$curl_max_time" -o "$key" "$toolkit_key_url"'],
    );
    assert.deepEqual(CURL_BOUNDS, { connectTimeout: 10, maxTime: 300 });
  });

  test("install on a node that is right: only the unattended-upgrades guard is (re)written; no apt, no reboot", () => {
    const r = runNvidiaInstall({ installed: true, visibleBefore: true });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, ["sudo tee /etc/apt/apt.conf.d/51homelab-nvidia-driver", "sudo nvidia-smi -L"]);
    assert.equal(r.written["51homelab-nvidia-driver"], UNATTENDED_BLACKLIST);
    assert.match(UNATTENDED_BLACKLIST, /^Unattended-Upgrade::Package-Blacklist \{ "nvidia-"; "libnvidia-"; \};$/m);
    assert.match(r.stdout, /k3s-gpu-01: nvidia-driver-570-server-open and nvidia-container-toolkit 1\.17\.8-1 are installed and the GPU is visible/);
  });

  test("install on a fresh node: repository, retried apt-get update, one install, the reboot scheduled, then sshd stopped", () => {
    const r = runNvidiaInstall({ installed: false, visibleBefore: false, visibleAfterInstall: false, updateFailures: 2 });
    assert.equal(r.status, 0, r.stderr);
    const apt = "sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600";
    assert.deepEqual(
      r.calls.filter((c) => !c.startsWith("curl") && !c.startsWith("sudo gpg")),
      [
        "sudo tee /etc/apt/apt.conf.d/51homelab-nvidia-driver",
        "sudo tee /etc/apt/sources.list.d/nvidia-container-toolkit.list",
        `${apt} update`,
        `${apt} update`,
        `${apt} update`,
        `${apt} install -y --allow-downgrades linux-image-virtual linux-headers-virtual nvidia-driver-570-server-open ${TOOLKIT_PACKAGES.map((p) => `${p}=${TOOLKIT}`).join(" ")}`,
        "sudo nvidia-smi -L",
        "sudo systemd-run --on-active=5 --timer-property=AccuracySec=1s systemctl reboot",
        "sudo systemctl stop ssh.socket",
        "sudo systemctl stop ssh.service",
      ],
    );
    assert.equal(r.written["nvidia-container-toolkit.list"], `${TOOLKIT_SOURCE}\n`);
    // The key download, bounded: it fails (after its retries) instead of hanging on a stalled session.
    const curls = r.calls.filter((c) => c.startsWith("curl"));
    assert.equal(curls.length, 1);
    assert.match(curls[0], /^curl -fsSL --retry 5 --retry-connrefused --connect-timeout 10 --max-time 300 -o \S+ https:\/\/nvidia\.github\.io\/libnvidia-container\/gpgkey$/);
    assert.match(r.stdout, /k3s-gpu-01: reboot scheduled\n$/);
  });

  test("install: a toolkit at another version than the pin is installed at the pin, the driver untouched by a reboot", () => {
    const r = runNvidiaInstall({ installed: true, visibleBefore: true, visibleAfterInstall: true, toolkitVersion: "1.18.0-1" });
    assert.equal(r.status, 0, r.stderr);
    const install = r.calls.filter((c) => c.includes(" install "));
    assert.deepEqual(install, [
      `sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --allow-downgrades linux-image-virtual linux-headers-virtual nvidia-driver-570-server-open ${TOOLKIT_PACKAGES.map((p) => `${p}=1.17.8-1`).join(" ")}`,
    ]);
    assert.ok(!r.calls.some((c) => c.includes("systemd-run")), "no reboot: the driver is loaded");
    assert.equal(r.stdout, "k3s-gpu-01: the driver is loaded; no reboot needed\n");
    assert.deepEqual(TOOLKIT_PACKAGES, ["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1"]);
  });

  test("install: no reboot when the new driver loads at once; apt-get update gives up after its budget", () => {
    const loads = runNvidiaInstall({ installed: false, visibleBefore: false, visibleAfterInstall: true });
    assert.equal(loads.status, 0, loads.stderr);
    assert.ok(!loads.calls.some((c) => c.includes("systemctl") || c.includes("systemd-run")), loads.calls.join("\n"));
    const locked = runNvidiaInstall({ installed: false, visibleBefore: false, updateFailures: APT_UPDATE_TRIES });
    assert.equal(locked.status, 1);
    assert.equal(locked.calls.filter((c) => c.endsWith(" update")).length, APT_UPDATE_TRIES);
    assert.match(locked.stderr, /k3s-gpu-01: apt-get update kept failing for 300s/);
    assert.ok(!locked.calls.some((c) => c.includes(" install ")), "nothing installed after a failed update");
  });

  test("check: its parameters, then scripts/nvidia-check.sh", () => {
    const s = nvidiaCheckScript("k3s-gpu-01", { driverBranch: "570", kernelModules: "open" });
    assert.equal(
      s,
      [
        "#!/bin/sh",
        "# Checks that k3s-gpu-01 sees its GPU through nvidia-driver-570-server-open and has the NVIDIA container runtime;",
        "# prints the installed version of nvidia-driver-570-server-open.",
        "set -eu",
        "node='k3s-gpu-01'",
        "pkg='nvidia-driver-570-server-open'",
        "",
        readFileSync(`${ROOT_DIR}/src/cluster/scripts/nvidia-check.sh`, "utf8"),
      ].join("\n"),
    );
  });

  test("check (against stubs): its stdout is the version dpkg installed, the only thing it prints there", () => {
    const run = (opts: { installed: boolean; gpu: boolean; runtime: boolean }) => {
      const dir = mkdtempSync(join(tmpdir(), "nvidia-check-"));
      const stub: Record<string, string> = {
        // The 570-server metapackage on noble: a transitional package, its version from 580-server.
        dpkg: opts.installed ? '#!/bin/sh\necho "Package: $2"\necho "Status: install ok installed"\n' : "#!/bin/sh\nexit 1\n",
        "dpkg-query": `#!/bin/sh\n[ "$*" = "-W -f=\\\${Version} nvidia-driver-570-server-open" ] || exit 2\nprintf '%s' '580.95.05-0ubuntu0.24.04.2'\n`,
        sudo: `#!/bin/sh\n[ "$*" = "nvidia-smi -L" ] || exit 2\n${opts.gpu ? 'echo "GPU 0: NVIDIA RTX 4000 Ada Generation (UUID: GPU-x)"' : 'echo "No devices were found"; exit 6'}\n`,
        ...(opts.runtime ? { "nvidia-container-runtime": "#!/bin/sh\nexit 0\n" } : {}),
      };
      for (const [name, body] of Object.entries(stub)) {
        writeFileSync(join(dir, name), body);
        chmodSync(join(dir, name), 0o755);
      }
      const script = nvidiaCheckScript("k3s-gpu-01", { driverBranch: "570", kernelModules: "open" });
      return spawnSync("sh", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:/usr/bin:/bin` } });
    };
    const ok = run({ installed: true, gpu: true, runtime: true });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "580.95.05-0ubuntu0.24.04.2\n");
    assert.match(ok.stderr, /k3s-gpu-01: GPU and NVIDIA container runtime ready \(nvidia-driver-570-server-open 580\.95\.05-0ubuntu0\.24\.04\.2\)\n$/);
    const missing = run({ installed: false, gpu: true, runtime: true });
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, "k3s-gpu-01: nvidia-driver-570-server-open is not installed\n");
    const noGpu = run({ installed: true, gpu: false, runtime: true });
    assert.equal(noGpu.status, 1);
    assert.match(noGpu.stderr, /k3s-gpu-01: nvidia-smi sees no GPU after the driver install and reboot/);
    const noRuntime = run({ installed: true, gpu: true, runtime: false });
    assert.equal(noRuntime.status, 1);
    assert.match(noRuntime.stderr, /k3s-gpu-01: nvidia-container-runtime is missing/);
    assert.equal(noRuntime.stdout, "");
  });

  test("node labels: present, accelerator, and the time-slicing config only when replicas > 1", () => {
    assert.deepEqual(gpuNodeLabels({ accelerator: "nvidia-rtx-4000-ada", timeSlicingReplicas: 1 }), {
      "nvidia.com/gpu.present": "true",
      accelerator: "nvidia-rtx-4000-ada",
    });
    assert.deepEqual(gpuNodeLabels({ accelerator: "nvidia-rtx-4000-ada", timeSlicingReplicas: 4 }), {
      "nvidia.com/gpu.present": "true",
      accelerator: "nvidia-rtx-4000-ada",
      "nvidia.com/device-plugin.config": "time-slicing-4",
    });
    assert.equal(GPU_TAINT_STRING, "nvidia.com/gpu=true:NoSchedule");
  });

  test("device plugin values: nvidia runtime, GPU nodes only, the taint tolerated; no config without time-slicing", () => {
    assert.deepEqual(devicePluginValues([{ timeSlicingReplicas: 1 }]), {
      runtimeClassName: "nvidia",
      nodeSelector: { "nvidia.com/gpu.present": "true" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    });
  });

  test("device plugin values: one named time-slicing config per replica count, whole GPUs by default", () => {
    const v = devicePluginValues([{ timeSlicingReplicas: 4 }, { timeSlicingReplicas: 1 }, { timeSlicingReplicas: 2 }, { timeSlicingReplicas: 4 }]);
    const config = v.config as { map: Record<string, string>; default: string };
    assert.equal(config.default, "default");
    assert.deepEqual(Object.keys(config.map), ["default", "time-slicing-2", "time-slicing-4"]);
    assert.deepEqual(parse(config.map.default), { version: "v1", flags: { migStrategy: "none" } });
    assert.deepEqual(parse(config.map["time-slicing-4"]), {
      version: "v1",
      flags: { migStrategy: "none" },
      sharing: { timeSlicing: { resources: [{ name: "nvidia.com/gpu", replicas: 4 }] } },
    });
  });

  test("smoke Job: nvidia-smi on that node with one GPU, unprivileged, valid batch/v1", async () => {
    const job = smokeJob({ node: "k3s-gpu-01", namespace: "nvidia-device-plugin", annotations: { "homelab-infra/gpu-fingerprint": "x" } });
    const { Job } = await import("kubernetes-models/batch/v1/Job");
    new Job({ ...job, metadata: { ...job.metadata, name: "smoke" } }).validate();
    const pod = job.spec.template.spec;
    assert.equal(pod.runtimeClassName, "nvidia");
    assert.deepEqual(pod.nodeSelector, { "kubernetes.io/hostname": "k3s-gpu-01" });
    assert.deepEqual(pod.tolerations, [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    assert.equal(pod.restartPolicy, "Never");
    assert.equal(pod.containers[0].image, SMOKE_TEST_IMAGE);
    assert.deepEqual(pod.containers[0].command, ["nvidia-smi", "-L"]);
    assert.deepEqual(pod.containers[0].resources, { limits: { "nvidia.com/gpu": "1" } });
    assert.equal(pod.securityContext.runAsNonRoot, true);
    // No readOnlyRootFilesystem: the toolkit's jit-cdi hooks write inside the container's rootfs (finding 4).
    assert.deepEqual(pod.containers[0].securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    assert.deepEqual(job.spec.template.metadata.annotations, { "homelab-infra/gpu-fingerprint": "x" });
  });
});
