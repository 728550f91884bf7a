// Test helper: plans the system layer alone (and optionally the DNS records) for a stack config,
// on top of a stand-in cluster (a Kubernetes provider and one readiness resource), under the
// recording monitor. Lets the system layer be tested independently of how the cluster is built.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import { EXTRA_CHECKS } from "../src/checks";
import type { Cluster } from "../src/cluster/types";
import { loadStack, type LoadedStack } from "../src/config/loader";
import { RecordingMonitor } from "../src/plan/recorder";
import { parseStackFile, PROJECT } from "../src/plan/run";
import { DnsRecords } from "../src/platform/dns";
import { buildSystem, type System } from "../src/system";
import { Graph } from "./harness";

/** Name of the stand-in cluster's readiness resource. */
export const CLUSTER_READY = "cluster-ready";
export const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n";

/** A Cluster as the cluster layer hands it over: a provider and one resource that is ready last. */
export function standInCluster(): Cluster {
  const ready = new random.RandomId(CLUSTER_READY, { byteLength: 4 });
  return {
    provider: new k8s.Provider("k8s", { kubeconfig: pulumi.secret(KUBECONFIG) }),
    kubeconfig: pulumi.secret(KUBECONFIG),
    apiServer: "https://10.0.20.11:6443",
    k3sToken: pulumi.secret("stand-in-token"),
    ready: [ready],
    nodeReady: (name) => {
      throw new Error(`no node ${name} in the stand-in cluster`);
    },
    gpuReady: [],
  };
}

export interface SystemPlan {
  readonly graph: Graph;
  readonly system: System;
  readonly stack: LoadedStack;
}

/**
 * Validates `config` like the program does (throwing ConfigError), then registers the system layer
 * and, when dns.enabled, the DNS records. One Pulumi runtime per call, calls in sequence.
 */
export async function planSystem(config: Record<string, unknown>): Promise<SystemPlan> {
  const stackFile = parseStackFile(stringify({ config }));
  const monitor = new RecordingMonitor();
  pulumi.runtime.setAllConfig(stackFile.config, stackFile.secretKeys);
  await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, PROJECT, "test", false);
  pulumi.runtime.setMockOptions(monitor, PROJECT, "test", false);
  const stack = loadStack(EXTRA_CHECKS);
  let system: System | undefined;
  await pulumi.runtime.runInPulumiStack(async () => {
    system = buildSystem(stack.config, standInCluster());
    const { dns, domain } = stack.config;
    if (dns.enabled) {
      new DnsRecords("dns", {
        zoneId: dns.zoneId,
        domain,
        address: dns.address,
        apiToken: dns.apiToken,
        proxied: dns.proxied,
        ttl: dns.ttl,
      });
    }
    return {};
  });
  await pulumi.runtime.disconnect();
  return {
    graph: new Graph({ stack: "test", resources: monitor.records, outputs: monitor.stackOutputs, rawOutputs: monitor.rawStackOutputs, warnings: stack.warnings }),
    system: system!,
    stack,
  };
}
