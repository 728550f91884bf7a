// K3sNode: one k3s server or agent on a VM, as three SSH steps.
//   <name>-join     on the node: config.yaml from stdin, k3s installed if absent, restart on change;
//                   its delete uninstalls k3s.
//   <name>-member   on the control server: waits until the Node is Ready, reconciles labels and
//                   taints; its delete drains the node and deletes the Node object (and so a
//                   server's etcd member) before the join step's uninstall and the VM's delete.
//   <name>-upgrade  on the node: keeps k3s at the pinned version; chained across the cluster so a
//                   version change rolls servers one at a time, then agents.
// Used for every node, GPU agents included (GpuNode adds its driver steps in front).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { joinScript, memberScript, removeScript, uninstallScript, upgradeScript, type K3sRole } from "./k3sScripts";

export const TYPE = "homelab:cluster:K3sNode";

/** The parts of a ProxmoxVm a k3s node needs. */
export interface NodeHost {
  /** Readiness gate: SSH answers and cloud-init is done. */
  readonly ready: pulumi.Resource;
  /** SSH connection (secret: holds the private key). */
  readonly connection: command.types.input.remote.ConnectionArgs;
  /** Changes when the VM is recreated. */
  readonly instanceKey: pulumi.Output<string>;
}

/** Where membership steps run: the first server, through kubectl. */
export interface ControlServer {
  readonly connection: command.types.input.remote.ConnectionArgs;
  /** The control server's own readiness (empty for the first server itself). */
  readonly ready: pulumi.Resource[];
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
  /** Every label the node must carry (the membership step applies them all). */
  readonly labels: Readonly<Record<string, string>>;
  /** Every taint, key[=value]:Effect. */
  readonly taints: readonly string[];
  readonly control: ControlServer;
  /** What must be Ready before this node joins (the previous server; the first server for agents). Default none. */
  readonly joinAfter?: pulumi.Resource[];
  /** The upgrade steps this node's upgrade waits for (the previous link of the chain). Default none. */
  readonly upgradeAfter?: pulumi.Resource[];
}

export class K3sNode extends pulumi.ComponentResource {
  /** Join step: k3s installed and configured on the node. */
  public readonly join: command.remote.Command;
  /** Resolves once the node is registered and Ready, with its labels and taints. */
  public readonly ready: command.remote.Command;
  /** Upgrade step: k3s at the pinned version. */
  public readonly upgrade: command.remote.Command;

  constructor(name: string, args: K3sNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const child = { parent: this };
    // Every step runs again on a recreated VM.
    const triggers = [args.host.instanceKey];

    // The version in the join script matters only for a first install: on a version change this
    // step's update finds k3s installed and does nothing, and the upgrade chain does the work.
    this.join = new command.remote.Command(
      `${name}-join`,
      {
        connection: args.host.connection,
        create: joinScript(args.node, args.role, args.version),
        update: joinScript(args.node, args.role, args.version),
        delete: uninstallScript(args.node, args.role),
        stdin: pulumi.secret(args.config),
        triggers,
        // stdout carries only progress; config.yaml goes to a file, never to a log.
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      // Install/uninstall pair on one host: on replacement the old k3s must be gone before the new install.
      { ...child, deleteBeforeReplace: true, dependsOn: [args.host.ready, ...(args.joinAfter ?? [])] },
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
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      // A recreated VM registers under the same name: the old Node object (and its node-password
      // secret) must be deleted before the new node waits to register.
      { ...child, deleteBeforeReplace: true, dependsOn: [this.join, ...args.control.ready] },
    );

    this.upgrade = new command.remote.Command(
      `${name}-upgrade`,
      {
        connection: args.host.connection,
        create: upgradeScript(args.node, args.role, args.version),
        update: upgradeScript(args.node, args.role, args.version),
        triggers,
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      { ...child, dependsOn: [this.ready, ...(args.upgradeAfter ?? [])] },
    );

    this.registerOutputs({ ready: this.ready.id, upgrade: this.upgrade.id });
  }
}
