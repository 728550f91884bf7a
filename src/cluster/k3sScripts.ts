// The shell steps that install, join, upgrade and remove k3s nodes, rendered as pure functions.
//
// Every script checks before it acts, so a re-run on a node that is already right changes nothing.
// Secrets never appear here: config.yaml (which holds the token) arrives on stdin and goes straight
// to a root-only file, and every wait is a bounded poll (WAIT_TRIES x WAIT_SECONDS), never a sleep.
// The scripts run as the SSH user (ubuntu, passwordless sudo) on Ubuntu 24.04.
import { parse } from "yaml";
import { MANAGED_LABELS_ANNOTATION, MANAGED_TAINTS_ANNOTATION } from "./conventions";
import { labelPairs } from "./k3sConfig";
import { toYaml } from "../lib/serialize";

export const K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml";
export const K3S_KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml";
export const API_PORT = 6443;
/** Poll budget for every wait: 120 x 5 s = 10 minutes (an etcd join or an image pull can take minutes). */
export const WAIT_TRIES = 120;
export const WAIT_SECONDS = 5;
/** kubectl drain budget before a node removal gives up (a PodDisruptionBudget can block it forever). */
export const DRAIN_TIMEOUT = "300s";

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

const WAIT_FOR = `# wait_for <what> <command...>: polls until the command succeeds, at most ${WAIT_TRIES} times.
wait_for() {
  what=$1
  shift
  tries=0
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge ${WAIT_TRIES} ]; then
      echo "timed out after $((${WAIT_TRIES} * ${WAIT_SECONDS}))s waiting for $what" >&2
      return 1
    fi
    sleep ${WAIT_SECONDS}
  done
}`;

const KUBECTL = `kubectl() { sudo k3s kubectl "$@"; }`;

/** Downloads the pinned installer and runs it; the installer (re)starts the unit when the binary changed. */
function runInstaller(version: string, role: K3sRole): string {
  return `installer=$(mktemp)
trap 'rm -f "$installer"' EXIT
# Retried: a fresh VM's first downloads can race its network settling.
curl -fsSL --retry 5 --retry-connrefused -o "$installer" ${shq(installerUrl(version))}
sudo env INSTALL_K3S_VERSION=${shq(version)} INSTALL_K3S_EXEC=${role} sh "$installer" >&2`;
}

/**
 * Waits until this node is healthy (a server's API and Node, an agent's kubelet); when it is not,
 * prints the unit's last log lines (k3s never logs its token) and fails.
 */
function waitHealthy(node: string, role: K3sRole, version?: string): string {
  const checks =
    role === "agent"
      ? [`wait_for "the kubelet on ${node}" curl -fsS http://127.0.0.1:10248/healthz`]
      : [
          `wait_for "the API server on ${node}" kubectl get --raw /readyz`,
          `wait_for "node ${node} to register" kubectl get node ${shq(node)}`,
          `kubectl wait --for=condition=Ready node/${shq(node)} --timeout=${WAIT_TRIES * WAIT_SECONDS}s >&2`,
          ...(version === undefined ? [] : [`wait_for "${node} to report ${version}" node_version`]),
        ];
  const nodeVersion =
    version === undefined
      ? ""
      : `node_version() { [ "$(kubectl get node ${shq(node)} -o 'jsonpath={.status.nodeInfo.kubeletVersion}')" = ${shq(version)} ]; }
`;
  return `${nodeVersion}healthy() {
  ${checks.join(" &&\n    ")}
}
if ! healthy; then
  echo "${node}: ${unitName(role)} is not healthy; its last log lines:" >&2
  sudo journalctl -u ${unitName(role)} -n 40 --no-pager >&2 || true
  exit 1
fi`;
}

/**
 * Join step (create and update): writes config.yaml from stdin when it changed, installs k3s at
 * `version` when it is absent (never touching an installed binary: upgrades are the upgrade step's),
 * restarts the unit only when the config changed, then waits until the node is healthy.
 */
