// The lab stack scaled to many VMs, for the benchmark and for the tests that need a big stack
// (the 150-VM pull-request comment).
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";

const ROOT = resolve(__dirname, "..");

/** The lab stack scaled to `vms` VMs: 3 servers, the GPU node, the standalone VM, and agents for the rest. */
export function generatedStackDoc(vms: number): { config: Record<string, any> } {
  const doc = parse(readFileSync(join(ROOT, "Pulumi.lab.yaml"), "utf8")) as { config: Record<string, any> };
  const c = doc.config;
  c["homelab:network"].subnet = "10.0.16.0/20";
  c["homelab:metallb"].range = "10.0.20.200-10.0.20.220";
  const nodes = c["homelab:nodes"] as Record<string, unknown>[];
  const fixed = nodes.filter((n) => n.role !== "agent");
  const agents = vms - fixed.length - (c["homelab:vms"] as unknown[]).length;
  const hosts = (c["homelab:proxmox"].nodes as { name: string }[]).map((n) => n.name);
  for (let i = 0; i < agents; i++) {
    const n = i + 1;
    fixed.push({
      name: `k3s-agent-${String(n).padStart(3, "0")}`,
      role: "agent",
      host: hosts[i % hosts.length],
      vmid: 1000 + n,
      ip: `10.0.${17 + Math.floor(n / 250)}.${(n % 250) + 1}`,
    });
  }
  c["homelab:nodes"] = fixed;
  return doc;
}

/** The same, written to `dir`; returns the file. */
export function generatedStack(vms: number, dir: string): string {
  const file = join(dir, `bench-${vms}.yaml`);
  writeFileSync(file, stringify(generatedStackDoc(vms)));
  return file;
}
