// Stack config: schema and cross-field validation over the fixture files, error format, secrets.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CATALOG } from "../src/apps/catalog";
import { ConfigError } from "../src/config/loader";
import { closeMatch } from "../src/config/messages";
import { SECRET_KEYS } from "../src/config/schema";
import { validateStackConfig } from "../src/config/validate";
import { RecordingMonitor } from "../src/plan/recorder";
import { parseStackFile, placeholderFor, runPlan } from "../src/plan/run";
import { cli, presenceOf, rawOf, ROOT } from "./harness";

const FIXTURES = join(ROOT, "test", "fixtures");

/** Validates a stack file's text the way the program does (config map + which secrets exist). */
function validateText(text: string) {
  const file = parseStackFile(text);
  return validateStackConfig(rawOf(file), { secrets: presenceOf(file) });
}

function expectedErrors(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("# expect: "))
    .map((l) => l.slice("# expect: ".length));
}

describe("invalid fixtures: each is rejected with exactly its header's error, before any resource", () => {
  const files = readdirSync(join(FIXTURES, "invalid"))
    .filter((f) => f.endsWith(".yaml"))
    .sort();
  test("there are at least 20 failure modes", () => assert.ok(files.length >= 20, `${files.length} invalid fixtures`));
  for (const f of files) {
    test(f, async () => {
      const text = readFileSync(join(FIXTURES, "invalid", f), "utf8");
      const expected = expectedErrors(text);
      assert.equal(expected.length, 1, "one failure per fixture, named in a '# expect:' header");
      const monitor = new RecordingMonitor();
      await assert.rejects(
        // parseStackFile throws too (a file that is not a stack file), inside the promise.
        async () => runPlan({ stack: "fixture", stackFile: parseStackFile(text), monitor }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
          assert.deepEqual(e.errors, expected);
          return true;
        },
      );
      assert.equal(monitor.records.length, 0, "no resource may be registered for an invalid config");
    });
  }
});

describe("valid fixtures", () => {
  for (const f of readdirSync(join(FIXTURES, "valid"))
    .filter((x) => x.endsWith(".yaml"))
    .sort()) {
    test(`${f} validates`, () => {
      const r = validateText(readFileSync(join(FIXTURES, "valid", f), "utf8"));
      assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    });
  }
  test("a single server is accepted with a quorum warning", () => {
    const r = validateText(readFileSync(join(FIXTURES, "valid", "single-server.yaml"), "utf8"));
    assert.ok(r.ok);
    assert.deepEqual(r.warnings, ["nodes: a single server has no control-plane redundancy; use 3 servers for HA embedded etcd"]);
  });
  test("defaults are applied in one place", () => {
    const r = validateText(readFileSync(join(FIXTURES, "valid", "single-server.yaml"), "utf8"));
    assert.ok(r.ok);
    assert.equal(r.config.proxmox.insecure, false);
    assert.equal(r.config.proxmox.createConcurrency, 2);
    assert.deepEqual(r.config.proxmox.nodes[0], { name: "pve-a", address: "10.1.0.2", vmDatastore: "local-lvm", imageDatastore: "local", snippetDatastore: "local" });
    assert.equal(r.config.network.bridge, "vmbr0");
    assert.equal(r.config.ssh.user, "ubuntu");
    assert.equal(r.config.certManager.issuer, "staging");
    assert.equal(r.config.cluster.traefik, true);
    assert.deepEqual(r.config.nodes[0].labels, {});
  });
});

