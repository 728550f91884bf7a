// npm run bench: whole-process time and peak memory of `plan` for the home and lab stacks and for
// generated stacks of 30 and 150 VMs. Prints a table; the time of loading the Pulumi SDK alone is
// measured too, since the figure to keep small is the rest. Runs go round-robin over the cases and
// each case keeps its fastest run, so a busy machine skews every case alike and as little as it can.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";

const ROOT = resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Sample {
  seconds: number;
  maxRssMb: number;
  resources: number;
}

function run(args: string[], env: Record<string, string> = {}): Sample {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed:\n${r.stderr}`);
  const stats = /plan-stats (\{.*\})/.exec(r.stderr);
  const parsed = stats ? (JSON.parse(stats[1]) as { resources: number; maxRssKb: number }) : { resources: 0, maxRssKb: 0 };
  return { seconds, maxRssMb: parsed.maxRssKb / 1024, resources: parsed.resources };
}

interface Case {
  readonly name: string;
  readonly args: string[];
  readonly env: Record<string, string>;
}

/** Every case RUNS times, round-robin: the fastest time and the highest peak memory of each. */
function measureAll(cases: readonly Case[]): Sample[] {
  const samples: Sample[][] = cases.map(() => []);
  for (let i = 0; i < RUNS; i++) cases.forEach((c, j) => samples[j].push(run(c.args, c.env)));
  return samples.map((xs) => ({
    seconds: Math.min(...xs.map((x) => x.seconds)),
    maxRssMb: Math.max(...xs.map((x) => x.maxRssMb)),
    resources: xs[0].resources,
  }));
}

/** VMs a stack file declares (cluster nodes and standalone VMs). */
function vmCount(file: string): number {
  const c = (parse(readFileSync(file, "utf8")) as { config: Record<string, unknown[] | undefined> }).config;
  return (c["homelab:nodes"] ?? []).length + (c["homelab:vms"] ?? []).length;
}

/** The lab stack scaled to `vms` VMs: 3 servers, the GPU node, the standalone VM, and agents for the rest. */
function generatedStack(vms: number, dir: string): string {
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
    fixed.push({ name: `k3s-agent-${String(n).padStart(3, "0")}`, role: "agent", host: hosts[i % hosts.length], vmid: 1000 + n, ip: `10.0.${17 + Math.floor(n / 250)}.${(n % 250) + 1}` });
  }
  c["homelab:nodes"] = fixed;
  const file = join(dir, `bench-${vms}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), "homelab-bench-"));
  const stats = { HOMELAB_PLAN_STATS: "1" };
  const files: [string, string][] = [
    ["home", join(ROOT, "Pulumi.home.yaml")],
    ["lab", join(ROOT, "Pulumi.lab.yaml")],
    ["generated-30", generatedStack(30, dir)],
    ["generated-150", generatedStack(150, dir)],
  ];
  const cases: Case[] = [
    { name: "sdk", args: ["-e", "require('@pulumi/pulumi'); require('@pulumi/kubernetes'); require('@muhlba91/pulumi-proxmoxve'); require('@pulumi/command')"], env: {} },
    ...files.map(([name, file]) => ({ name, args: ["scripts/plan.ts", "--config", file], env: stats })),
  ];
  const [sdkOnly, ...samples] = measureAll(cases);
  const rows = files.map(([name, file], i) => ({ name, vms: vmCount(file), ...samples[i] }));

  const line = (cols: (string | number)[]) => `| ${cols.join(" | ")} |`;
  console.log(`plan benchmark: fastest of ${RUNS} runs each; SDK and providers alone load in ${sdkOnly.seconds.toFixed(2)} s\n`);
  console.log(line(["stack", "VMs", "resources", "time (s)", "beyond SDK load (s)", "ms per resource", "peak RSS (MB)"]));
  console.log(line(["---", "---:", "---:", "---:", "---:", "---:", "---:"]));
  for (const r of rows) {
    const beyond = Math.max(r.seconds - sdkOnly.seconds, 0);
    console.log(line([r.name, r.vms, r.resources, r.seconds.toFixed(2), beyond.toFixed(2), ((beyond * 1000) / r.resources).toFixed(1), r.maxRssMb.toFixed(0)]));
  }
  const home = rows[0];
  const big = rows[rows.length - 1];
  const ratio = big.seconds / home.seconds;
  console.log(`\ntarget: 150 VMs under 3x the home stack's time: ${ratio.toFixed(2)}x (${ratio < 3 ? "met" : "NOT met"})`);
  console.log(`target: 150 VMs under 500 MB: ${big.maxRssMb.toFixed(0)} MB (${big.maxRssMb < 500 ? "met" : "NOT met"})`);
}

main();
