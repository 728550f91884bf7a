// K3sCluster: HA k3s (embedded etcd) on the ProxmoxVm nodes.
//
// Identity. The cluster is named by a random id made once and kept in state (protected), never by a
// VM: the Kubernetes provider's clusterIdentifier, and with it every object in the cluster, survive
// removing, reordering or rebuilding any server. Initialising etcd is a first-run role: a bootstrap
// step, created once in the stack's life, marks the first server of that run; a server joins
// through any server that answers and initialises etcd only with that mark and no server
// answering. So a rebuilt VM, the first server's included, always joins the running cluster.
//
// Order: servers join one at a time (each after the previous server is healthy); agents join as
// soon as the first server is. Membership steps run on a control server other than the node
// (controlFor), the kubeconfig is read from the first server by name once every server is Ready.
// Upgrades: servers one at a time, then agents in batches of agentUpgradeBatch, each drained first.
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as time from "@pulumiverse/time";
import { byName } from "../config/model";
import { renderK3sConfig, type K3sClusterSettings, type K3sNodeSettings } from "./k3sConfig";
import { K3sNode, STEP_TIMEOUTS, type ControlServer, type K3sNodeArgs, type NodeHost } from "./k3sNode";
import { bootstrapScript, bundledCrds, kubeconfigScript, rewriteKubeconfig, serverUrl } from "./k3sScripts";

export const TYPE = "homelab:cluster:K3sCluster";

/**
 * How often the kubeconfig is read again (and its admin certificate renewed when it has fewer than
 * CERT_RENEW_DAYS left): any `pulumi up` after this many days re-runs the read.
 */
export const KUBECONFIG_REREAD_DAYS = 30;

/**
 * The k3s tokens' and the identity's arguments never change them: a new value would orphan every
 * node. Every generated password of the program ignores them too: an imported one (adopting a
 * running lab) gets length = len(value) and special/upper/lower/numeric = true, all RequiresReplace
 * (terraform-provider-random v3.8.1 internal/provider/resource_password.go ImportState), so the
 * first up would replace it with a new value.
 */
export const RANDOM_ARGS = [
  "length",
  "special",
  "upper",
  "lower",
  "numeric",
  "number",
  "minLower",
  "minUpper",
  "minNumeric",
  "minSpecial",
  "overrideSpecial",
  "keepers",
  "byteLength",
  "prefix",
];

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
  /** Servers in join order; on the stack's first run the first one initialises etcd. At least one. */
  readonly servers: readonly K3sMember[];
  /** Agents (GPU agents join through `agentArgs`). Default none. */
  readonly agents?: readonly K3sMember[];
  readonly settings: K3sClusterSettings;
  /** Address the exported kubeconfig points at (a VIP, the API hostname, or the first server by name). */
  readonly apiEndpoint: string;
  /** Name of the cluster, user and context in the kubeconfig, e.g. homelab-lab. */
  readonly contextName: string;
  /** How many agents upgrade at once. Default 1. */
  readonly agentUpgradeBatch?: number;
  /** Restore etcd from `snapshot` on server `node` when it finds no cluster (cluster.etcdRestore). Default none. */
  readonly restore?: { readonly node: string; readonly snapshot: string };
  /** The S3 secret key, when settings.etcdSnapshots is set (secret). Default none. */
  readonly etcdS3SecretKey?: pulumi.Input<string>;
}

/** What a K3sNode for an agent needs beyond the member itself. */
export interface AgentExtras {
  /** Resources that must be done before the agent joins (e.g. the GPU driver). Default none. */
  readonly joinAfter?: pulumi.Resource[];
  /** Resources its upgrade drain waits for too (the GPU driver's uncordon: one drain at a time). Default none. */
  readonly upgradeAfter?: pulumi.Input<pulumi.Resource>[];
}