describe("every problem is reported at once", () => {
  test("a schema mistake hides no cross-field one: all in one run, in config order", () => {
    const text = readFileSync(join(FIXTURES, "valid", "ha-gpu.yaml"), "utf8")
      .replace("vmid: 202, ip: 10.1.10.12", "vmid: 201, ip: 10.1.10.12")
      .replace("range: 10.1.10.200-10.1.10.210", "range: 10.1.10.10-10.1.10.200")
      .replace("name: k3s-agent,", "name: Agent,");
    const r = validateText(text);
    assert.ok(!r.ok);
    // nodes[3] fails its schema, so it is left out of the cross-field checks (its address is not
    // reported as inside the range); every other node is checked.
    assert.deepEqual(r.errors, [
      `nodes[3].name: "Agent" is invalid; it must be an RFC 1123 hostname (lowercase letters, digits and '-', 1-63 characters, no leading or trailing '-')`,
      "nodes[1].vmid (k3s-b): VMID 201 is also used by nodes[0].vmid (k3s-a); give each VM its own VMID",
      "metallb.range: 10.1.10.10-10.1.10.200 contains 10.1.10.11, the address of nodes[0] (k3s-a); move the range or the VM",
      "metallb.range: 10.1.10.10-10.1.10.200 contains 10.1.10.12, the address of nodes[1] (k3s-b); move the range or the VM",
      "metallb.range: 10.1.10.10-10.1.10.200 contains 10.1.10.13, the address of nodes[2] (k3s-c); move the range or the VM",
      "metallb.range: 10.1.10.10-10.1.10.200 contains 10.1.10.31, the address of nodes[4] (k3s-gpu); move the range or the VM",
    ]);
    const r2 = validateText(text.replace("name: Agent,", "name: k3s-agent,"));
    assert.ok(!r2.ok);
    assert.deepEqual(r2.errors, [
      "nodes[1].vmid (k3s-b): VMID 201 is also used by nodes[0].vmid (k3s-a); give each VM its own VMID",
      "metallb.range: 10.1.10.10-10.1.10.200 contains 10.1.10.11, the address of nodes[0] (k3s-a); move the range or the VM",
      "metallb.range: 10.1.10.10-10.1.10.200 contains 10.1.10.12, the address of nodes[1] (k3s-b); move the range or the VM",
      "metallb.range: 10.1.10.10-10.1.10.200 contains 10.1.10.13, the address of nodes[2] (k3s-c); move the range or the VM",
      "metallb.range: 10.1.10.10-10.1.10.200 contains 10.1.10.21, the address of nodes[3] (k3s-agent); move the range or the VM",
      "metallb.range: 10.1.10.10-10.1.10.200 contains 10.1.10.31, the address of nodes[4] (k3s-gpu); move the range or the VM",
    ]);
  });
  test("schema errors all come together", () => {
    const text = readFileSync(join(FIXTURES, "valid", "ha-gpu.yaml"), "utf8")
      .replace("name: k3s-agent,", "name: Agent,")
      .replace("vlan: 10", "vlan: 5000")
      .replace("  homelab:sshPrivateKey:\n    secure: v1:placeholder\n", "");
    const r = validateText(text);
    assert.ok(!r.ok);
    assert.deepEqual(r.errors, [
      "network.vlan: 5000 is above the maximum of 4094; lower it",
      `nodes[3].name: "Agent" is invalid; it must be an RFC 1123 hostname (lowercase letters, digits and '-', 1-63 characters, no leading or trailing '-')`,
      "sshPrivateKey: is required because VM readiness and k3s run over SSH; run `pulumi config set --secret homelab:sshPrivateKey ...`",
    ]);
  });
});

