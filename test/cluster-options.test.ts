// Cluster and network options: extra k3s config.yaml keys per role (checked against k3s's own
// flags, the program's own refused), and the warning for LAN clients outside the VM subnet.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { clusterSettings, renderK3sConfig } from "../src/cluster/k3sConfig";
import type { ValidationResult } from "../src/config/validate";
import { stackDoc, validateDoc } from "./harness";

const TOKENS = { token: "server-token-value", agentToken: "agent-token-value" };

function validate(edit: (doc: Record<string, any>) => void, file?: string): ValidationResult {
  const doc = stackDoc(file);
  edit(doc);
  return validateDoc(doc);
}
const errorsOf = (edit: (doc: Record<string, any>) => void) => {
  const r = validate(edit);
  return r.ok ? [] : r.errors;
};

describe("extra k3s settings (cluster.k3s)", () => {
  const extra = {
    server: { "kube-apiserver-arg": ["oidc-issuer-url=https://auth.lab.example.com"], "etcd-snapshot-retention": 10, "disable-network-policy": true },
    agent: { "kubelet-arg": ["max-pods=200"], "protect-kernel-defaults": false },
  };

  test("each role's keys land in its config.yaml beside the program's own", () => {
    const r = validate((d) => (d["homelab:cluster"] = { ...d["homelab:cluster"], k3s: extra }));
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    const cfg = r.config;
    const settings = clusterSettings(cfg);
    assert.deepEqual(settings.extra, extra);
    const server = parse(renderK3sConfig({ name: "k3s-server-02", ip: "10.0.20.12", role: "server", labels: {}, taints: [] }, settings, TOKENS));
    assert.deepEqual(
      {
        api: server["kube-apiserver-arg"],
        retention: server["etcd-snapshot-retention"],
        np: server["disable-network-policy"],
        name: server["node-name"],
        kubelet: server["kubelet-arg"],
      },
      { api: ["oidc-issuer-url=https://auth.lab.example.com"], retention: 10, np: true, name: "k3s-server-02", kubelet: undefined },
    );
    const agent = parse(renderK3sConfig({ name: "k3s-agent-01", ip: "10.0.20.21", role: "agent", labels: {}, taints: [] }, settings, TOKENS));
    assert.deepEqual(agent, {
      "kubelet-arg": ["max-pods=200"],
      "node-ip": "10.0.20.21",
      "node-name": "k3s-agent-01",
      "protect-kernel-defaults": false,
      token: "agent-token-value",
    });
  });

  test("no extra keys: config.yaml is what it was", () => {
    const r = validate(() => {});
    assert.ok(r.ok);
    const settings = clusterSettings(r.config);
    assert.deepEqual(settings.extra, { server: {}, agent: {} });
    const agent = parse(renderK3sConfig({ name: "a", ip: "10.0.20.21", role: "agent", labels: {}, taints: [] }, settings, TOKENS));
    assert.deepEqual(Object.keys(agent).sort(), ["node-ip", "node-name", "token"]);
  });

  test("unknown flags (with a guess), server flags on agents, owned flags, credentials, wrong value kinds", () => {
    assert.deepEqual(
      errorsOf((d) => {
        d["homelab:cluster"] = {
          ...d["homelab:cluster"],
          k3s: {
            server: {
              "kube-apiserver-args": ["x=y"],
              "--etcd-expose-metrics": true,
              "tls-san": ["extra.example.com"],
              disable: ["metrics-server"],
              "etcd-s3-secret-key": "abc",
              "etcd-snapshot-compress": "yes",
              "etcd-snapshot-dir": true,
              "cluster-domain": ["a", "b"],
            },
            agent: { "kube-apiserver-arg": ["x=y"], "node-name": "x", "kubelet-arg": ["a=b"] },
          },
        };
      }),
      [
        "cluster.k3s.server.kube-apiserver-args: k3s server has no flag --kube-apiserver-args (did you mean 'kube-apiserver-arg'?)",
        "cluster.k3s.server.--etcd-expose-metrics: config.yaml keys are flag names without dashes; write etcd-expose-metrics",
        "cluster.k3s.server.tls-san: the program sets --tls-san itself (set from cluster.apiHostname, cluster.apiVip and cluster.tlsSans); remove it",
        "cluster.k3s.server.disable: the program sets --disable itself (set from cluster.traefik and metallb.enabled); remove it",
        "cluster.k3s.server.etcd-s3-secret-key: the program sets --etcd-s3-secret-key itself (a credential would sit in plain stack config; use etcd-s3-config-secret); remove it",
        "cluster.k3s.server.etcd-snapshot-compress: --etcd-snapshot-compress is a switch; set true or false",
        "cluster.k3s.server.etcd-snapshot-dir: --etcd-snapshot-dir takes a value, not true; set its value",
        "cluster.k3s.server.cluster-domain: --cluster-domain takes one value, not a list; set a single value",
        "cluster.k3s.agent.kube-apiserver-arg: k3s agent has no flag --kube-apiserver-arg; it is a server flag, set it under cluster.k3s.server",
        "cluster.k3s.agent.node-name: the program sets --node-name itself (set from nodes[].name); remove it",
      ],
    );
    assert.deepEqual(
      errorsOf((d) => (d["homelab:cluster"] = { k3s: { server: { debug: { a: 1 } } } })),
      ['cluster.k3s.server.debug: {"a":1} is invalid; it must be a string, a number, true/false or a list of strings, as config.yaml takes'],
    );
  });
});

describe("LAN clients outside the VM subnet", () => {
  test("a warning when the Proxmox nodes sit elsewhere and apps are LAN-only by default", () => {
    const r = validate((d) => delete d["homelab:traefik"].lanAllowlist, "stacks/seed-004-overkill.yaml");
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    assert.ok(
      r.warnings.includes(
        "traefik.lanAllowlist: the Proxmox nodes (pve1 192.168.1.2, pve2 192.168.1.3) are outside the VM subnet 192.168.10.0/24, the only network the lan-only middleware allows by default, so clients on their network get 403 from authentik; list the LAN's networks, e.g. lanAllowlist: [192.168.10.0/24, 192.168.1.0/24]",
      ),
      r.warnings.join("\n"),
    );
  });
  test("no warning with an explicit allow-list, with public apps only, or with the nodes inside the subnet", () => {
    const lanWarning = (r: ValidationResult) => r.warnings.filter((w) => w.startsWith("traefik.lanAllowlist:"));
    const noList = (d: Record<string, any>) => delete d["homelab:traefik"].lanAllowlist;
    assert.deepEqual(lanWarning(validate(() => {}, "stacks/seed-004-overkill.yaml")), [], "the seed lists both networks");
    assert.deepEqual(lanWarning(validate((d) => (noList(d), (d["homelab:apps"].authentik.lanOnly = false)), "stacks/seed-004-overkill.yaml")), []);
    assert.deepEqual(lanWarning(validate((d) => (noList(d), (d["homelab:apps"].authentik.host = "")), "stacks/seed-004-overkill.yaml")), []);
    assert.deepEqual(
      lanWarning(validate((d) => (noList(d), d["homelab:proxmox"].nodes.forEach((n: any, i: number) => (n.address = `192.168.10.${2 + i}`))), "stacks/seed-004-overkill.yaml")),
      [],
    );
  });
});