/** A resource that exists later in the constructor (a server's join, an agent's last upgrade step). */
class Later {
  public readonly resource: Promise<pulumi.Resource>;
  public settle!: (r: pulumi.Resource) => void;
  constructor() {
    this.resource = new Promise((resolve) => (this.settle = resolve));
  }
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
  /** Kubernetes provider: the admin kubeconfig, pointed at the control server (controlFor). */
  public readonly provider: k8s.Provider;
  /** The kubeconfig read: done once every server is Ready (and at the pinned version). */
  public readonly ready: pulumi.Resource[];

  private readonly args: K3sClusterArgs;
  private readonly serversByName: readonly K3sMember[];
  private readonly joined = new Map<string, Later>();
  private readonly agentUpgrades: Later[] = [];
  private readonly firstJoin: pulumi.Resource;
  private readonly lastServerUpgrade: pulumi.Resource;

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    if (args.servers.length === 0) throw new Error("K3sCluster: [servers] must list at least one server");
    const child = { parent: this };
    this.args = args;
    this.serversByName = byName(args.servers);
    this.apiServer = `https://${args.apiEndpoint}:6443`;
    for (const s of args.servers) this.joined.set(s.name, new Later());

    // Made once and kept: protected, and deaf to argument changes (a new value orphans every node,
    // or replaces the provider and so every object in the cluster). Letters and digits only (they
    // end up in YAML and URLs).
    const kept = { ...child, protect: true, ignoreChanges: RANDOM_ARGS };
    const identity = new random.RandomId(`${name}-cluster-id`, { byteLength: 8 }, kept);
    this.token = pulumi.secret(new random.RandomPassword(`${name}-token`, { length: 48, special: false }, kept).result);
    this.agentToken = pulumi.secret(new random.RandomPassword(`${name}-agent-token`, { length: 48, special: false }, kept).result);

    // Once in the stack's life (created, then never changed: protected, its inputs ignored).
    const first = args.servers[0];
    const bootstrap = new command.remote.Command(
      `${name}-bootstrap`,
      { connection: first.host.connection, create: bootstrapScript(first.name, this.peersOf(first.name)), logging: "stderr", addPreviousOutputInEnv: false },
      { ...child, protect: true, ignoreChanges: ["connection", "create"], customTimeouts: STEP_TIMEOUTS, dependsOn: [first.host.ready] },
    );

    const nodes = new Map<string, K3sNode>();
    let previous: K3sNode | undefined;
    for (const server of args.servers) {
      const node = new K3sNode(
        `${server.name}-k3s`,
        {
          ...this.nodeArgs(server, "server"),
          // One etcd member at a time: each server joins once the previous one is healthy.
          joinAfter: [bootstrap, ...(previous ? [previous.join] : [])],
          upgradeAfter: previous ? [previous.upgrade] : [],
        },
        child,
      );
      this.joined.get(server.name)!.settle(node.join);
      nodes.set(server.name, node);
      previous = node;
    }
    this.firstJoin = nodes.get(first.name)!.join;
    this.lastServerUpgrade = previous!.upgrade;
    for (const agent of args.agents ?? []) {
      const agentArgs = this.agentArgs(agent);
      const node = new K3sNode(`${agent.name}-k3s`, agentArgs, child);
      nodes.set(agent.name, node);
    }
    this.nodes = nodes;

