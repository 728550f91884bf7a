// RollingReboot: applies VM settings that need a power cycle (CPU, memory, addresses, DNS,
// devices: ProxmoxVm.rebootFingerprint) to k3s nodes, one node at a time for servers and a bounded
// number at a time for agents, never all at once. Per node, three steps:
//   <node>-reboot-drain   on a control server: compares the fingerprint with the one recorded on
//                         the Node; on a change, cordons and drains (prints "reboot <boot ID>")
//   <node>-reboot-vm      on the Proxmox node: `qm reboot`, so the pending settings apply
//   <node>-reboot-wait    on a control server: waits for a new boot ID, Ready (a server: its API
//                         too), then uncordons; the next node's drain waits for this
// A first create records the fingerprint and reboots nothing; a re-run that changed nothing, or
// changed only what needs no reboot (keys, scripts), decides "none" again and reboots nothing.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { renderScript } from "../lib/shellScript";
import { SSH_DIAL, type ProxmoxVm } from "../metal/proxmoxVm";
import { proxmoxReboot } from "../metal/vmReboot";
import type { ControlServer } from "./k3sNode";
import type { K3sRole } from "./k3sScripts";

export const TYPE = "homelab:cluster:RollingReboot";

const SCRIPTS = join(__dirname, "scripts");
/** Node annotation: the fingerprint of the VM settings the node runs with. */
export const SETTINGS_ANNOTATION = "homelab-infra/vm-settings";
/** Node annotation: the boot ID a started reboot must replace (removed once the node is back). */
export const REBOOTING_ANNOTATION = "homelab-infra/rebooting";
/** kubectl drain budget before the chain stops (a PodDisruptionBudget can block a drain forever). */
export const REBOOT_DRAIN_TIMEOUT = "300s";
/** Poll budget for the node to come back: 120 x 5 s; and a hard bound (s) on each kubectl call. */
export const REBOOT_NODE_WAIT = { tries: 120, seconds: 5, kubectlBound: 900 } as const;

const common = (node: string, rebootingKey = REBOOTING_ANNOTATION): [string, string | number][] => [
  ["node", node],
  ["rebooting_key", rebootingKey],
  ["wait_tries", REBOOT_NODE_WAIT.tries],
  ["wait_seconds", REBOOT_NODE_WAIT.seconds],
  ["kubectl_bound", REBOOT_NODE_WAIT.kubectlBound],
];

/** The drain step: `create` records the fingerprint only, `update` compares, then drains. */
export function rebootDrainScript(node: string, fingerprint: string, mode: "create" | "update"): string {
  return renderScript(
    SCRIPTS,
    `Decides whether ${node} must reboot for its VM settings ${fingerprint}, and drains it if so.`,
    [...common(node), ["settings_key", SETTINGS_ANNOTATION], ["fingerprint", fingerprint], ["mode", mode], ["drain_timeout", REBOOT_DRAIN_TIMEOUT]],
    ["reboot-drain.sh"],
  );
}

/** The wait step: stdin is the reboot step's stdout. */
export function rebootWaitScript(node: string, role: K3sRole, ip: string): string {
  return renderScript(
    SCRIPTS,
    `Waits for ${node} to come back from its reboot, healthy, and uncordons it.`,
    [...common(node), ["role", role], ["node_ip", ip]],
    ["reboot-wait.sh"],
  );
}

/** Node annotation: the NVIDIA driver package a GPU node runs (GpuNode's driver drain). */
export const DRIVER_ANNOTATION = "homelab-infra/gpu-driver";
/** Node annotation: the boot ID a driver install's reboot must replace (its own, not the rolling reboot's). */
export const DRIVER_REBOOTING_ANNOTATION = "homelab-infra/driver-rebooting";

/**
 * The same drain for a GPU node's driver change: the recorded package instead of the VM settings;
 * a node that never joined (a first create) has nothing to drain; `create` never drains.
 */
export function driverDrainScript(node: string, pkg: string, mode: "create" | "update"): string {
  return renderScript(
    SCRIPTS,
    `Decides whether ${node} must be drained for its NVIDIA driver ${pkg}, and drains it if so.`,
    [
      ...common(node, DRIVER_REBOOTING_ANNOTATION),
      ["settings_key", DRIVER_ANNOTATION],
      ["fingerprint", pkg],
      ["mode", mode],
      ["drain_timeout", REBOOT_DRAIN_TIMEOUT],
      ["unregistered", "none"],
      ["what", "NVIDIA driver"],
    ],
    ["reboot-drain.sh"],
  );
}