describe("every phase at once (test/fixtures/several)", () => {
  test("schema, cross-field, model, secret and app-catalog problems come in one run, in that order", async () => {
    const text = readFileSync(join(FIXTURES, "several", "every-phase.yaml"), "utf8");
    const monitor = new RecordingMonitor();
    await assert.rejects(runPlan({ stack: "fixture", stackFile: parseStackFile(text), monitor }), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.deepEqual(e.errors, [
        `images.noble.checksum: expected a string, got a number; YAML reads a value of only digits as a number (a long one loses digits), so quote it: checksum: "..."`,
        "network.gatway: unknown key; remove it (did you mean 'gateway'?)",
        "nodes[3].ip (k3s-agent): address 10.1.10.12 is also used by nodes[1].ip (k3s-b); give each VM its own address",
        "nodes[4].ip (k3s-gpu): 10.1.10.31 is the address of Proxmox node pve-b (proxmox.nodes[1].address); give the VM a free address",
        "versions.metallb: is required because metallb.enabled is true; pin the MetalLB chart version, e.g. 0.15.2",
        "cloudflareApiToken: is required because certManager.enabled is true (DNS-01 on Cloudflare); run `pulumi config set --secret homelab:cloudflareApiToken ...`",
        "versions.fluxOperator: is required because flux.enabled is true; pin the flux-operator chart version, e.g. 0.33.0",
        "versions.flux: is required because flux.enabled is true; pin the Flux version the FluxInstance runs, e.g. 2.7.3",
        `apps.bazarr: unknown app; use one of ${[...CATALOG.keys()].sort().join(", ")}, or describe your own under apps.bazarr.custom`,
      ]);
      return true;
    });
    assert.equal(monitor.records.length, 0);
  });
  test("no key of a valid stack, replaced by a wrong value, crashes validation or hides the others", () => {
    const file = parseStackFile(readFileSync(join(FIXTURES, "valid", "ha-gpu.yaml"), "utf8"));
    const raw = rawOf(file);
    const presence = presenceOf(file);
    for (const key of Object.keys(raw).filter((k) => !(SECRET_KEYS as readonly string[]).includes(k))) {
      for (const wrong of [5, "x", [], { bogus: 1 }, null]) {
        const r = validateStackConfig({ ...raw, [key]: wrong }, { secrets: presence });
        assert.ok(!r.ok, `${key}: ${JSON.stringify(wrong)} accepted`);
        assert.ok(r.errors.length > 0 && r.errors.every((e) => !e.includes("undefined")), `${key}: ${JSON.stringify(wrong)}: ${r.errors.join("\n")}`);
        // Everything else still checked: a duplicate address elsewhere is still found.
        if (key !== "nodes" && key !== "defaults") {
          const nodes = (raw.nodes as Record<string, unknown>[]).map((n, i) => (i === 1 ? { ...n, ip: "10.1.10.11" } : n));
          const r2 = validateStackConfig({ ...raw, nodes, [key]: wrong }, { secrets: presence });
          assert.ok(
            !r2.ok && r2.errors.includes("nodes[1].ip (k3s-b): address 10.1.10.11 is also used by nodes[0].ip (k3s-a); give each VM its own address"),
            `${key}: ${r2.ok ? "" : r2.errors.join("\n")}`,
          );
        }
      }
    }
  });
});

describe("did you mean: only close matches", () => {
  test("at most one edit per four letters (at least one), a swap of neighbours being one, case ignored", () => {
    const cases: [string, string[], string | undefined][] = [
      ["rol", ["name", "role", "host"], "role"],
      ["metalb", ["metallb", "monitoring"], "metallb"],
      ["netwrok", ["network", "nodes"], "network"],
      ["loadbalancerIP", ["loadBalancerIp", "lanAllowlist"], "loadBalancerIp"],
      ["olama", ["ollama", "plex"], "ollama"],
      ["firewall", ["subnet", "gateway", "dns", "searchDomain", "bridge", "vlan"], undefined],
      ["cni", ["apiHostname", "apiVip", "traefik", "clusterCidr", "serviceCidr", "tlsSans", "gpuSmokeTest"], undefined],
      ["lidarr", ["radarr", "sonarr", "plex"], undefined],
    ];
    for (const [word, candidates, expected] of cases) assert.equal(closeMatch(word, candidates), expected, word);
  });
});

