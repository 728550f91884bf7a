// FluxBootstrap: the rendered FluxInstance and Git credentials (pure), and the component's graph on
// a stand-in cluster: children, ordering, secrets, the deploy key output, SOPS, HTTPS tokens.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { ConfigError } from "../src/config/loader";
import { FLUX_COMPONENTS, fluxChecks, GITHUB_KNOWN_HOSTS, knownHostsFor, parseGitUrl, renderFluxInstance, sopsDecryptionPatch, syncPath } from "../src/platform/fluxRender";
import { checkFluxVersion, compareVersions, embeddedFluxVersions } from "../src/platform/fluxVersions";
import { CLUSTER_READY, planApps } from "./apps-harness";
import { stackDoc, type Graph } from "./harness";

const SSH_URL = "ssh://git@github.com/example/homelab-gitops.git";

/** The lab stack with Flux only (no apps), optionally edited. */
function fluxConfig(edit: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c = stackDoc();
  c["homelab:apps"] = {};
  edit(c);
  return c;
}

describe("GitHub's host keys", () => {
  // Published at docs.github.com, "GitHub's SSH key fingerprints".
  const published: Record<string, string> = {
    "ssh-ed25519": "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
    "ecdsa-sha2-nistp256": "SHA256:p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM",
    "ssh-rsa": "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
  };
  test("match the published SHA256 fingerprints, one line per key type", () => {
    assert.equal(GITHUB_KNOWN_HOSTS.length, 3);
    for (const line of GITHUB_KNOWN_HOSTS) {
      const [host, type, blob] = line.split(" ");
      assert.equal(host, "github.com");
      const fp = `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
      assert.equal(fp, published[type], type);
    }
  });
});

describe("Git URLs and known_hosts", () => {
  test("parseGitUrl", () => {
    assert.deepEqual(parseGitUrl(SSH_URL), { scheme: "ssh", host: "github.com", port: undefined });
    assert.deepEqual(parseGitUrl("ssh://git@git.example.com:2222/infra/homelab.git"), { scheme: "ssh", host: "git.example.com", port: 2222 });
    assert.deepEqual(parseGitUrl("https://gitlab.com/example/homelab.git"), { scheme: "https", host: "gitlab.com", port: undefined });
    assert.throws(() => parseGitUrl("git@github.com:example/homelab.git"), /flux\.url: "git@github\.com:example\/homelab\.git" is not an ssh:\/\/ or https:\/\/ Git URL/);
  });
  test("knownHostsFor: GitHub's keys for github.com, configured lines win, nothing for other hosts", () => {
    assert.equal(knownHostsFor(SSH_URL, undefined), `${GITHUB_KNOWN_HOSTS.join("\n")}\n`);
    assert.equal(knownHostsFor("ssh://git@github.com:443/x/y.git", undefined), undefined, "not port 22: not GitHub's published SSH endpoint");
    const own = ["git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnKeyOwnKeyOwnKeyOwnKeyOwnKeyOwnKey00"];
    assert.equal(knownHostsFor("ssh://git@git.example.com/x/y.git", own), `${own[0]}\n`);
    assert.equal(knownHostsFor("ssh://git@git.example.com/x/y.git", undefined), undefined);
  });
  test("syncPath defaults to clusters/<stack>", () => {
    assert.equal(syncPath(undefined, "lab"), "clusters/lab");
    assert.equal(syncPath("kubernetes/clusters/homelab", "lab"), "kubernetes/clusters/homelab");
  });
});

describe("renderFluxInstance", () => {
  test("pins the version and registry and syncs the branch and path with the pull secret", () => {
    assert.deepEqual(renderFluxInstance({ fluxVersion: "2.7.3", url: SSH_URL, branch: "main", path: "clusters/lab", interval: "10m", pullSecret: "flux-system", sops: false }), {
      apiVersion: "fluxcd.controlplane.io/v1",
      kind: "FluxInstance",
      metadata: { name: "flux", namespace: "flux-system" },
      spec: {
        distribution: { version: "2.7.3", registry: "ghcr.io/fluxcd" },
        components: ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"],
        cluster: { type: "kubernetes", networkPolicy: true, domain: "cluster.local" },
        wait: false,
        sync: { kind: "GitRepository", url: SSH_URL, ref: "refs/heads/main", path: "clusters/lab", interval: "10m", pullSecret: "flux-system" },
      },
    });
  });
  test("with SOPS, patches the sync Kustomization to decrypt with the sops-age Secret", () => {
    const fi = renderFluxInstance({ fluxVersion: "2.7.3", url: SSH_URL, branch: "prod", path: "p", interval: "5m", pullSecret: "flux-system", sops: true });
    assert.deepEqual(fi.spec.kustomize, { patches: [{ patch: sopsDecryptionPatch(), target: { kind: "Kustomization" } }] });
    assert.equal(sopsDecryptionPatch(), "- op: add\n  path: /spec/decryption\n  value:\n    provider: sops\n    secretRef:\n      name: sops-age\n");
    assert.equal(fi.spec.sync.ref, "refs/heads/prod");
  });
  test("components are the ones the apps layer needs", () => {
    assert.ok(FLUX_COMPONENTS.includes("helm-controller") && FLUX_COMPONENTS.includes("source-controller"));
  });
});

describe("fluxChecks", () => {
  const base = () => {
    const c = fluxConfig();
    return c;
  };
  test("an ssh host other than github.com needs known_hosts", async () => {
    const c = base();
    c["homelab:flux"].url = "ssh://git@git.example.com:2222/infra/homelab.git";
    await assert.rejects(planApps(c), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.errors, [
        "flux.knownHosts: is required because flux.url points at git.example.com:2222, whose SSH host keys are not built in; set it to the output of `ssh-keyscan -p 2222 git.example.com` after checking the fingerprints",
      ]);
      return true;
    });
  });
  test("known_hosts with an https URL is an error; nothing is checked when Flux is off", () => {
    const cfg = { flux: { enabled: true, url: "https://gitlab.com/x/y.git", branch: "main", interval: "10m", knownHosts: ["a ssh-ed25519 AAAA"] }, versions: {} } as any;
    assert.deepEqual(fluxChecks(cfg), ["flux.knownHosts: is only used with an ssh:// flux.url; remove it"]);
    assert.deepEqual(fluxChecks({ flux: { ...cfg.flux, enabled: false } } as any), []);
  });
});

describe("versions.flux against what the pinned flux-operator ships (its embedded config/data/flux)", () => {
  test("the table: each Flux version from the first operator release that embeds it; 2.8.4 never was", () => {
    assert.deepEqual(embeddedFluxVersions("0.33.0").slice(-3), ["2.7.1", "2.7.2", "2.7.3"]);
    assert.deepEqual(embeddedFluxVersions("0.34.0").slice(-1), ["2.7.4"]);
    assert.equal(embeddedFluxVersions("0.58.1").includes("2.8.4"), false);
    assert.deepEqual(embeddedFluxVersions("v0.1.0"), ["2.2.3", "2.3.0"]);
    // Versions only grow with the operator (no release ever removed one).
    let last = 0;
    for (const op of ["0.1.0", "0.24.0", "0.33.0", "0.42.0", "0.58.1"]) {
      const n = embeddedFluxVersions(op).length;
      assert.ok(n >= last, op);
      last = n;
    }
    assert.ok(compareVersions("0.10.0", "0.9.0") > 0 && compareVersions("v2.7.3", "2.7.3") === 0);
  });

  test("the pinned pair of every stack is one the operator ships", () => {
    assert.deepEqual(checkFluxVersion("0.33.0", "2.7.3"), { errors: [], warnings: [] });
  });

  test("a Flux the operator does not ship yet, one no operator ships, an operator newer than the table", () => {
    assert.deepEqual(checkFluxVersion("0.33.0", "2.7.4").errors, [
      "versions.flux: flux-operator 0.33.0 cannot install Flux 2.7.4 (the newest Flux it ships is 2.7.3); pin versions.fluxOperator 0.34.0 or newer (the first release that ships 2.7.4), or versions.flux 2.7.3",
    ]);
    assert.deepEqual(checkFluxVersion("0.50.0", "2.8.4").errors, [
      "versions.flux: flux-operator 0.50.0 cannot install Flux 2.8.4 (the newest Flux it ships is 2.8.8; 2.8.4 is in no operator release); pin a Flux version it ships, such as 2.8.8",
    ]);
    assert.deepEqual(checkFluxVersion("0.60.0", "2.10.0"), {
      errors: [],
      warnings: [
        "versions.flux: cannot check 2.10.0 against flux-operator 0.60.0, which is newer than the releases this program knows (up to 0.58.1); make sure the operator ships Flux 2.10.0 (its config/data/flux directory)",
      ],
    });
  });

  test("end to end: bumping versions.flux alone is refused before anything is registered", async () => {
    const c = fluxConfig();
    c["homelab:versions"] = { ...c["homelab:versions"], flux: "2.7.4" };
    await assert.rejects(planApps(c), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.errors, [
        "versions.flux: flux-operator 0.33.0 cannot install Flux 2.7.4 (the newest Flux it ships is 2.7.3); pin versions.fluxOperator 0.34.0 or newer (the first release that ships 2.7.4), or versions.flux 2.7.3",
      ]);
      return true;
    });
  });
});

let labGraph: Graph | undefined;
/** The lab stack's Flux, planned once (plans run one at a time: the Pulumi runtime is global). */
async function lab(): Promise<Graph> {
  labGraph ??= (await planApps(fluxConfig(), "lab")).graph;
  return labGraph;
}

describe("FluxBootstrap on the lab stack (ssh deploy key)", () => {
  test("has exactly its children, all through the cluster's provider", async () => {
    const g = await lab();
    const children = g.children("flux").map((r) => `${r.type} ${r.name}`);
    assert.deepEqual(children.sort(), [
      "kubernetes:core/v1:Namespace flux-namespace",
      "kubernetes:core/v1:Secret flux-git-auth",
      "kubernetes:fluxcd.controlplane.io/v1:FluxInstance flux-instance",
      "kubernetes:helm.sh/v3:Release flux-operator",
      "tls:index/privateKey:PrivateKey flux-deploy-key",
    ]);
    assert.equal(g.get("flux").type, "homelab:platform:FluxBootstrap");
    for (const r of g.children("flux").filter((r) => r.type.startsWith("kubernetes:"))) {
      assert.match(r.provider, /::k8s::/, `${r.name} uses the cluster's provider`);
      assert.equal(r.protect, false, `${r.name}: nothing keeps a rebuilt cluster from being bootstrapped again`);
      assert.deepEqual(r.ignoreChanges, [], r.name);
    }
  });

  test("installs the operator chart from its OCI registry, pinned, atomic", async () => {
    const g = await lab();
    const rel = g.get("flux-operator").inputs;
    assert.equal(rel.chart, "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator");
    assert.equal(rel.version, "0.33.0");
    assert.equal(rel.namespace, "flux-system");
    assert.equal(rel.name, "flux-operator");
    assert.equal(rel.atomic, true);
    assert.equal(rel.cleanupOnFail, true);
    assert.equal(rel.createNamespace, false);
    assert.equal(rel.repositoryOpts, undefined);
    assert.deepEqual(g.depNames("flux-operator"), ["flux-namespace"]);
    assert.deepEqual(g.depNames("flux-namespace"), [CLUSTER_READY]);
  });

  test("the FluxInstance depends on the operator release and the Git credentials, and waits for Ready", async () => {
    const g = await lab();
    assert.deepEqual(g.depNames("flux-instance"), ["flux-git-auth", "flux-operator"]);
    const fi = g.get("flux-instance").inputs as any;
    assert.deepEqual(fi, {
      ...renderFluxInstance({
        fluxVersion: "2.7.3",
        url: SSH_URL,
        branch: "main",
        path: "clusters/lab",
        interval: "10m",
        pullSecret: "flux-system",
        sops: false,
        annotations: { "pulumi.com/waitFor": "condition=Ready" },
      }),
    });
    assert.deepEqual(g.get("flux-instance").secretPaths, []);
  });

  test("the deploy key is ED25519; its private half only in the Secret, as a secret", async () => {
    const g = await lab();
    assert.deepEqual(g.get("flux-deploy-key").inputs, { algorithm: "ED25519" });
    const secret = g.get("flux-git-auth");
    assert.deepEqual(secret.inputs.metadata, { name: "flux-system", namespace: "flux-system" });
    assert.deepEqual(secret.secretPaths, ["stringData"]);
    assert.equal(secret.inputs.stringData, "[secret]");
    const data = secret.rawInputs.stringData as Record<string, string>;
    assert.deepEqual(Object.keys(data).sort(), ["identity", "identity.pub", "known_hosts"]);
    assert.match(data.identity, /^-----BEGIN OPENSSH PRIVATE KEY-----/);
    assert.equal(data.known_hosts, `${GITHUB_KNOWN_HOSTS.join("\n")}\n`);
    assert.equal(data["identity.pub"], g.result.rawOutputs.fluxDeployKey);
  });

  test("the public key is a plain stack output; no private key in any output", async () => {
    const g = await lab();
    assert.match(String(g.result.outputs.fluxDeployKey), /^ssh-ed25519 AAAA/);
    assert.doesNotMatch(JSON.stringify(g.result.rawOutputs), /PRIVATE KEY/);
  });
});