/** After the driver install and its check: waits Ready (a new boot if it rebooted), uncordons, records the package. */
export function driverUncordonScript(node: string, pkg: string): string {
  return renderScript(
    SCRIPTS,
    `Waits for ${node} to be Ready with its NVIDIA driver ${pkg}, uncordons it and records the driver.`,
    [...common(node, DRIVER_REBOOTING_ANNOTATION), ["role", "agent"], ["node_ip", ""], ["record_key", DRIVER_ANNOTATION], ["record_value", pkg]],
    ["reboot-wait.sh"],
  );
}

/**
 * The uncordon step's stdin: the drain's decision, "reboot <boot ID>" when the install rebooted
 * (its last line says so), "drained <boot ID>" when it did not, "none" without a drain.
 */
export function driverDecision(drain: string, install: string): string {
  const [decision, ...rest] = drain.trim().split(/\s+/);
  if (decision !== "reboot") return "none";
  return [install.trim().endsWith("reboot scheduled") ? "reboot" : "drained", ...rest].join(" ");
}

export interface RebootNode {
  readonly name: string;
  readonly role: K3sRole;
  readonly vm: ProxmoxVm;
  /** Where kubectl runs for this node: a server other than the node when there is one. */
  readonly control: ControlServer;
  /** What must be done before the chain may touch the node (it joined, it is Ready, upgraded). */
  readonly after: pulumi.Input<pulumi.Resource>[];
}

export interface RollingRebootArgs {
  /** Servers in chain order: one at a time. */
  readonly servers: readonly RebootNode[];
  /** Agents (GPU agents included): after the last server, `agentBatch` at a time. */
  readonly agents: readonly RebootNode[];
  /** Agents rebooted at once. Default 1. */
  readonly agentBatch?: number;
}

export class RollingReboot extends pulumi.ComponentResource {
  /** Per node, its last step: done once the node runs with its settings and is uncordoned. */
  public readonly done: ReadonlyMap<string, command.remote.Command>;

  constructor(name: string, args: RollingRebootArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const child = { parent: this };
    const done = new Map<string, command.remote.Command>();
    const quiet = { logging: "stderr" as const, addPreviousOutputInEnv: false };

    const chain = (n: RebootNode, previous: pulumi.Resource[]): command.remote.Command => {
      const triggers = [n.vm.instanceKey];
      const fp = n.vm.rebootFingerprint;
      const drain = new command.remote.Command(
        `${n.name}-reboot-drain`,
        {
          connection: n.control.connection,
          create: rebootDrainScript(n.name, fp, "create"),
          update: rebootDrainScript(n.name, fp, "update"),
          triggers,
          ...quiet,
        },
        // After the VM update that left the settings pending, and after the node before it.
        { ...child, dependsOn: [...n.after, ...n.control.ready, ...previous] },
      );
      const reboot = proxmoxReboot(`${n.name}-reboot-vm`, n.vm, drain.stdout, { ...child, dependsOn: [drain] });
      const wait = new command.remote.Command(
        `${n.name}-reboot-wait`,
        {
          // The control server may be the node itself (a single server): wait out its reboot.
          connection: { ...n.control.connection, ...SSH_DIAL },
          create: rebootWaitScript(n.name, n.role, n.vm.ipAddress),
          update: rebootWaitScript(n.name, n.role, n.vm.ipAddress),
          stdin: reboot.stdout,
          triggers,
          ...quiet,
        },
        { ...child, dependsOn: [reboot] },
      );
      done.set(n.name, wait);
      return wait;
    };

    let previous: pulumi.Resource[] = [];
    for (const s of args.servers) previous = [chain(s, previous)];
    const afterServers = previous;
    const batch = Math.max(1, args.agentBatch ?? 1);
    const lanes: command.remote.Command[] = [];
    args.agents.forEach((a, i) => {
      const before = i >= batch ? [lanes[i - batch]] : afterServers;
      lanes.push(chain(a, before));
    });
    this.done = done;
    this.registerOutputs({});
  }
}