    const servers = args.servers.map((s) => nodes.get(s.name)!);
    const control = this.controlFor(undefined);
    // Re-read on a schedule: the admin client certificate lasts a year (see kubeconfigScript).
    const reread = new time.Rotating(`${name}-kubeconfig-reread`, { rotationDays: KUBECONFIG_REREAD_DAYS }, child);
    const read = new command.remote.Command(
      `${name}-kubeconfig`,
      {
        connection: control.connection,
        // Runs again when the servers or the k3s version change, and on the schedule.
        create: kubeconfigScript(
          this.serversByName.map((s) => s.name),
          args.version,
          bundledCrds(args.settings.disable),
        ),
        triggers: [reread.id],
        // stdout is the admin kubeconfig: secret, never logged.
        logging: "none",
        addPreviousOutputInEnv: false,
      },
      { ...child, additionalSecretOutputs: ["stdout"], customTimeouts: STEP_TIMEOUTS, dependsOn: servers.flatMap((s) => [s.ready, s.upgrade]) },
    );
    this.ready = [read];
    this.kubeconfig = pulumi.secret(read.stdout.apply((k) => rewriteKubeconfig(k, this.apiServer, args.contextName)));
    const controlUrl = serverUrl(this.serversByName[0].ip);
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        // Pulumi reaches the API through the control server, the host this read and every
        // membership step already go through, not through the exported endpoint: a DNS record for
        // apiHostname or a VIP (neither made by this program) need not exist for `pulumi up`.
        kubeconfig: pulumi.secret(read.stdout.apply((k) => rewriteKubeconfig(k, controlUrl, args.contextName))),
        // Only a new identity replaces the provider, and with it every object in the cluster; a
        // re-read kubeconfig (renewed certificate, another control server) is an update.
        clusterIdentifier: pulumi.interpolate`${args.contextName}-${identity.id}`,
      },
      // Stacks made before the identity existed keep the identifier they were created with (it
      // named the first server's VM): changing it would replace every object in the cluster.
      { ...child, ignoreChanges: ["clusterIdentifier"] },
    );

    this.registerOutputs({ apiServer: this.apiServer, kubeconfig: this.kubeconfig });
  }

  /**
   * The control server for steps about `node` (membership, drains, reboots): the first server by
   * name that is not `node` itself, or the only server. By name, so reordering the stack file moves
   * nothing; never the node itself, so removing or rebuilding a node (the first server included)
   * runs its drain and Node deletion from a server that stays. `ready` is that server's join step:
   * depend on it before running kubectl there. Without `node`: the first server by name.
   */
  public controlFor(node: string | undefined): ControlServer {
    const server = this.serversByName.find((s) => s.name !== node) ?? this.serversByName[0];
    return { name: server.name, connection: server.host.connection, ready: [this.joined.get(server.name)!.resource] };
  }

  /**
   * K3sNode args for an agent: joins once the first server is up, upgrades after the last server
   * in its batch slot. GpuNode uses it to join its VM after the driver steps. Each call takes an
   * upgrade slot: the args must be used for exactly one K3sNode (which fills the slot).
   */
  public agentArgs(agent: K3sMember, extras: AgentExtras = {}): K3sNodeArgs {
    const batch = this.args.agentUpgradeBatch ?? 1;
    const slot = this.agentUpgrades.length;
    const done = new Later();
    this.agentUpgrades.push(done);
    return {
      ...this.nodeArgs(agent, "agent"),
      joinAfter: [this.firstJoin, ...(extras.joinAfter ?? [])],
      upgradeAfter: [this.lastServerUpgrade, ...(slot >= batch ? [this.agentUpgrades[slot - batch].resource] : []), ...(extras.upgradeAfter ?? [])],
      upgradeSlot: done,
    };
  }

  /** Join targets for `node`: every other server, by name. */
  private peersOf(node: string): string[] {
    return this.serversByName.filter((s) => s.name !== node).map((s) => serverUrl(s.ip));
  }

  private nodeArgs(member: K3sMember, role: K3sNodeSettings["role"]) {
    const settings: K3sNodeSettings = { name: member.name, ip: member.ip, role, labels: member.labels, taints: member.taints };
    const restore = this.args.restore;
    return {
      node: member.name,
      role,
      host: member.host,
      version: this.args.version,
      config: pulumi.secret(
        pulumi
          .all([this.token, this.agentToken, this.args.etcdS3SecretKey])
          .apply(([token, agentToken, etcdS3SecretKey]) => renderK3sConfig(settings, this.args.settings, { token, agentToken, etcdS3SecretKey })),
      ),
      peers: this.peersOf(member.name),
      restore: role === "server" && restore?.node === member.name ? restore.snapshot : undefined,
      labels: member.labels,
      taints: member.taints,
      control: this.controlFor(member.name),
    };
  }
}