export function joinScript(node: string, role: K3sRole, version: string): string {
  const unit = unitName(role);
  const other: K3sRole = role === "server" ? "agent" : "server";
  return `#!/bin/sh
# Joins ${node} to the cluster as a k3s ${role}. config.yaml (it holds the join token) arrives on
# stdin and is written root-only; it is never printed.
set -eu
${role === "server" ? KUBECTL : ""}
${WAIT_FOR}

# A role changed in the config arrives here as an update on a node k3s already runs on in the other
# role: stop before touching it (a drain, an uninstall and a fresh join are needed, in that order).
if systemctl cat ${unitName(other)}.service >/dev/null 2>&1; then
  echo "${node}: k3s runs here as ${other === "agent" ? "an agent" : "a server"}; a node cannot change role in place. Remove it from the stack, run pulumi up, then add it back as ${role === "agent" ? "an agent" : "a server"}" >&2
  exit 1
fi

config=${K3S_CONFIG_PATH}
sudo install -D -m 600 -o root -g root /dev/stdin "$config.next"
if sudo cmp -s "$config.next" "$config"; then
  sudo rm -f "$config.next"
  changed=false
else
  sudo mv -f "$config.next" "$config"
  changed=true
fi

if ! command -v k3s >/dev/null 2>&1; then
  echo "${node}: installing k3s ${version} (${role})" >&2
  ${runInstaller(version, role).split("\n").join("\n  ")}
elif [ "$changed" = true ]; then
  echo "${node}: config.yaml changed; restarting ${unit}" >&2
  sudo systemctl restart ${unit}
elif ! systemctl is-active --quiet ${unit}; then
  echo "${node}: ${unit} was not running; starting it" >&2
  sudo systemctl start ${unit}
fi

${waitHealthy(node, role)}
echo "${node} is up"
`;
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
  return `#!/bin/sh
# Keeps k3s on ${node} at ${version}.
set -eu
${role === "server" ? KUBECTL : ""}
${WAIT_FOR}

current=$(k3s --version 2>/dev/null | sed -n '1s/^k3s version \\([^ ]*\\).*$/\\1/p')
if [ -z "$current" ]; then
  echo "${node}: k3s is not installed; its join step installs it" >&2
  exit 1
fi
if [ "$current" != ${shq(version)} ]; then
  # Kubernetes supports moving one minor version at a time, and never back.
  current_minor=$(echo "$current" | cut -d. -f2)
  if [ ${minorOf(version)} -lt "$current_minor" ]; then
    echo "${node}: k3s $current cannot be downgraded to ${version}; pin $current or newer" >&2
    exit 1
  fi
  if [ ${minorOf(version)} -gt $((current_minor + 1)) ]; then
    echo "${node}: k3s $current to ${version} skips a minor version; upgrade one minor version at a time" >&2
    exit 1
  fi
  echo "${node}: upgrading k3s from $current to ${version}" >&2
  ${runInstaller(version, role).split("\n").join("\n  ")}
fi
${waitHealthy(node, role, role === "server" ? version : undefined)}
echo "${node} runs k3s ${version}"
`;
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
    `#!/bin/sh`,
    `# Waits for node ${args.node} to be Ready and reconciles its labels and taints.`,
    `set -eu`,
    KUBECTL,
    WAIT_FOR,
    ``,
    `wait_for "node ${args.node} to register" kubectl get node ${node}`,
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
  const n = shq(node);
  const lastServerGuard =
    role === "server"
      ? `servers=$(kubectl get nodes -l node-role.kubernetes.io/control-plane=true -o name | wc -l)
if [ "$servers" -le 1 ]; then
  echo "${node} is the last server; leaving it (the cluster is being torn down)" >&2
  exit 0
fi
`
      : "";
  return `#!/bin/sh
# Removes node ${node} from the cluster before its VM goes: drain, then delete the Node object.
set -eu
${KUBECTL}
${WAIT_FOR}

if ! command -v k3s >/dev/null 2>&1; then
  echo "k3s is not installed on $(hostname); no cluster to remove ${node} from" >&2
  exit 0
fi
if ! wait_for "the API server on $(hostname)" kubectl get --raw /readyz; then
  echo "cannot reach the Kubernetes API to remove node ${node}; fix the server and run pulumi up again" >&2
  exit 1
fi
if [ -z "$(kubectl get node ${n} --ignore-not-found -o name)" ]; then
  echo "node ${node} is not in the cluster" >&2
  exit 0
fi
${lastServerGuard}# A node that is not Ready (often why it is being removed) has no kubelet to confirm evictions: a
# drain would only time out. Its pods are rescheduled once its Node object is gone.
ready=$(kubectl get node ${n} -o ${shq(`jsonpath={.status.conditions[?(@.type=="Ready")].status}`)})
if [ "$ready" != True ]; then
  echo "node ${node} is not Ready; deleting it without a drain" >&2
elif ! kubectl drain ${n} --ignore-daemonsets --delete-emptydir-data --timeout=${DRAIN_TIMEOUT} >&2; then
  echo "draining ${node} did not finish within ${DRAIN_TIMEOUT} (a PodDisruptionBudget may block it); resolve it and run pulumi up again" >&2
  exit 1
fi
# Bounded: finalizers (e.g. a volume still detaching) must not hang the removal forever.
kubectl delete node ${n} --timeout=120s >&2
echo "node ${node} removed"
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
 * Kubeconfig step, run on the first server once every server is Ready: waits for the API, every
 * server at the pinned `version`, and the bundled CRDs the layers above use, then prints the admin
 * kubeconfig (its stdout is a secret output and is never logged).
 *
 * The version makes the step run again after every k3s upgrade, and that matters beyond the check:
 * the admin client certificate in k3s.yaml is valid for a year, and k3s renews it (rewriting
 * k3s.yaml) only when it restarts near expiry. Reading the file again after each upgrade (a
 * restart) hands the provider the renewed certificate instead of keeping the first one forever.
 */
export function kubeconfigScript(servers: readonly string[], version: string, crds: readonly string[] = []): string {
  const waitServers = servers.map(
    (s) => `kubectl wait --for=condition=Ready node/${shq(s)} --timeout=${WAIT_TRIES * WAIT_SECONDS}s >&2
wait_for "${s} to report ${version}" server_version ${shq(s)}`,
  );
  const waitCrds = crds.map(
    (c) => `wait_for "the ${c} CRD" kubectl get crd ${shq(c)}
kubectl wait --for=condition=Established crd/${shq(c)} --timeout=${WAIT_TRIES * WAIT_SECONDS}s >&2`,
  );
  return `#!/bin/sh
# Prints the admin kubeconfig once the API answers, every server is Ready at k3s ${version} and the
# bundled CRDs exist.
set -eu
${KUBECTL}
${WAIT_FOR}
server_version() { [ "$(kubectl get node "$1" -o 'jsonpath={.status.nodeInfo.kubeletVersion}')" = ${shq(version)} ]; }

wait_for "the API server" kubectl get --raw /readyz
${[...waitServers, ...waitCrds].join("\n")}
sudo cat ${K3S_KUBECONFIG_PATH}
`;
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
