// The Proxmox firewall per VM NIC (network.firewall): the NIC flag, each VM's rules (the cluster's
// own, then the stack's) and options, created rules first; nothing at all while it is off.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../src/config/loader";
import { planConfig, stackDoc, type Graph } from "./harness";

const FIXTURE = "test/fixtures/valid/longhorn-standalone.yaml";
const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const RULES = "proxmoxve:firewall/rulesLegacy:RulesLegacy";
const OPTIONS = "proxmoxve:firewall/optionsLegacy:OptionsLegacy";

function withFirewall(): Record<string, any> {
  const doc = stackDoc(FIXTURE);
  doc["homelab:network"].firewall = {
    enabled: true,
    adminSources: ["10.1.0.0/24", "10.9.9.9"],
    rules: [
      { action: "ACCEPT", proto: "udp", dport: "53", comment: "DNS for the LAN" },
      { action: "DROP", source: ["10.1.66.0/24"] },
    ],
  };
  return doc;
}

let on: Graph | undefined;
const planOn = async () => (on ??= await planConfig(withFirewall()));

const BASE = [
  { type: "in", action: "ACCEPT", source: "10.1.10.0/24", comment: "the VM subnet: k3s, etcd, flannel, kubelet, NFS replies" },
  { type: "in", action: "ACCEPT", proto: "tcp", dport: "22", source: "10.1.0.0/24,10.9.9.9", comment: "SSH: the program's steps and operators" },
  { type: "in", action: "ACCEPT", proto: "icmp", comment: "ping and path MTU discovery" },
];
const CLUSTER = [
  { type: "in", action: "ACCEPT", proto: "tcp", dport: "6443", source: "10.1.0.0/24,10.9.9.9", comment: "the Kubernetes API" },
  { type: "in", action: "ACCEPT", proto: "tcp", dport: "80,443", comment: "Traefik on the node's address" },
  { type: "in", action: "ACCEPT", dest: "10.1.10.200-10.1.10.210", comment: "LoadBalancer addresses (MetalLB)" },
];
const STACK = [
  { type: "in", action: "ACCEPT", proto: "udp", dport: "53", comment: "DNS for the LAN" },
  { type: "in", action: "DROP", source: "10.1.66.0/24", comment: "network.firewall.rules[1]" },
];

describe("the Proxmox firewall per VM NIC", () => {
  test("every VM's NIC has firewall on; each VM gets its rules and options, rules first, after the VM", async () => {
    const g = await planOn();
    const vms = g.ofType(VM);
    assert.equal(vms.length, 7);
    for (const vm of vms) assert.equal((vm.inputs as any).networkDevices[0].firewall, true, vm.name);
    for (const name of ["k3s-a", "k3s-agent", "k3s-gpu", "vault"]) {
      assert.equal(g.get(`${name}-firewall`).type, "homelab:metal:VmFirewall");
      const rules = g.get(`${name}-firewall-rules`, RULES);
      const options = g.get(`${name}-firewall-options`, OPTIONS);
      assert.ok(rules.dependencies.includes(g.get(`${name}-vm`, VM).urn), "the rules wait for the VM");
      const vmUrn = g.get(`${name}-vm`, VM).urn;
      assert.deepEqual(options.dependencies, [vmUrn, rules.urn], "the policy comes after the rules (and the VM: replaceWith is a dependency too)");
      // Replaced with their VM, the old ones first (src/metal/vmFirewall.ts: bpg firewall/rules.go:379-470).
      for (const r of [rules, options]) assert.deepEqual([r.replaceWith, r.deleteBeforeReplace], [[vmUrn], true], r.name);
      assert.equal(rules.parent, g.get(`${name}-firewall`).urn);
      assert.deepEqual(options.inputs, {
        nodeName: name === "vault" || name === "k3s-agent" ? "pve-b" : "pve-a",
        vmId: (g.get(`${name}-vm`, VM).inputs as any).vmId,
        enabled: true,
        inputPolicy: "DROP",
        outputPolicy: "ACCEPT",
        macfilter: true,
      });
    }
    assert.deepEqual(g.get("k3s-a-firewall-rules", RULES).inputs, { nodeName: "pve-a", vmId: 201, rules: [...BASE, ...CLUSTER, ...STACK] });
    assert.deepEqual((g.get("k3s-gpu-firewall-rules", RULES).inputs as any).rules, [...BASE, ...CLUSTER, ...STACK]);
    assert.deepEqual(g.get("vault-firewall-rules", RULES).inputs, { nodeName: "pve-b", vmId: 301, rules: [...BASE, ...STACK] }, "a standalone VM: no cluster ports");
  });

  test("off (the default): no firewall field on the NIC, no firewall resources", async () => {
    const g = await planConfig(stackDoc(FIXTURE));
    for (const vm of g.ofType(VM)) assert.equal("firewall" in (vm.inputs as any).networkDevices[0], false, vm.name);
    assert.deepEqual([...g.ofType(RULES), ...g.ofType(OPTIONS)], []);
  });

  test("checks: ports need tcp or udp; rules without enabled; the rule schema", async () => {
    const errorsOf = async (fw: unknown) => {
      const doc = stackDoc(FIXTURE);
      doc["homelab:network"].firewall = fw;
      try {
        await planConfig(doc);
      } catch (e) {
        if (e instanceof ConfigError) return e.errors;
        throw e;
      }
      return [];
    };
    assert.deepEqual(
      await errorsOf({
        enabled: true,
        rules: [
          { action: "ACCEPT", dport: "8080" },
          { action: "ACCEPT", proto: "icmp", dport: "1" },
        ],
      }),
      ["network.firewall.rules[0].dport: ports need proto tcp or udp; set proto", "network.firewall.rules[1].dport: ports need proto tcp or udp; set proto"],
    );
    assert.deepEqual(await errorsOf({ rules: [{ action: "ACCEPT", proto: "tcp", dport: "8080" }] }), [
      "network.firewall: has rules but enabled is false, so none applies; set network.firewall.enabled: true or remove the rules",
    ]);
    assert.deepEqual(await errorsOf({ enabled: true, inputPolicy: "drop", rules: [{ action: "ALLOW", dport: "80-90", source: ["lan"] }] }), [
      'network.firewall.inputPolicy: "drop" is not allowed; use one of "DROP", "REJECT", "ACCEPT"',
      'network.firewall.rules[0].action: "ALLOW" is not allowed; use one of "ACCEPT", "DROP", "REJECT"',
      'network.firewall.rules[0].dport: "80-90" is invalid; it must be ports such as 22, 8000:8100 or 80,443',
      'network.firewall.rules[0].source[0]: "lan" is invalid; it must be an IPv4 address, CIDR or first-last range such as 192.168.0.0/24',
    ]);
  });
});
