// Extra k3s settings (`cluster.k3s.server`, `cluster.k3s.agent`): keys of k3s's config.yaml, which
// are its CLI flags without the dashes. Checked against the flags `k3s server --help` and
// `k3s agent --help` print (docs.k3s.io, k3s-io/docs docs/cli/server.md and agent.md), with the
// flags this program sets itself refused, since a second value would fight it. Pure.
import { z } from "zod";
import type { StackConfig } from "./schema";
import { closeMatch } from "./spelling";

/** A config.yaml value: a flag's value, true/false for a switch, or a list for a repeatable flag. */
const k3sValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())], {
  error: "must be a string, a number, true/false or a list of strings, as config.yaml takes",
});

export const k3sArgsSchema = z.strictObject({
  /** Extra keys of every server's config.yaml. */
  server: z.record(z.string(), k3sValue).default({}),
  /** Extra keys of every agent's config.yaml (role agent and gpu). */
  agent: z.record(z.string(), k3sValue).default({}),
});

/** Flags both `k3s server` and `k3s agent` take that carry a value (the rest of each list are switches). */
const AGENT_VALUE_FLAGS = [
  "bind-address",
  "config",
  "container-runtime-endpoint",
  "data-dir",
  "default-runtime",
  "flannel-cni-conf",
  "flannel-conf",
  "flannel-iface",
  "image-credential-provider-bin-dir",
  "image-credential-provider-config",
  "image-service-endpoint",
  "kube-proxy-arg",
  "kubelet-arg",
  "lb-server-port",
  "log",
  "node-external-dns",
  "node-external-ip",
  "node-internal-dns",
  "node-ip",
  "node-label",
  "node-name",
  "node-taint",
  "pause-image",
  "private-registry",
  "resolv-conf",
  "server",
  "snapshotter",
  "token",
  "token-file",
  "v",
  "vmodule",
  "vpn-auth",
  "vpn-auth-file",
];
const AGENT_SWITCHES = [
  "alsologtostderr",
  "debug",
  "disable-apiserver-lb",
  "disable-default-registry-endpoint",
  "docker",
  "enable-pprof",
  "nonroot-devices",
  "prefer-bundled-bin",
  "protect-kernel-defaults",
  "rootless",
  "selinux",
  "with-node-id",
];
/** `k3s server --help` beyond what an agent takes (servers run an agent too). */
const SERVER_VALUE_FLAGS = [
  ...AGENT_VALUE_FLAGS,
  "advertise-address",
  "advertise-port",
  "agent-token",
  "agent-token-file",
  "cluster-cidr",
  "cluster-dns",
  "cluster-domain",
  "cluster-reset-restore-path",
  "datastore-cafile",
  "datastore-certfile",
  "datastore-endpoint",
  "datastore-keyfile",
  "default-local-storage-path",
  "disable",
  "egress-selector-mode",
  "etcd-arg",
  "etcd-s3-access-key",
  "etcd-s3-bucket",
  "etcd-s3-config-secret",
  "etcd-s3-endpoint",
  "etcd-s3-endpoint-ca",
  "etcd-s3-folder",
  "etcd-s3-proxy",
  "etcd-s3-region",
  "etcd-s3-secret-key",
  "etcd-s3-timeout",
  "etcd-snapshot-dir",
  "etcd-snapshot-name",
  "etcd-snapshot-retention",
  "etcd-snapshot-schedule-cron",
  "flannel-backend",
  "helm-job-image",
  "https-listen-port",
  "kube-apiserver-arg",
  "kube-cloud-controller-manager-arg",
  "kube-controller-manager-arg",
  "kube-scheduler-arg",
  "service-cidr",
  "service-node-port-range",
  "servicelb-namespace",
  "system-default-registry",
  "tls-san",
  "write-kubeconfig",
  "write-kubeconfig-group",
  "write-kubeconfig-mode",
];
const SERVER_SWITCHES = [
  ...AGENT_SWITCHES.filter((f) => f !== "disable-apiserver-lb"),
  "cluster-init",
  "cluster-reset",
  "disable-cloud-controller",
  "disable-helm-controller",
  "disable-kube-proxy",
  "disable-network-policy",
  "disable-scheduler",
  "embedded-registry",
  "etcd-disable-snapshots",
  "etcd-expose-metrics",
  "etcd-s3",
  "etcd-s3-insecure",
  "etcd-s3-skip-ssl-verify",
  "etcd-snapshot-compress",
  "flannel-external-ip",
  "flannel-ipv6-masq",
  "secrets-encryption",
  "supervisor-metrics",
  "tls-san-security",
];
const AGENT_FLAGS = new Set([...AGENT_VALUE_FLAGS, ...AGENT_SWITCHES]);
const SERVER_FLAGS = new Set([...SERVER_VALUE_FLAGS, ...SERVER_SWITCHES]);
const SWITCHES = new Set([...SERVER_SWITCHES, ...AGENT_SWITCHES]);
/** Flags k3s takes more than once (a list in config.yaml). */
const REPEATABLE = /-arg$|^(node-external-ip|node-internal-dns|node-external-dns|node-label|node-taint|tls-san|disable)$/;

