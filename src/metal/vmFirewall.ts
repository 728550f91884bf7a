// VmFirewall: the Proxmox firewall of one VM (seed 002): its rules, then its options (enabled,
// input policy). The rules exist before the policy drops anything, so the program's own SSH and the
// cluster's traffic are never cut off. The VM's NIC carries `firewall=1` (ProxmoxVmArgs.firewall).
// Proxmox applies VM rules only while the datacenter firewall is on (Datacenter > Firewall > Options).
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { FirewallRule } from "./firewallRules";

export const TYPE = "homelab:metal:VmFirewall";

export interface VmFirewallArgs {
  readonly nodeName: string;
  readonly vmId: number;
  readonly inputPolicy: "DROP" | "REJECT" | "ACCEPT";
  readonly rules: readonly FirewallRule[];
  /** The VM (its firewall belongs to it). */
  readonly vm: pulumi.Resource;
}

export class VmFirewall extends pulumi.ComponentResource {
  public readonly rules: proxmox.firewall.RulesLegacy;
  public readonly options: proxmox.firewall.OptionsLegacy;

  constructor(name: string, args: VmFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    this.rules = new proxmox.firewall.RulesLegacy(
      `${name}-rules`,
      { nodeName: args.nodeName, vmId: args.vmId, rules: args.rules.map((r) => ({ ...r })) },
      { parent: this, dependsOn: [args.vm] },
    );
    this.options = new proxmox.firewall.OptionsLegacy(
      `${name}-options`,
      {
        nodeName: args.nodeName,
        vmId: args.vmId,
        enabled: true,
        inputPolicy: args.inputPolicy,
        outputPolicy: "ACCEPT",
        // The VM's MAC is the one Proxmox assigned: filtering spoofed MACs costs nothing.
        macfilter: true,
      },
      { parent: this, dependsOn: [this.rules] },
    );
    this.registerOutputs({});
  }
}