describe("FluxBootstrap variants", () => {
  test("https: a username/password Secret from the fluxGitToken secret, no deploy key", async () => {
    const { graph: g } = await planApps(
      fluxConfig((c) => {
        c["homelab:flux"].url = "https://gitlab.com/example/homelab.git";
        c["homelab:fluxGitToken"] = { secure: "v1:token" };
      }),
    );
    assert.equal(g.has("flux-deploy-key"), false);
    assert.equal(g.result.outputs.fluxDeployKey, undefined);
    const secret = g.get("flux-git-auth");
    assert.equal(secret.inputs.stringData, "[secret]");
    assert.deepEqual(secret.rawInputs.stringData, { username: "git", password: "plan-placeholder-homelab-fluxGitToken" });
    assert.equal((g.get("flux-instance").inputs as any).spec.sync.url, "https://gitlab.com/example/homelab.git");
  });

  test("SOPS: the sops-age Secret (secret), the decryption patch, and the instance waits for it", async () => {
    const { graph: g } = await planApps(
      fluxConfig((c) => {
        c["homelab:sopsAgeKey"] = { secure: "v1:age" };
        c["homelab:flux"].path = "kubernetes/clusters/homelab";
        c["homelab:flux"].branch = "prod";
      }),
    );
    const sops = g.get("flux-sops-age");
    assert.deepEqual(sops.inputs.metadata, { name: "sops-age", namespace: "flux-system" });
    assert.equal(sops.inputs.stringData, "[secret]");
    assert.deepEqual(sops.rawInputs.stringData, { "age.agekey": "plan-placeholder-homelab-sopsAgeKey" });
    assert.deepEqual(g.depNames("flux-instance"), ["flux-git-auth", "flux-operator", "flux-sops-age"]);
    const spec = (g.get("flux-instance").inputs as any).spec;
    assert.deepEqual(spec.kustomize, { patches: [{ patch: sopsDecryptionPatch(), target: { kind: "Kustomization" } }] });
    assert.equal(spec.sync.path, "kubernetes/clusters/homelab");
    assert.equal(spec.sync.ref, "refs/heads/prod");
  });

  test("flux.enabled false: nothing of Flux", async () => {
    const { graph: g } = await planApps(fluxConfig((c) => (c["homelab:flux"] = { enabled: false })));
    assert.equal(g.resources.filter((r) => r.name.startsWith("flux")).length, 0);
    assert.equal(g.result.outputs.fluxDeployKey, undefined);
  });
});