/** What the program sets itself, and where a stack says it instead. */
const OWNED: ReadonlyMap<string, string> = new Map([
  ["config", "the program writes /etc/rancher/k3s/config.yaml itself"],
  ["node-name", "set from nodes[].name"],
  ["with-node-id", "the node name must stay nodes[].name"],
  ["node-ip", "set from nodes[].ip"],
  ["node-label", "set from nodes[].labels"],
  ["node-taint", "set from nodes[].taints"],
  ["server", "chosen by the join step (a server of the cluster that answers)"],
  ["token", "generated and kept as a Pulumi secret"],
  ["token-file", "the token is generated and kept as a Pulumi secret"],
  ["agent-token", "generated and kept as a Pulumi secret"],
  ["agent-token-file", "the agent token is generated and kept as a Pulumi secret"],
  ["data-dir", "the program's steps read k3s's default data directory"],
  ["cluster-init", "set by the join step on the server that bootstraps the cluster"],
  ["cluster-reset", "a one-off recovery step, not a standing setting"],
  ["cluster-reset-restore-path", "a one-off recovery step, not a standing setting"],
  ["datastore-endpoint", "the cluster runs embedded etcd"],
  ["tls-san", "set from cluster.apiHostname, cluster.apiVip and cluster.tlsSans"],
  ["cluster-cidr", "set from cluster.clusterCidr"],
  ["service-cidr", "set from cluster.serviceCidr"],
  ["disable", "set from cluster.traefik and metallb.enabled"],
  ["secrets-encryption", "always on"],
  ["https-listen-port", "the program reaches the API on 6443"],
  ["write-kubeconfig", "the program reads the kubeconfig from /etc/rancher/k3s/k3s.yaml"],
  ["etcd-s3-access-key", "a credential would sit in plain stack config; use etcd-s3-config-secret"],
  ["etcd-s3-secret-key", "a credential would sit in plain stack config; use etcd-s3-config-secret"],
  ["vpn-auth", "a credential would sit in plain stack config"],
]);

function checkRole(role: "server" | "agent", args: Readonly<Record<string, unknown>>): string[] {
  const flags = role === "server" ? SERVER_FLAGS : AGENT_FLAGS;
  const known = [...flags].sort();
  const errors: string[] = [];
  for (const [key, value] of Object.entries(args)) {
    const at = `cluster.k3s.${role}.${key}`;
    if (key.startsWith("-")) {
      errors.push(`${at}: config.yaml keys are flag names without dashes; write ${key.replace(/^-+/, "")}`);
      continue;
    }
    if (!flags.has(key)) {
      const guess = closeMatch(key, known);
      const other = role === "agent" && SERVER_FLAGS.has(key) ? "; it is a server flag, set it under cluster.k3s.server" : guess ? ` (did you mean '${guess}'?)` : "";
      errors.push(`${at}: k3s ${role} has no flag --${key}${other}`);
      continue;
    }
    const owner = OWNED.get(key);
    if (owner !== undefined) {
      errors.push(`${at}: the program sets --${key} itself (${owner}); remove it`);
      continue;
    }
    if (SWITCHES.has(key) && typeof value !== "boolean") {
      errors.push(`${at}: --${key} is a switch; set true or false`);
    } else if (!SWITCHES.has(key) && typeof value === "boolean") {
      errors.push(`${at}: --${key} takes a value, not ${String(value)}; set its value`);
    } else if (Array.isArray(value) && !REPEATABLE.test(key)) {
      errors.push(`${at}: --${key} takes one value, not a list; set a single value`);
    }
  }
  return errors;
}

/** Errors of the extra k3s settings. */
export function k3sArgsChecks(cfg: Pick<StackConfig, "cluster">): string[] {
  const k3s = cfg.cluster.k3s;
  return [...checkRole("server", k3s.server), ...checkRole("agent", k3s.agent)];
}
