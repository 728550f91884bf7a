// The shell steps that install, join, upgrade and remove k3s nodes, rendered as pure functions.
//
// Every script checks before it acts, so a re-run on a node that is already right changes nothing.
// Secrets never appear here: config.yaml (which holds the token) arrives on stdin and goes straight
// to a root-only file. Every wait is a bounded poll (WAIT_TRIES x WAIT_SECONDS), every curl and
// kubectl call has a deadline, and no systemctl call waits for a unit to start (k3s's units have
// TimeoutStartSec=0): nothing here can hang a `pulumi up`.
// The longer scripts live in ./scripts/*.sh; a rendered script is its parameters as shell
// assignments, then lib.sh, then the script files, so the result is deterministic and shellchecked.
// The scripts run as the SSH user (ubuntu, passwordless sudo) on Ubuntu 24.04.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { MANAGED_LABELS_ANNOTATION, MANAGED_TAINTS_ANNOTATION } from "./conventions";
import { labelPairs } from "./k3sConfig";
import { toYaml } from "../lib/serialize";

export const K3S_ETC = "/etc/rancher/k3s";
export const K3S_CONFIG_PATH = `${K3S_ETC}/config.yaml`;
export const K3S_KUBECONFIG_PATH = `${K3S_ETC}/k3s.yaml`;
export const API_PORT = 6443;
/** Poll budget for every wait: 120 x 5 s = 10 minutes (an etcd join or an image pull can take minutes). */
export const WAIT_TRIES = 120;
export const WAIT_SECONDS = 5;
/** kubectl drain budget before a node removal gives up (a PodDisruptionBudget can block it forever). */
export const DRAIN_TIMEOUT = "300s";
/** Hard bound (s) on any one kubectl call, above the longest wait it is given (600 s). */
export const KUBECTL_BOUND = 900;
/** Hard bound (s) on an etcd restore from a snapshot (a download from S3, then etcd's own restore). */
export const RESTORE_BOUND = 1800;
/** The admin client certificate is renewed when it has fewer days left than this (k3s itself: 90). */
export const CERT_RENEW_DAYS = 120;

export type K3sRole = "server" | "agent";

/** The Kubernetes minor version of a k3s release: v1.34.2+k3s1 -> 34. */
export function minorOf(version: string): number {
  const m = /^v1\.(\d+)\./.exec(version);
  if (!m) throw new Error(`not a k3s release: ${version}`);
  return Number(m[1]);
}

/** A shell word: single-quoted, safe for any string. */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The install script of the release itself, so the script matches the binary it installs. */
export function installerUrl(version: string): string {
  return `https://raw.githubusercontent.com/k3s-io/k3s/${encodeURIComponent(version)}/install.sh`;
}

/** The systemd unit the installer creates for a role. */
export function unitName(role: K3sRole): string {
  return role === "server" ? "k3s" : "k3s-agent";
}

/** The supervisor/API URL of a server: what nodes join through. */
export function serverUrl(ip: string): string {
  return `https://${ip}:${API_PORT}`;
}

const SCRIPT_DIR = join(__dirname, "scripts");
const files = new Map<string, string>();
/** A script file of ./scripts, read once. */
function file(name: string): string {
  let text = files.get(name);
  if (text === undefined) {
    text = readFileSync(join(SCRIPT_DIR, name), "utf8");
    files.set(name, text);
  }
  return text;
}

type Vars = ReadonlyArray<readonly [string, string | number]>;

/** The shared head of every script: what it does, strict mode, its parameters, then lib.sh. */
function prelude(title: string, vars: Vars): string {
  const all: Vars = [...vars, ["wait_tries", WAIT_TRIES], ["wait_seconds", WAIT_SECONDS], ["kubectl_bound", KUBECTL_BOUND]];
  return ["#!/bin/sh", ...title.split("\n").map((l) => `# ${l}`), "set -eu", ...all.map(([k, v]) => `${k}=${shq(String(v))}`), "", file("lib.sh")].join("\n");
}

/** A script made of files of ./scripts with its parameters set. Pure (the files are part of the program). */
function render(title: string, vars: Vars, parts: readonly string[], tail = ""): string {
  return [prelude(title, vars), ...parts.map(file), tail].join("\n");
}

