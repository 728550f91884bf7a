// K3sNode: one k3s server or agent on a VM, as SSH steps.
//   <name>-join      on the node: config.yaml from stdin; on a VM without k3s, the join target (the
//                    first server that answers), the install and a non-blocking start; restart on
//                    a changed config; its delete uninstalls k3s.
//   <name>-member    on the node's control server (K3sCluster.controlFor): waits until the Node is
//                    Ready, reconciles labels and taints; its delete drains the node and deletes
//                    the Node object (and so a server's etcd member) before the join step's
//                    uninstall and the VM's delete.
//   <name>-upgrade   on the node: keeps k3s at the pinned version; chained across the cluster so a
//                    version change rolls servers one at a time, then agents in bounded batches.
//   <name>-drain     agents only, on the control server: cordon and drain before the upgrade
//   <name>-uncordon  ...and back into service once the agent runs the new version.
// Used for every node, GPU agents included (GpuNode adds its driver steps in front).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { drainScript, joinScript, memberScript, removeScript, uncordonScript, uninstallScript, upgradeScript, type K3sRole } from "./k3sScripts";

export const TYPE = "homelab:cluster:K3sNode";

/**
 * Deadlines the engine gives each step (customTimeouts). Every script bounds its own waits (10
 * minutes each); these only stop a step whose SSH session itself stalls, and are set well above
 * what a healthy join (download, install, etcd join, image pulls) or upgrade takes.
 */
export const STEP_TIMEOUTS = { create: "40m", update: "40m", delete: "20m" } as const;

/** The parts of a ProxmoxVm a k3s node needs. */
export interface NodeHost {
  /** Readiness gate: SSH answers and cloud-init is done. */
  readonly ready: pulumi.Resource;
  /** SSH connection (secret: holds the private key). */
  readonly connection: command.types.input.remote.ConnectionArgs;
  /** Changes when the VM is recreated. */
  readonly instanceKey: pulumi.Output<string>;
}

/** Where kubectl steps about a node run: a server of the cluster other than the node (see K3sCluster.controlFor). */
export interface ControlServer {
  /** The server's node name. */
  readonly name: string;
  readonly connection: command.types.input.remote.ConnectionArgs;
  /** What must be done before kubectl works there: the server's own join step. */
  readonly ready: pulumi.Input<pulumi.Resource>[];
}

export interface K3sNodeArgs {
  /** Node name (the VM's hostname). */
  readonly node: string;
  readonly role: K3sRole;
  readonly host: NodeHost;
  /** Pinned k3s version, e.g. v1.34.2+k3s1. */
  readonly version: string;
  /** Rendered config.yaml; secret (holds a token). */
  readonly config: pulumi.Input<string>;
  /** Servers this node may join through (https://ip:6443, tried in order); never the node itself. */
  readonly peers: readonly string[];
  /** Snapshot to restore etcd from when this server finds no cluster (cluster.etcdRestore). Default none. */
  readonly restore?: string;
  /** Every label the node must carry (the membership step applies them all). */
  readonly labels: Readonly<Record<string, string>>;
  /** Every taint, key[=value]:Effect. */
  readonly taints: readonly string[];
  readonly control: ControlServer;
  /** What must be done before this node joins (the previous server; the bootstrap). Default none. */
  readonly joinAfter?: pulumi.Input<pulumi.Resource>[];
  /** The upgrade steps this node's upgrade waits for (the previous link of the chain). Default none. */
  readonly upgradeAfter?: pulumi.Input<pulumi.Resource>[];
  /**
   * Agents: the batch slot K3sCluster.agentArgs gave this node; it is handed the node's last upgrade
   * step, which later agents' upgrades wait for. Default none.
   */
  readonly upgradeSlot?: { settle(upgraded: pulumi.Resource): void };
}

export class K3sNode extends pulumi.ComponentResource {
  /** Join step: k3s installed and configured on the node. */
  public readonly join: command.remote.Command;
  /** Resolves once the node is registered and Ready, with its labels and taints. */
  public readonly ready: command.remote.Command;
  /** Upgrade step: k3s at the pinned version. */
  public readonly upgrade: command.remote.Command;
  /** The last step of this node's upgrade: the upgrade itself (server), the uncordon (agent). */
  public readonly upgraded: command.remote.Command;

  constructor(name: string, args: K3sNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const child = { parent: this };
    const customTimeouts = STEP_TIMEOUTS;
    // Every step runs again on a recreated VM.
    const triggers = [args.host.instanceKey];
    const quiet = { logging: "stderr", addPreviousOutputInEnv: false } as const;

    // The version in the join script matters only for a first install: on a version change this
    // step's update finds k3s installed and does nothing, and the upgrade chain does the work.
    const join = joinScript({ node: args.node, role: args.role, version: args.version, peers: args.peers, restore: args.restore });
    this.join = new command.remote.Command(
      `${name}-join`,
      {
        connection: args.host.connection,
        create: join,
        update: join,
        delete: uninstallScript(args.node, args.role),
        // stdout carries only progress; config.yaml goes to a file, never to a log.
        stdin: pulumi.secret(args.config),
        triggers,
        ...quiet,
      },
      // Install/uninstall pair on one host: on replacement the old k3s must be gone before the new install.
      { ...child, deleteBeforeReplace: true, customTimeouts, dependsOn: [args.host.ready, ...(args.joinAfter ?? [])] },
    );

    const member = memberScript({ node: args.node, labels: args.labels, taints: args.taints });
    this.ready = new command.remote.Command(
      `${name}-member`,
      {
        connection: args.control.connection,
        create: member,
        update: member,
        delete: removeScript(args.node, args.role),
        triggers,
        ...quiet,
      },
      // A recreated VM registers under the same name: the old Node object (and its node-password
      // secret) must be deleted before the new node waits to register. The delete runs on the
      // control server recorded in state, which is never the node itself.
      { ...child, deleteBeforeReplace: true, customTimeouts, dependsOn: [this.join, ...args.control.ready] },
    );

    const upgradeAfter = [this.ready, ...(args.upgradeAfter ?? [])];
    let drain: command.remote.Command | undefined;
    if (args.role === "agent") {
      const script = drainScript(args.node, args.version);
      drain = new command.remote.Command(
        `${name}-drain`,
        { connection: args.control.connection, create: script, update: script, triggers, ...quiet },
        { ...child, customTimeouts, dependsOn: upgradeAfter },
      );
    }
    this.upgrade = new command.remote.Command(
      `${name}-upgrade`,
      {
        connection: args.host.connection,
        create: upgradeScript(args.node, args.role, args.version),
        update: upgradeScript(args.node, args.role, args.version),
        triggers,
        ...quiet,
      },
      { ...child, customTimeouts, dependsOn: drain ? [drain] : upgradeAfter },
    );
    if (args.role === "agent") {
      const script = uncordonScript(args.node, args.version);
      this.upgraded = new command.remote.Command(
        `${name}-uncordon`,
        { connection: args.control.connection, create: script, update: script, triggers, ...quiet },
        { ...child, customTimeouts, dependsOn: [this.upgrade] },
      );
    } else {
      this.upgraded = this.upgrade;
    }

    args.upgradeSlot?.settle(this.upgraded);

    this.registerOutputs({ ready: this.ready.id, upgrade: this.upgraded.id });
  }
}
