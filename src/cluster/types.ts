// What the cluster layer hands to the layers above (system, platform, apps).
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

export interface Cluster {
  /** Kubernetes provider (the admin credentials, through the first server); every in-cluster resource uses it. */
  readonly provider: k8s.Provider;
  /** Admin kubeconfig pointing at the API endpoint (secret). */
  readonly kubeconfig: pulumi.Output<string>;
  /** https://<endpoint>:6443 */
  readonly apiServer: string;
  /**
   * The k3s server token (secret). A restore of etcd from a snapshot needs the token the cluster
   * was made with (it encrypts the bootstrap data in the snapshot): exported so it can be kept
   * beside the snapshots (`pulumi stack output --show-secrets k3sToken`).
   */
  readonly k3sToken: pulumi.Output<string>;
  /** Resolves once every server is Ready and the API answers. */
  readonly ready: pulumi.Resource[];
  /** The readiness resource of one node (joined and Ready); throws for an unknown name. */
  nodeReady(name: string): pulumi.Resource;
  /** Resources that are ready once every GPU node is ready (device plugin up, smoke test passed); empty without GPU nodes. */
  readonly gpuReady: pulumi.Resource[];
}