function article(role: K3sRole): string {
  return role === "agent" ? "an agent" : "a server";
}

export interface JoinArgs {
  readonly node: string;
  readonly role: K3sRole;
  readonly version: string;
  /** Servers the node may join through (https://ip:6443), in the order they are tried; never itself. */
  readonly peers: readonly string[];
  /** A snapshot to restore etcd from when this (server) node finds no cluster (cluster.etcdRestore). Default none. */
  readonly restore?: string;
}

/**
 * Join step (create and update): writes config.yaml from stdin when it changed; on a node without
 * k3s, picks the join target (the first of `peers` that answers; etcd's initialisation only with
 * the bootstrap marker; a restore only when no server answers), installs k3s at `version` and
 * starts it; on a node with k3s, restarts it only when config.yaml changed. Then waits until the
 * node is healthy. Never touches an installed binary: upgrades are the upgrade step's.
 */
export function joinScript(args: JoinArgs): string {
  const { node, role, version } = args;
  const other: K3sRole = role === "server" ? "agent" : "server";
  return render(
    `Joins ${node} to the cluster as a k3s ${role}. config.yaml (it holds the join token) arrives on\nstdin and is written root-only; it is never printed.`,
    [
      ["node", node],
      ["role", role],
      ["unit", unitName(role)],
      ["other_unit", unitName(other)],
      ["other_desc", article(other)],
      ["role_desc", article(role)],
      ["version", version],
      ["installer_url", installerUrl(version)],
      ["etc", K3S_ETC],
      ["peers", args.peers.join(" ")],
      ["restore", args.restore ?? ""],
      ["restore_bound", RESTORE_BOUND],
      ["want_version", ""],
    ],
    ["join.sh", "health.sh"],
    `echo "${node} is up"\n`,
  );
}

/**
 * Bootstrap step: created once in the life of the stack, on the first server of its first run. It
 * leaves the marker that lets that server's join initialise etcd, unless k3s or a server of the
 * cluster is already there (a stack older than this step).
 */
export function bootstrapScript(node: string, peers: readonly string[]): string {
  return render(
    `Marks ${node} as the server that may initialise the cluster's etcd (once, on the first run).`,
    [
      ["node", node],
      ["etc", K3S_ETC],
      ["peers", peers.join(" ")],
    ],
    ["bootstrap.sh"],
  );
}
/** Join step delete: the installer's uninstall script, when k3s is there at all. */
export function uninstallScript(node: string, role: K3sRole): string {
  const script = `/usr/local/bin/${unitName(role)}-uninstall.sh`;
  return `#!/bin/sh
# Uninstalls k3s from ${node} (after its Node object was drained and deleted).
set -eu
if [ -x ${script} ]; then
  sudo ${script} >&2
else
  echo "${node}: k3s is not installed; nothing to uninstall" >&2
fi
`;
}

/**
 * Upgrade step (create and update): brings an installed k3s to `version`, then waits until the node
 * is healthy (a server: Ready and reporting the version). The health wait runs also when the node
 * is already at the version: a re-run after an upgrade that failed its health check must not let
 * the chain move on to the next node. Chained servers first, one at a time, then agents, so a
 * version change rolls through the cluster in the supported order.
 */
export function upgradeScript(node: string, role: K3sRole, version: string): string {
  return render(
    `Keeps k3s on ${node} at ${version}.`,
    [
      ["node", node],
      ["role", role],
      ["unit", unitName(role)],
      ["version", version],
      ["installer_url", installerUrl(version)],
      ["want_version", role === "server" ? version : ""],
    ],
    ["upgrade.sh", "health.sh"],
    `echo "${node} runs k3s ${version}"\n`,
  );
}

export interface MemberArgs {
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly string[];
}

/** `key:Effect` of a `key[=value]:Effect` taint: what `kubectl taint ... key:Effect-` removes. */
export function taintKey(taint: string): string {
  const effect = taint.slice(taint.lastIndexOf(":"));
  const key = taint.slice(0, taint.lastIndexOf(":")).split("=")[0];
  return `${key}${effect}`;
}

/**
 * Membership step (create and update), run on a server: waits until the node is registered and
 * Ready, then makes its labels and taints equal to the config (adding, changing, and removing the
 * ones this step set before), since the kubelet applies node-label/node-taint only at registration.
 */
