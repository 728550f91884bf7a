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

/**
 * The rules and options are replaced with their VM, the old ones deleted first. Proxmox drops a
 * destroyed VM's firewall config, and neither resource would follow on its own: `node_name` and
 * `vm_id` are not ForceNew, so they would update, and the rules' update repositions rules it reads
 * back from the new VM's empty list and fails ("could not find rule with signature ... during
 * repositioning", bpg d6bd1ffe proxmoxtf/resource/firewall/rules.go:379-470, RulesUpdate); the
 * options (after the rules) would never run: the new VM would have no firewall.
 *
 * `replaceWith` puts them on the new VM (engine v3.248.0 step_generator.go:2705, `diff`: a resource
 * whose ReplaceWith target is replaced is replaced; :1953, a delete-first target deletes them
 * before itself, `findResourcesReplacedWith`, which reads them from the old state). Delete-first: a
 * create-first replacement on the same VMID would create the new rules, then the old resource's
 * delete would remove them, position by position (RulesDelete, rules.go:575-600, skips only a
 * position the VM does not have). The options' delete calls no API (options.go:306). A state
 * written before this option has no ReplaceWith: the offline diff blocks a VM replacement onto a
 * new VMID or node until one run has recorded it (src/plan/diffProxmox.ts, firewallAdoption).
 */
const WITH_THE_VM = (vm: pulumi.Resource) => ({ replaceWith: [vm], deleteBeforeReplace: true });

export class VmFirewall extends pulumi.ComponentResource {
  public readonly rules: proxmox.firewall.RulesLegacy;
  public readonly options: proxmox.firewall.OptionsLegacy;

  constructor(name: string, args: VmFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPE, name, {}, opts);
    this.rules = new proxmox.firewall.RulesLegacy(
      `${name}-rules`,
      { nodeName: args.nodeName, vmId: args.vmId, rules: args.rules.map((r) => ({ ...r })) },
      { parent: this, dependsOn: [args.vm], ...WITH_THE_VM(args.vm) },
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
      { parent: this, dependsOn: [this.rules], ...WITH_THE_VM(args.vm) },
    );
    this.registerOutputs({});
  }
}
