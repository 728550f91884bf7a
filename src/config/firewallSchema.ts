// The Proxmox firewall of the VMs (`network.firewall`, seed 002: "the Proxmox firewall is enabled
// per NIC"): on, every VM's NIC has `firewall=1`, its firewall is enabled with an input policy, and
// its rules are the cluster's own (src/metal/firewallRules.ts) followed by the stack's simple rules.
import { z } from "zod";
import type { StackConfig } from "./schema";

/** A source address, network or first-last range, as Proxmox's `source` takes it. */
const source = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2}|-\d{1,3}(\.\d{1,3}){3})?$/, "must be an IPv4 address, CIDR or first-last range such as 192.168.0.0/24");
/** Ports as Proxmox's `dport` takes them: numbers and ranges (a:b), comma separated. */
const ports = z.string().regex(/^\d{1,5}(:\d{1,5})?(,\d{1,5}(:\d{1,5})?)*$/, "must be ports such as 22, 8000:8100 or 80,443");

export const firewallRuleSchema = z.strictObject({
  action: z.enum(["ACCEPT", "DROP", "REJECT"]),
  /** tcp, udp or icmp; omit for every protocol. */
  proto: z.enum(["tcp", "udp", "icmp"]).optional(),
  /** Destination ports (tcp and udp only). */
  dport: ports.optional(),
  /** Where the packets come from; omit for anywhere. */
  source: z.array(source).min(1, "list at least one source, or leave source out for anywhere").optional(),
  comment: z
    .string()
    .regex(/^[^\n]{1,100}$/, "must be one line of at most 100 characters")
    .optional(),
});

export const vmFirewallSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** What happens to inbound packets no rule accepts. Default DROP. */
  inputPolicy: z.enum(["DROP", "REJECT", "ACCEPT"]).default("DROP"),
  /** Networks allowed to SSH (22) and the Kubernetes API (6443); default anywhere. */
  adminSources: z.array(source).default([]),
  /** Inbound rules after the cluster's own, in order. */
  rules: z.array(firewallRuleSchema).default([]),
});

export type VmFirewallConfig = z.output<typeof vmFirewallSchema>;

/** Checks of the stack's firewall rules beyond their schema. */
export function firewallChecks(cfg: Pick<StackConfig, "network">): string[] {
  const errors: string[] = [];
  cfg.network.firewall.rules.forEach((r, i) => {
    if (r.dport !== undefined && r.proto !== "tcp" && r.proto !== "udp") {
      errors.push(`network.firewall.rules[${i}].dport: ports need proto tcp or udp; set proto`);
    }
  });
  const fw = cfg.network.firewall;
  if (!fw.enabled && (fw.rules.length > 0 || fw.adminSources.length > 0)) {
    errors.push(`network.firewall: has rules but enabled is false, so none applies; set network.firewall.enabled: true or remove the rules`);
  }
  return errors;
}