export function memberScript(args: MemberArgs): string {
  const node = shq(args.node);
  const labels = labelPairs(args.labels);
  const labelKeys = Object.keys(args.labels).sort();
  const taintKeys = args.taints.map(taintKey).sort();
  const lines = [
    prelude(`Waits for node ${args.node} to be Ready and reconciles its labels and taints.`, []),
    `wait_for "node ${args.node} to register" kubectl get node ${node} --request-timeout=10s`,
    `kubectl wait --for=condition=Ready node/${node} --timeout=${WAIT_TRIES * WAIT_SECONDS}s >&2`,
    ``,
    `# Remove what an earlier run set and the config no longer lists.`,
    `want_labels=${shq(` ${labelKeys.join(" ")} `)}`,
    `want_taints=${shq(` ${taintKeys.join(" ")} `)}`,
    `old_labels=$(kubectl get node ${node} -o ${shq(`jsonpath={.metadata.annotations.${MANAGED_LABELS_ANNOTATION.replace(/\./g, "\\.")}}`)})`,
    `for key in $(echo "$old_labels" | tr ',' ' '); do`,
    `  case "$want_labels" in`,
    `    *" $key "*) ;;`,
    `    *) kubectl label node ${node} "$key-" >&2 ;;`,
    `  esac`,
    `done`,
    `old_taints=$(kubectl get node ${node} -o ${shq(`jsonpath={.metadata.annotations.${MANAGED_TAINTS_ANNOTATION.replace(/\./g, "\\.")}}`)})`,
    // kubectl fails to remove a taint the node does not have (a label it only warns about), so a
    // re-run after a half-done run, or after someone removed the taint by hand, must skip it.
    `has_taints=" $(kubectl get node ${node} -o ${shq(`jsonpath={range .spec.taints[*]}{.key}:{.effect}{" "}{end}`)}) "`,
    `for key in $(echo "$old_taints" | tr ',' ' '); do`,
    `  case "$want_taints" in`,
    `    *" $key "*) ;;`,
    `    *)`,
    `      case "$has_taints" in`,
    `        *" $key "*) kubectl taint node ${node} "$key-" >&2 ;;`,
    `      esac`,
    `      ;;`,
    `  esac`,
    `done`,
  ];
  if (labels.length > 0) lines.push(`kubectl label node ${node} --overwrite ${labels.map(shq).join(" ")} >&2`);
  if (args.taints.length > 0) lines.push(`kubectl taint node ${node} --overwrite ${args.taints.map(shq).join(" ")} >&2`);
  lines.push(
    `kubectl annotate node ${node} --overwrite ${shq(`${MANAGED_LABELS_ANNOTATION}=${labelKeys.join(",")}`)} ${shq(`${MANAGED_TAINTS_ANNOTATION}=${taintKeys.join(",")}`)} >&2`,
    `echo "node ${args.node} is Ready"`,
    ``,
  );
  return lines.join("\n");
}

/**
 * Membership step delete, run on a server: drains the node (unless it is not Ready) and deletes its
 * Node object, which also removes a server's etcd member. The last server is left alone (the whole
 * cluster is going).
 */
export function removeScript(node: string, role: K3sRole): string {
  return render(
    `Removes node ${node} from the cluster before its VM goes: drain, then delete the Node object.`,
    [
      ["node", node],
      ["role", role],
      ["drain_timeout", DRAIN_TIMEOUT],
    ],
    ["remove.sh"],
  );
}

/** Node annotation marking a cordon this program made for an upgrade (and so may undo). */
export const UPGRADE_CORDON_ANNOTATION = "homelab-infra/upgrade-cordon";

/**
 * Agent upgrade, before (run on the control server): when the agent is not yet at `version`,
 * cordons and drains it (bounded) and marks the cordon as this program's. At the version already
 * (a first join, a re-run), it does nothing.
 */