describe("secure: values are never quoted", () => {
  // Under `pulumi up` the engine hands the program the decrypted value; here the "decrypted" values
  // are sentinels, and no error may contain them or a fragment of them.
  const SENTINELS = { domain: "sentinel-domain-3f9a.example.com", ip: "10.1.10.77" };
  test("a secure: domain or node address: one message naming the key, the value nowhere", () => {
    const file = parseStackFile(readFileSync(join(FIXTURES, "valid", "ha-gpu.yaml"), "utf8"));
    const raw = rawOf(file);
    const nodes = (raw.nodes as Record<string, unknown>[]).map((n, i) => (i === 3 ? { ...n, ip: SENTINELS.ip } : n));
    // Plus an unrelated mistake whose message would quote nearby values.
    const r = validateStackConfig(
      { ...raw, domain: SENTINELS.domain, nodes, proxmox: { ...(raw.proxmox as object), endpoint: SENTINELS.ip } },
      {
        secrets: presenceOf(file),
        secretValuedKeys: ["domain", "nodes"],
      },
    );
    assert.ok(!r.ok);
    const why = `but only ${SECRET_KEYS.join(", ")} are read as secrets, so it would be deployed and stored in plain text; remove the secure: value`;
    assert.deepEqual(r.errors, [
      `proxmox.endpoint: "10.1.10.77" is invalid; it must be a URL such as https://10.0.10.11:8006/`,
      `domain: holds a secure: value, ${why}`,
      `nodes: holds a secure: value, ${why}`,
    ]);
    for (const e of r.errors.slice(1)) for (const s of Object.values(SENTINELS)) assert.ok(!e.includes(s) && !e.includes(s.slice(0, 8)), e);
  });
});

describe("stack files", () => {
  test("secure: values become placeholders and their keys are secret", () => {
    const f = parseStackFile("config:\n  homelab:proxmoxApiToken:\n    secure: AAAA\n  homelab:domain: a.example.com\n  aws:region: x\n  plainKey: 1\n");
    assert.deepEqual(f.config, {
      "homelab:proxmoxApiToken": placeholderFor("homelab:proxmoxApiToken"),
      "homelab:domain": "a.example.com",
      "aws:region": "x",
      "homelab:plainKey": "1",
    });
    assert.deepEqual(f.secretKeys, ["homelab:proxmoxApiToken"]);
  });
  test("a secure: value nested in a map makes the whole key secret", () => {
    const f = parseStackFile("config:\n  homelab:apps:\n    n8n:\n      values:\n        token:\n          secure: AAAA\n");
    assert.deepEqual(f.secretKeys, ["homelab:apps"]);
    assert.deepEqual(JSON.parse(f.config["homelab:apps"]), { n8n: { values: { token: placeholderFor("homelab:apps") } } });
  });
});

describe("plan CLI on a bad config", () => {
  test("the command exits 1 with every error and no stack trace", () => {
    const file = join(FIXTURES, "invalid", "duplicate-ip.yaml");
    const r = spawnSync(process.execPath, ["--require", join(ROOT, "scripts", "load-ts.cjs"), join(ROOT, "scripts", "plan.ts"), "--config", file], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `test/fixtures/invalid/duplicate-ip.yaml: invalid stack config (1 problem):\n  - nodes[3].ip (k3s-agent): address 10.1.10.12 is also used by nodes[1].ip (k3s-b); give each VM its own address\n`,
    );
  });
  test("a file that is not YAML, or has no config map, is a config error (exit 1), not a crash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "homelab-plan-"));
    const cases: [string, string, string][] = [
      [
        "broken.yaml",
        "config:\n  homelab:domain: [a\n  x: y\n",
        "  - (file): is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 3, column 3; fix the syntax there\n",
      ],
      ["scalar.yaml", "config: 5\n", "  - config: must be a map of keys to values; see docs/config-reference.yaml\n"],
    ];
    for (const [name, text, problem] of cases) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const r = await cli("--config", file);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr, `${file}: invalid stack config (1 problem):\n${problem}`);
    }
  });
  test("usage errors name the flag", async () => {
    const r = await cli("--stack", "lab", "--format", "xml");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^--format must be tree, json or mermaid, not 'xml'/);
  });
});
