// Test helper: plans the platform (Flux) and apps layers for a stack config on top of stand-in
// cluster and system layers (a Kubernetes provider and one readiness resource each), under the
// recording monitor. Tests the two layers against the Cluster and System contracts alone.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import { buildApps } from "../src/apps";
import { EXTRA_CHECKS } from "../src/checks";
import type { Cluster } from "../src/cluster/types";
import { loadStack, type LoadedStack } from "../src/config/loader";
import { RecordingMonitor } from "../src/plan/recorder";
import { parseStackFile, PROJECT } from "../src/plan/run";
import { buildPlatform } from "../src/platform";
import { ISSUER_STAGING, STORAGE_LOCAL, STORAGE_LONGHORN, STORAGE_NFS } from "../src/system/conventions";
import { TRUENAS_CLASSES } from "../src/system/democraticCsiRender";
import type { System } from "../src/system/types";
import { Graph } from "./harness";

export const CLUSTER_READY = "cluster-ready";
export const GPU_READY = "gpu-ready";
export const SYSTEM_READY = "system-ready";
export const STORAGE_READY = "storage-ready";
const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n";

/** The cluster layer's contract: a provider, readiness, GPU readiness when the stack has a GPU node. */
export function standInCluster(hasGpu: boolean): Cluster {
  return {
    provider: new k8s.Provider("k8s", { kubeconfig: pulumi.secret(KUBECONFIG) }),
    kubeconfig: pulumi.secret(KUBECONFIG),
    apiServer: "https://10.0.20.11:6443",
    k3sToken: pulumi.secret("stand-in-token"),
    ready: [new random.RandomId(CLUSTER_READY, { byteLength: 4 })],
    nodeReady: (name) => {
      throw new Error(`no node ${name} in the stand-in cluster`);
    },
    gpuReady: hasGpu ? [new random.RandomId(GPU_READY, { byteLength: 4 })] : [],
  };
}

/** The system layer's contract for a config: storage classes and issuer as the system layer names them. */
export function standInSystem(cfg: LoadedStack["config"]): System {
  return {
    clusterIssuer: cfg.certManager.enabled ? ISSUER_STAGING : undefined,
    // With Traefik, cert-manager's wildcard is Traefik's default certificate: no per-ingress ones.
    ingressIssuer: cfg.certManager.enabled && !cfg.cluster.traefik ? ISSUER_STAGING : undefined,
    ingressIssuers: { [cfg.domain]: cfg.certManager.enabled && !cfg.cluster.traefik ? ISSUER_STAGING : undefined },
    caCertificates: {},
    storageClasses: {
      local: STORAGE_LOCAL,
      ...(cfg.storage.nfs.enabled ? { nfs: STORAGE_NFS } : {}),
      ...(cfg.storage.longhorn.enabled ? { longhorn: STORAGE_LONGHORN } : {}),
      ...(cfg.storage.truenas.enabled && cfg.storage.truenas.nfs ? { truenasNfs: TRUENAS_CLASSES.nfs.storageClass } : {}),
      ...(cfg.storage.truenas.enabled && cfg.storage.truenas.iscsi ? { truenasIscsi: TRUENAS_CLASSES.iscsi.storageClass } : {}),
    },
    ingressReady: [new random.RandomId(SYSTEM_READY, { byteLength: 4 })],
    storageReady: [new random.RandomId(STORAGE_READY, { byteLength: 4 })],
    traefikIp: cfg.traefik.loadBalancerIp,
  };
}

export interface AppsPlan {
  readonly graph: Graph;
  readonly stack: LoadedStack;
}

/**
 * Validates `config` like the program does (throwing ConfigError), then registers Flux and the
 * apps and exports `fluxDeployKey` and `appUrls` like the program. One runtime per call, in sequence.
 */
export async function planApps(config: Record<string, unknown>, stackName = "test"): Promise<AppsPlan> {
  const stackFile = parseStackFile(stringify({ config }));
  const monitor = new RecordingMonitor();
  pulumi.runtime.setAllConfig(stackFile.config, stackFile.secretKeys);
  await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, PROJECT, stackName, false);
  pulumi.runtime.setMockOptions(monitor, PROJECT, stackName, false);
  const stack = loadStack(EXTRA_CHECKS);
  await pulumi.runtime.runInPulumiStack(async () => {
    const cluster = standInCluster(stack.config.nodes.some((n) => n.role === "gpu"));
    const system = standInSystem(stack.config);
    const platform = buildPlatform(stack.config, stack.stack, cluster);
    const apps = buildApps(stack.config, cluster, system, platform);
    return { ...(platform.fluxDeployKey ? { fluxDeployKey: platform.fluxDeployKey } : {}), appUrls: apps.urls };
  });
  await pulumi.runtime.disconnect();
  return {
    graph: new Graph({ stack: stackName, resources: monitor.records, outputs: monitor.stackOutputs, rawOutputs: monitor.rawStackOutputs, warnings: stack.warnings }),
    stack,
  };
}
