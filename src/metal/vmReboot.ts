// Reboots that apply a VM's pending settings. The VM resource never power-cycles a VM itself
// (rebootAfterUpdate is off): a change of CPU, memory, cloud-init settings or devices stays
// pending in Proxmox until one of these steps reboots the VM through Proxmox.
//   proxmoxReboot   the step on the Proxmox node: `qm reboot` when the step before it says so
//   VmReboot        for a standalone VM: decide on the VM itself (fingerprint), then reboot
// The cluster layer builds its own chain for k3s nodes (drain first, wait Ready after, one server
// at a time) around proxmoxReboot.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { renderScript } from "../lib/shellScript";
import type { ProxmoxVm } from "./proxmoxVm";

export const TYPE = "homelab:metal:VmReboot";

const SCRIPTS = join(__dirname, "scripts");
/** Seconds Proxmox waits for the guest to shut down before the reboot fails (it never kills it). */
export const REBOOT_SHUTDOWN_TIMEOUT = 600;
/** Poll budget for the VM to run again: 60 x 5 s. */
export const REBOOT_WAIT = { tries: 60, seconds: 5 } as const;

/** The script of proxmoxReboot: stdin is "reboot <token>" (reboot) or anything else (nothing). */
export function rebootVmScript(vm: string, vmid: number): string {
  return renderScript(
    SCRIPTS,
    `Reboots ${vm} (VM ${vmid}) through Proxmox when the step before says so, so pending settings apply.`,
    [
      ["vm", vm],
      ["vmid", vmid],
      ["shutdown_timeout", REBOOT_SHUTDOWN_TIMEOUT],
      ["wait_tries", REBOOT_WAIT.tries],
      ["wait_seconds", REBOOT_WAIT.seconds],
    ],
    ["reboot-vm.sh"],
  );
}

/** The decision step of a standalone VM: `create` records the fingerprint, `update` compares it. */
export function rebootCheckScript(vm: string, fingerprint: string, mode: "create" | "update"): string {
  return renderScript(
    SCRIPTS,
    `Decides whether ${vm} must reboot for its settings ${fingerprint}.`,
    [
      ["vm", vm],
      ["fingerprint", fingerprint],
      ["mode", mode],
    ],
    ["reboot-check.sh"],
  );
}

/**
 * The Proxmox-side reboot of `vm`, run over SSH on its Proxmox node. `decision` (its stdin) is the
 * previous step's stdout: a new decision is an input change, so the step runs again exactly when
 * the decision changes, and not on a re-run that decided nothing new.
 */
export function proxmoxReboot(name: string, vm: ProxmoxVm, decision: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): command.remote.Command {
  const script = rebootVmScript(vm.hostname, vm.vmid);
  if (vm.hostConnection === undefined) throw new Error(`${name}: ProxmoxVm ${vm.hostname} has no [proxmoxHost] to run qm reboot on`);
  return new command.remote.Command(
    name,
    {
      connection: vm.hostConnection,
      create: script,
      update: script,
      stdin: decision,
      // A recreated VM starts its chain again.
      triggers: [vm.instanceKey],
      logging: "stderr",
      addPreviousOutputInEnv: false,
    },
    opts,
  );
}

export interface VmRebootArgs {
  /** The standalone VM. */
  readonly vm: ProxmoxVm;
}

/** A standalone VM's reboot: no drain, nothing to wait for but the VM itself. */
export class VmReboot extends pulumi.ComponentResource {
  /** The reboot step (done once the VM runs with its settings). */
  public readonly reboot: command.remote.Command;

  constructor(name: string, args: VmRebootArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    const { vm } = args;
    const child = { parent: this };
    const check = new command.remote.Command(
      `${name}-check`,
      {
        connection: vm.connection,
        create: rebootCheckScript(vm.hostname, vm.rebootFingerprint, "create"),
        update: rebootCheckScript(vm.hostname, vm.rebootFingerprint, "update"),
        triggers: [vm.instanceKey],
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      // After the VM update that left the settings pending.
      { ...child, dependsOn: [vm.ready] },
    );
    this.reboot = proxmoxReboot(`${name}-vm`, vm, check.stdout, { ...child, dependsOn: [check] });
    this.registerOutputs({});
  }
}
