// K3sCluster: HA k3s (embedded etcd) on the ProxmoxVm nodes.
//
// Order: the first server initialises etcd; each further server joins once the one before it is
// Ready (one etcd member at a time); agents join in parallel as soon as the first server is Ready.
// The kubeconfig is read once every server is Ready, so the layers above start while agents are
// still joining. Upgrades are a separate chain: servers one at a time, then every agent.
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { renderK3sConfig, type K3sClusterSettings, type K3sNodeSettings } from "./k3sConfig";
import { K3sNode, type ControlServer, type K3sNodeArgs, type NodeHost } from "./k3sNode";
import { API_PORT, bundledCrds, kubeconfigScript, rewriteKubeconfig } from "./k3sScripts";

export const TYPE = "homelab:cluster:K3sCluster";

/** A node of the cluster: its name, address, labels and taints, and the VM it runs on. */
export interface K3sMember {
  readonly name: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly string[];
  readonly host: NodeHost;
}

export interface K3sClusterArgs {
  /** Pinned k3s release, e.g. v1.34.2+k3s1. */
  readonly version: string;
  /** Servers in join order; the first initialises etcd. At least one. */
  readonly servers: readonly K3sMember[];
  /** Agents (GPU agents join through `agentArgs`). Default none. */
  readonly agents?: readonly K3sMember[];
  readonly settings: K3sClusterSettings;
  /** Address the kubeconfig points at (a VIP, the API hostname, or the first server). */
  readonly apiEndpoint: string;
  /** Name of the cluster, user and context in the kubeconfig, e.g. homelab-lab. */
  readonly contextName: string;
}

/** What a K3sNode for an agent needs beyond the member itself. */
export interface AgentExtras {
  /** Resources that must be done before the agent joins (e.g. the GPU driver). Default none. */
  readonly joinAfter?: pulumi.Resource[];
}

export class K3sCluster extends pulumi.ComponentResource {
  /** Server token (secret). */
  public readonly token: pulumi.Output<string>;
  /** Agent token (secret): joins agents only. */
  public readonly agentToken: pulumi.Output<string>;
  /** K3sNode per server and agent name, in join order. */
  public readonly nodes: ReadonlyMap<string, K3sNode>;
  /** https://<apiEndpoint>:6443 */
  public readonly apiServer: string;
  /** Admin kubeconfig pointing at the API endpoint (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  /** Kubernetes provider: the admin kubeconfig, pointed at the first server. */
  public readonly provider: k8s.Provider;
  /** The kubeconfig read: done once every server is Ready (and at the pinned version). */
  public readonly ready: pulumi.Resource[];

  private readonly args: K3sClusterArgs;
  private readonly serverUrl: string;
  private readonly control: ControlServer;
  private readonly lastServerUpgrade: pulumi.Resource;

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    if (args.servers.length === 0) throw new Error("K3sCluster: [servers] must list at least one server");
    const child = { parent: this };
    this.args = args;
    const first = args.servers[0];
    this.serverUrl = `https://${first.ip}:${API_PORT}`;
    this.apiServer = `https://${args.apiEndpoint}:${API_PORT}`;

    // Tokens are generated once and kept in state; letters and digits only (they end up in YAML and URLs).
    this.token = pulumi.secret(new random.RandomPassword(`${name}-token`, { length: 48, special: false }, child).result);
    this.agentToken = pulumi.secret(new random.RandomPassword(`${name}-agent-token`, { length: 48, special: false }, child).result);

    const nodes = new Map<string, K3sNode>();
    const serverNodes: K3sNode[] = [];
    let previous: K3sNode | undefined;
    let control: ControlServer = { connection: first.host.connection, ready: [] };
    for (const [i, server] of args.servers.entries()) {
      const node = new K3sNode(
        `${server.name}-k3s`,
        {
          ...this.nodeArgs(server, "server", i === 0 ? undefined : this.serverUrl),
          control,
          // One etcd member at a time: each server waits for the previous one to be Ready.
          joinAfter: previous ? [previous.ready] : [],
          upgradeAfter: previous ? [previous.upgrade] : [],
        },
        child,
      );
      if (i === 0) control = { connection: first.host.connection, ready: [node.ready] };
      nodes.set(server.name, node);
      serverNodes.push(node);
      previous = node;
    }
    this.control = control;
    // The upgrade chain's end: agents upgrade after the last server (servers is not empty, checked above).
    this.lastServerUpgrade = serverNodes[serverNodes.length - 1].upgrade;
    for (const agent of args.agents ?? []) {
      nodes.set(agent.name, new K3sNode(`${agent.name}-k3s`, this.agentArgs(agent), child));
    }
    this.nodes = nodes;

    const servers = serverNodes;
    const read = new command.remote.Command(
      `${name}-kubeconfig`,
      {
        connection: first.host.connection,
        // Runs again when the server list or the k3s version changes (renewed client certificate).
        create: kubeconfigScript(
          args.servers.map((s) => s.name),
          args.version,
          bundledCrds(args.settings.disable),
        ),
        // A new first server is a new cluster: read its kubeconfig again.
        triggers: [first.host.instanceKey],
        // stdout is the admin kubeconfig: secret, never logged.
        logging: "none",
        addPreviousOutputInEnv: false,
      },
      { ...child, additionalSecretOutputs: ["stdout"], dependsOn: servers.flatMap((s) => [s.ready, s.upgrade]) },
    );
    this.ready = [read];
    this.kubeconfig = pulumi.secret(read.stdout.apply((k) => rewriteKubeconfig(k, this.apiServer, args.contextName)));
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        // Pulumi reaches the API through the first server, the host this read and every membership
        // step already go through, not through the exported endpoint: a DNS record for apiHostname
        // or a VIP (neither made by this program) need not exist for `pulumi up` to work.
        kubeconfig: pulumi.secret(read.stdout.apply((k) => rewriteKubeconfig(k, this.serverUrl, args.contextName))),
        // Only a new cluster (a new first server) replaces the provider, and with it every resource
        // in the cluster; a re-read kubeconfig (rotated certificates) is an update.
        clusterIdentifier: pulumi.interpolate`${args.contextName}-${first.host.instanceKey}`,
      },
      child,
    );

    this.registerOutputs({ apiServer: this.apiServer, kubeconfig: this.kubeconfig });
  }

  /**
   * K3sNode args for an agent: joins once the first server is Ready, upgrades after the last server.
   * GpuNode uses it to join its VM after the driver steps.
   */
  public agentArgs(agent: K3sMember, extras: AgentExtras = {}): K3sNodeArgs {
    return {
      ...this.nodeArgs(agent, "agent", this.serverUrl),
      control: this.control,
      joinAfter: [...this.control.ready, ...(extras.joinAfter ?? [])],
      upgradeAfter: [this.lastServerUpgrade],
    };
  }

  private nodeArgs(member: K3sMember, role: K3sNodeSettings["role"], serverUrl: string | undefined) {
    const settings: K3sNodeSettings = { name: member.name, ip: member.ip, role, serverUrl, labels: member.labels, taints: member.taints };
    return {
      node: member.name,
      role,
      host: member.host,
      version: this.args.version,
      config: pulumi.secret(
        pulumi.all([this.token, this.agentToken]).apply(([token, agentToken]) => renderK3sConfig(settings, this.args.settings, { token, agentToken })),
      ),
      labels: member.labels,
      taints: member.taints,
    };
  }
}