export function drainScript(node: string, version: string): string {
  const n = shq(node);
  return `${prelude(`Drains ${node} before its k3s upgrade to ${version}.`, [])}
current=$(kubectl get node ${n} --ignore-not-found --request-timeout=10s -o 'jsonpath={.status.nodeInfo.kubeletVersion}')
if [ -z "$current" ]; then
  echo "node ${node} is not in the cluster; nothing to drain" >&2
  exit 0
fi
if [ "$current" = ${shq(version)} ]; then
  echo "${node} already runs ${version}; no drain needed" >&2
  exit 0
fi
kubectl annotate node ${n} --overwrite ${shq(`${UPGRADE_CORDON_ANNOTATION}=${version}`)} >&2
kubectl cordon ${n} >&2
if ! kubectl drain ${n} --ignore-daemonsets --delete-emptydir-data --timeout=${DRAIN_TIMEOUT} >&2; then
  echo "draining ${node} did not finish within ${DRAIN_TIMEOUT} (a PodDisruptionBudget may block it); resolve it and run pulumi up again (${node} stays cordoned)" >&2
  exit 1
fi
echo "${node} drained for its upgrade to ${version}"
`;
}

/**
 * Agent upgrade, after (run on the control server): waits until the agent is Ready at `version`,
 * then lifts the cordon the drain step made (never one somebody else made).
 */
export function uncordonScript(node: string, version: string): string {
  const n = shq(node);
  return `${prelude(`Returns ${node} to service once it runs ${version}.`, [])}
node_version() { [ "$(kubectl get node ${n} --request-timeout=10s -o 'jsonpath={.status.nodeInfo.kubeletVersion}')" = ${shq(version)} ]; }
wait_for "${node} to report ${version}" node_version
kubectl wait --for=condition=Ready node/${n} --timeout=${WAIT_TRIES * WAIT_SECONDS}s >&2
if [ -n "$(kubectl get node ${n} --request-timeout=10s -o ${shq(`jsonpath={.metadata.annotations.${UPGRADE_CORDON_ANNOTATION}}`)})" ]; then
  kubectl uncordon ${n} >&2
  kubectl annotate node ${n} ${shq(`${UPGRADE_CORDON_ANNOTATION}-`)} >&2
fi
echo "${node} runs ${version} and takes work"
`;
}

/**
 * CRDs of k3s's bundled add-ons that the layers above create objects of. k3s installs them from
 * its own charts shortly after the API is up (traefik-crd), later than "Ready": the kubeconfig, and
 * so everything in the cluster, waits until they are established.
 */
export function bundledCrds(disable: readonly string[]): string[] {
  return disable.includes("traefik") ? [] : ["helmchartconfigs.helm.cattle.io", "middlewares.traefik.io"];
}

/**
 * Kubeconfig step, run on the control server once every server is Ready: waits for the API, every
 * server at the pinned `version`, and the bundled CRDs the layers above use, renews the admin
 * client certificate when it has fewer than CERT_RENEW_DAYS left, then prints the admin kubeconfig
 * (its stdout is a secret output and is never logged). K3sCluster re-runs it on a schedule (a
 * rotation trigger), so the certificate is renewed long before it expires, upgrade or not.
 */
export function kubeconfigScript(servers: readonly string[], version: string, crds: readonly string[] = []): string {
  return render(
    `Prints the admin kubeconfig once the API answers, every server is Ready at k3s ${version} and the\nbundled CRDs exist.`,
    [
      ["servers", [...servers].join(" ")],
      ["version", version],
      ["crds", crds.join(" ")],
      ["renew_days", CERT_RENEW_DAYS],
    ],
    ["kubeconfig.sh"],
  );
}

/**
 * Points k3s's kubeconfig (server https://127.0.0.1:6443, names "default") at the API endpoint and
 * names its cluster, user and context. Pure; throws on anything that is not a k3s kubeconfig.
 */
export function rewriteKubeconfig(kubeconfig: string, apiServer: string, name: string): string {
  const doc = parse(kubeconfig) as Record<string, any> | null;
  const clusters = doc?.clusters;
  const users = doc?.users;
  if (!Array.isArray(clusters) || clusters.length !== 1 || !Array.isArray(users) || users.length !== 1) {
    throw new Error(`the kubeconfig read from ${K3S_KUBECONFIG_PATH} is not a k3s admin kubeconfig (one cluster, one user)`);
  }
  return toYaml({
    apiVersion: "v1",
    kind: "Config",
    preferences: {},
    clusters: [{ name, cluster: { ...clusters[0].cluster, server: apiServer } }],
    users: [{ name, user: users[0].user }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  });
}
