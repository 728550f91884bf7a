// k3s's /etc/rancher/k3s/config.yaml for each node, rendered as pure functions. The file holds the
// join token, so it only ever travels as a Pulumi secret on a command's stdin (see k3sScripts.ts).
import { apiAddresses, type Homelab } from "../config/model";
import { toYaml } from "../lib/serialize";

/** Settings every server shares. */
export interface K3sClusterSettings {
  /** Every address a kubeconfig may point at (server IPs, VIP, API hostname, extra SANs). */
  readonly tlsSans: readonly string[];
  /** Bundled components to switch off (servicelb when MetalLB runs, traefik when the stack drops it). */
  readonly disable: readonly string[];
  readonly clusterCidr: string;
  readonly serviceCidr: string;
  /** The stack's extra config.yaml keys per role (cluster.k3s; validated against k3s's flags, owned keys refused). */
  readonly extra?: { readonly server: Readonly<Record<string, K3sValue>>; readonly agent: Readonly<Record<string, K3sValue>> };
  /** Scheduled etcd snapshots uploaded to S3 (cluster.etcdSnapshots), the secret key aside. Default: k3s's local snapshots only. */
  readonly etcdSnapshots?: {
    readonly schedule: string;
    readonly retention: number;
    readonly s3: { readonly endpoint: string; readonly bucket: string; readonly folder: string; readonly region: string; readonly accessKey: string; readonly insecure: boolean };
  };
}

/** A config.yaml value. */
export type K3sValue = string | number | boolean | readonly string[];

export interface K3sNodeSettings {
  readonly name: string;
  readonly ip: string;
  readonly role: "server" | "agent";
  readonly labels: Readonly<Record<string, string>>;
  /** key[=value]:Effect */
  readonly taints: readonly string[];
}

export interface K3sTokens {
  /** Server token: joins servers (and would join agents). */
  readonly token: string;
  /** Agent token: joins agents only, so an agent's config.yaml cannot make a server. */
  readonly agentToken: string;
  /** The S3 secret key of cluster.etcdSnapshots (servers only). Default none. */
  readonly etcdS3SecretKey?: string;
}

/** The shared server settings a stack config asks for. Pure. */
export function clusterSettings(cfg: Homelab<unknown>, stack = "homelab"): K3sClusterSettings {
  const snapshots = cfg.etcdSnapshots;
  return {
    tlsSans: apiAddresses(cfg),
    disable: [...(cfg.metallb.enabled ? ["servicelb"] : []), ...(cfg.cluster.traefik ? [] : ["traefik"])],
    clusterCidr: cfg.cluster.clusterCidr,
    serviceCidr: cfg.cluster.serviceCidr,
    extra: { server: cfg.cluster.k3s.server, agent: cfg.cluster.k3s.agent },
    ...(snapshots
      ? {
          etcdSnapshots: {
            schedule: snapshots.schedule,
            retention: snapshots.retention,
            // One folder per stack by default: two stacks may share a bucket without pruning each other's snapshots.
            s3: {
              endpoint: snapshots.s3.endpoint,
              bucket: snapshots.s3.bucket,
              folder: snapshots.s3.folder ?? `homelab-${stack}`,
              region: snapshots.s3.region,
              accessKey: snapshots.s3.accessKey,
              insecure: snapshots.s3.insecure,
            },
          },
        }
      : {}),
  };
}

/** Label prefixes the kubelet may set on its own Node (the NodeRestriction admission plugin). */
const KUBELET_ALLOWED_KEYS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/arch",
  "kubernetes.io/os",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
]);

/**
 * The labels a kubelet may register itself with. NodeRestriction rejects self-set labels under
 * kubernetes.io and k8s.io (e.g. node-role.kubernetes.io/worker) except a fixed list and the
 * kubelet.kubernetes.io / node.kubernetes.io namespaces; the membership step sets those from a server.
 */
export function kubeletLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    const prefix = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
    const restricted = /(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix);
    const allowed = KUBELET_ALLOWED_KEYS.has(key) || /(^|\.)(kubelet|node)\.kubernetes\.io$/.test(prefix);
    if (!restricted || allowed) out[key] = value;
  }
  return out;
}

/** `key=value` pairs, sorted by key. */
export function labelPairs(labels: Readonly<Record<string, string>>): string[] {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
}

/**
 * config.yaml for one node. Pure; the result holds a token and must be handled as a secret. It names
 * no server to join and no cluster-init: the join step chooses those at the node's first install
 * (a drop-in beside this file), so that which servers exist never changes a node's config.yaml.
 */
export function renderK3sConfig(node: K3sNodeSettings, cluster: K3sClusterSettings, tokens: K3sTokens): string {
  const labels = labelPairs(kubeletLabels(node.labels));
  const doc: Record<string, unknown> = {
    // Extra keys first: validation refuses every key set below, so none is overridden.
    ...(node.role === "server" ? cluster.extra?.server : cluster.extra?.agent),
    "node-name": node.name,
    "node-ip": node.ip,
    "node-label": labels.length > 0 ? labels : undefined,
    "node-taint": node.taints.length > 0 ? [...node.taints] : undefined,
  };
  if (node.role === "server") {
    Object.assign(doc, {
      token: tokens.token,
      "agent-token": tokens.agentToken,
      "tls-san": [...cluster.tlsSans],
      disable: cluster.disable.length > 0 ? [...cluster.disable] : undefined,
      "cluster-cidr": cluster.clusterCidr,
      "service-cidr": cluster.serviceCidr,
      // Secrets encrypted at rest in etcd (aescbc); every server must agree, so it is set from day one.
      "secrets-encryption": true,
      ...etcdSnapshotKeys(cluster, tokens),
    });
  } else {
    Object.assign(doc, { token: tokens.agentToken });
  }
  return toYaml(doc);
}

/**
 * k3s's own snapshot keys (docs.k3s.io/cli/etcd-snapshot): the schedule and retention, and the S3
 * upload, so a snapshot survives the VMs. A restore (`k3s server --cluster-reset
 * --cluster-reset-restore-path=<name>`) reads the same keys from this file to fetch it.
 */
function etcdSnapshotKeys(cluster: K3sClusterSettings, tokens: K3sTokens): Record<string, unknown> {
  const snapshots = cluster.etcdSnapshots;
  if (snapshots === undefined) return {};
  if (tokens.etcdS3SecretKey === undefined) throw new Error("etcd snapshots to S3 need the S3 secret key"); // resolveStack requires it
  return {
    "etcd-snapshot-schedule-cron": snapshots.schedule,
    "etcd-snapshot-retention": snapshots.retention,
    "etcd-s3": true,
    "etcd-s3-endpoint": snapshots.s3.endpoint,
    "etcd-s3-bucket": snapshots.s3.bucket,
    "etcd-s3-folder": snapshots.s3.folder,
    "etcd-s3-region": snapshots.s3.region,
    "etcd-s3-access-key": snapshots.s3.accessKey,
    "etcd-s3-secret-key": tokens.etcdS3SecretKey,
    "etcd-s3-insecure": snapshots.s3.insecure ? true : undefined,
  };
}
