// The import ID each provider expects, per resource type, from the resource's planned inputs. Pure.
// Every format is read from the provider at the version package.json pins (the "## Import" section
// its SDK ships, generated from the provider's own docs) and, where the SDK says nothing or is
// ambiguous, from the provider's source at the nearest tag; each rule cites both.
import type { PlanJsonResource } from "../plan/format";

/** An ID the user must write into the import file: the value only the running lab knows. */
export interface Fill {
  /** The marker written in the file in place of the value (`fill:<what>`), unique per resource. */
  readonly marker: string;
  /** Where the value comes from on the running lab. */
  readonly from: string;
}

export type ImportDecision =
  | { readonly kind: "import"; readonly id: string; readonly source: string; readonly note?: string }
  | { readonly kind: "fill"; readonly fill: Fill; readonly source: string; readonly note?: string }
  | { readonly kind: "cannot"; readonly why: string; readonly safe: string; readonly source: string };

/** The marker of a value the user fills in; `npm run adopt` refuses nothing, `pulumi import` would fail on it. */
export const fillMarker = (what: string): string => `fill:${what}`;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" && !v.startsWith("[") ? v : undefined);

/** Values chosen at adoption time, not read from the lab (injected so tests are deterministic). */
export interface AdoptChoices {
  /** The import time (RFC 3339, UTC, whole seconds): time.Rotating's base. */
  readonly now: string;
  /** 8 random bytes for the new cluster identity, base64url without padding. */
  readonly clusterIdB64Url: string;
}

const PROXMOX = "@muhlba91/pulumi-proxmoxve 8.6.0";

/** Proxmox VE (bpg/terraform-provider-proxmox through @muhlba91/pulumi-proxmoxve 8.6.0). */
function proxmox(r: PlanJsonResource): ImportDecision | undefined {
  // Planned inputs: parsed plan JSON, shaped by the provider's schema, read field by field.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const i = r.inputs as Record<string, any>;
  switch (r.type) {
    case "proxmoxve:index/vmLegacy:VmLegacy":
      // "Instances can be imported using the `nodeName` and the `vmId`, e.g. first-node/4321".
      return { kind: "import", id: `${i.nodeName}/${i.vmId}`, source: `${PROXMOX} vmLegacy.d.ts "## Import": <nodeName>/<vmId>` };
    case "proxmoxve:download/file:File":
      // "node_name/datastore_id:content_type/file_name, e.g. pve/local:iso/ubuntu-24.04-server.iso".
      return {
        kind: "import",
        id: `${i.nodeName}/${i.datastoreId}:${i.contentType}/${i.fileName}`,
        source: `${PROXMOX} download/file.d.ts "## Import": <node>/<datastore>:<content type>/<file name>`,
        note: `the image must already be on ${i.nodeName} under this name (pvesm list ${i.datastoreId} --content ${i.contentType}); if it is not, delete this entry and the first up downloads it beside the others`,
      };
    case "proxmoxve:index/fileLegacy:FileLegacy": {
      // "using the nodeName, datastoreId, contentType and the fileName: pve/local:snippets/example.cloud-config.yaml".
      const file = str(i.sourceRaw?.fileName) ?? str(i.sourceFile?.fileName);
      if (file === undefined) return undefined;
      return {
        kind: "import",
        id: `${i.nodeName}/${i.datastoreId}:${i.contentType ?? "snippets"}/${file}`,
        source: `${PROXMOX} fileLegacy.d.ts "## Import": <node>/<datastore>:<content type>/<file name>`,
        note: `the snippet must already be on ${i.nodeName}; if it is not, delete this entry and the first up uploads it`,
      };
    }
    case "proxmoxve:hardware/mapping/pci:Pci":
      // "A PCI hardware mapping can be imported using their name".
      return { kind: "import", id: String(i.name), source: `${PROXMOX} hardware/mapping/pci.d.ts "## Import": <mapping name>` };
    default:
      return undefined;
  }
}

/**
 * Kubernetes objects: the provider's Read parses the ID as `namespace/name`, or `name` alone for a
 * cluster-scoped object (pulumi-kubernetes provider/pkg/provider/util.go `parseFqName`, used by
 * provider.go `Read`, at v4.32.0); a Helm release is `<namespace>/<releaseName>` (@pulumi/kubernetes
 * 4.34.2 helm/v3/release.d.ts "## Import"; helm_release.go `Read` calls the same parseFqName). The
 * Patch kinds go through the same Read.
 */
function kubernetes(r: PlanJsonResource): ImportDecision | undefined {
  if (!r.type.startsWith("kubernetes:")) return undefined;
  // Planned inputs: parsed plan JSON, shaped by the provider's schema, read field by field.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const i = r.inputs as Record<string, any>;
  const source = "pulumi-kubernetes v4.32.0 provider/pkg/provider/util.go parseFqName (namespace/name, or name when cluster-scoped)";
  if (r.type === "kubernetes:helm.sh/v3:Release") {
    const ns = str(i.namespace) ?? "default";
    const name = str(i.name);
    if (name === undefined) return cannotAutoNamed(r);
    return { kind: "import", id: `${ns}/${name}`, source: `@pulumi/kubernetes 4.34.2 helm/v3/release.d.ts "## Import": <namespace>/<releaseName>` };
  }
  const name = str(i.metadata?.name);
  if (name === undefined) return cannotAutoNamed(r);
  const ns = str(i.metadata?.namespace);
  return { kind: "import", id: ns === undefined ? name : `${ns}/${name}`, source };
}

function cannotAutoNamed(r: PlanJsonResource): ImportDecision {
  return {
    kind: "cannot",
    why: "its name is generated by the provider at creation (a random suffix), so there is no existing object to name",
    safe:
      r.type === "kubernetes:batch/v1:Job"
        ? "a one-shot Job: the first up runs it once more beside whatever ran before; it changes nothing in the cluster"
        : "a new object beside the existing ones",
    source: "pulumi-kubernetes auto-naming (metadata.name unset)",
  };
}

/** random and time: the import ID carries the value itself. */
function values(r: PlanJsonResource, choices: AdoptChoices): ImportDecision | undefined {
  switch (r.type) {
    case "random:index/randomPassword:RandomPassword":
      // ImportState takes the ID as the result itself and sets length = len(ID), special/upper/
      // lower/numeric = true (terraform-provider-random v3.8.1 internal/provider/resource_password.go
      // ImportState); those differ from the program's arguments, which is why every password of
      // the program ignores changes of its arguments (RANDOM_ARGS): else the first up replaces it.
      return {
        kind: "fill",
        fill: { marker: fillMarker(r.name), from: passwordSource(r.name) },
        source: "terraform-provider-random v3.8.1 internal/provider/resource_password.go ImportState: the ID is the password",
      };
    case "random:index/randomId:RandomId":
      // "Random IDs can be imported using the b64Url with an optional prefix" (randomId.d.ts);
      // ImportState decodes base64.RawURLEncoding and sets byteLength from it (resource_id.go).
      return {
        kind: "import",
        id: choices.clusterIdB64Url,
        source: '@pulumi/random 4.21.2 randomId.d.ts "## Import" (b64Url); terraform-provider-random v3.8.1 internal/provider/resource_id.go ImportState',
        note: "a new identity chosen now (nothing running depends on it): it names the cluster for the Kubernetes provider (clusterIdentifier)",
      };
    case "time:index/rotating:Rotating": {
      // "the base UTC RFC3339 value and rotation years, months, days, hours, and minutes, separated by commas".
      const i = r.inputs as Record<string, unknown>;
      const n = (k: string) => (typeof i[k] === "number" ? String(i[k]) : "0");
      return {
        kind: "import",
        id: [choices.now, n("rotationYears"), n("rotationMonths"), n("rotationDays"), n("rotationHours"), n("rotationMinutes")].join(","),
        source: '@pulumiverse/time 0.1.1 rotating.d.ts "## Import": <base RFC3339>,<years>,<months>,<days>,<hours>,<minutes>',
        note: "the rotation starts at the import",
      };
    }
    default:
      return undefined;
  }
}

/** Where a generated secret of the program lives on a running lab. */
function passwordSource(name: string): string {
  if (name.endsWith("-agent-token"))
    return "the agent token the servers were started with (agent-token in /etc/rancher/k3s/config.yaml, or --agent-token); if the cluster has none, the server token";
  if (name.endsWith("-token") && name.startsWith("k3s"))
    return "the k3s server token the cluster was made with (token in /etc/rancher/k3s/config.yaml or --token on a server; /var/lib/rancher/k3s/server/token holds the full K10... form, whose part after 'server:' is it)";
  return `the value the running release uses (the Secret the app reads it from: kubectl get secret -o json, base64-decoded)`;
}

/**
 * How `pulumi import` takes one resource of the plan, or why it cannot. `undefined` for components
 * and providers (the import file handles those itself).
 */
export function importDecision(r: PlanJsonResource, choices: AdoptChoices): ImportDecision | undefined {
  if (!r.custom || r.type.startsWith("pulumi:providers:")) return undefined;
  const d = proxmox(r) ?? kubernetes(r) ?? values(r, choices);
  if (d !== undefined) return d;
  if (r.type === "command:remote:Command") {
    return {
      kind: "cannot",
      why: "a command is not an object anywhere: the command provider has no import (@pulumi/command 1.2.1 remote/command.d.ts has no Import section)",
      safe: commandSafety(r.name),
      source: "src/cluster/scripts/*.sh, src/metal/scripts/*.sh (each decides 'nothing to do' first)",
    };
  }
  if (r.type === "tls:index/privateKey:PrivateKey") {
    return {
      kind: "cannot",
      why: "the tls provider cannot import a private key (@pulumi/tls 5.6.1 privateKey.d.ts has no Import section)",
      safe: "a new key is generated; for Flux it becomes the git deploy key: add the new public key (pulumi stack output) to the repository before the Flux source reconciles",
      source: "@pulumi/tls 5.6.1 privateKey.d.ts",
    };
  }
  return {
    kind: "cannot",
    why: `no import format is known for ${r.type}`,
    safe: "the first up creates it; read the preview for it before you confirm",
    source: "-",
  };
}

/**
 * Why a command step's first run on a running lab is safe: each statement is what the step's real
 * script did under stubs of a node already in the wanted state (test/adopt-first-run.test.ts).
 * A step not listed was not run that way and says so.
 */
export function commandSafety(name: string): string {
  const rules: [RegExp, string][] = [
    [/-ready$/, "waits for cloud-init to be done (cloud-init status --wait); reads only"],
    [/-authorized-keys$/, "writes ~/.ssh/authorized_keys of ssh.user: it becomes exactly ssh.authorizedKeys, so a key added by hand and not in the stack is dropped"],
    [/-bootstrap$/, "bootstrap.sh exits at once where k3s is installed: nothing to bootstrap (no marker written)"],
    [
      /-k3s-join$/,
      "join.sh installs nothing where k3s is installed; it rewrites /etc/rancher/k3s/config.yaml to the stack's and restarts k3s once (without blocking) only when the file differed (on a hand-built node it usually does), and starts k3s only when it is stopped",
    ],
    [
      /-k3s-member$/,
      "waits for the Node to be Ready, sets the stack's labels and taints (kubectl --overwrite: no change where they already are; a GPU node without nvidia.com/gpu=true:NoSchedule gets it, which keeps new pods off and evicts nothing) and records them; on a first run there are none to remove",
    ],
    [/-k3s-upgrade$/, "upgrade.sh does nothing when `k3s --version` is the pinned version; an older node is upgraded (one minor version at a time), a newer one refuses"],
    [/-k3s-drain$/, "the Node already runs the pinned version: no cordon, no drain"],
    [/-k3s-uncordon$/, "waits for the Node at the pinned version and Ready; uncordons only a node its own drain cordoned (none on a first run)"],
    [/-kubeconfig$/, "waits for the API and the servers, reads /etc/rancher/k3s/k3s.yaml; rotates the admin certificate only when it expires within 120 days"],
    [/-reboot-drain$/, "records the VM's settings on its Node (an annotation) and decides 'none': no cordon, no drain"],
    [/-reboot-vm$/, "told 'none' by the drain step: Proxmox is not even asked"],
    [/-reboot-wait$/, "told 'none': waits for nothing, changes nothing"],
    [/-reboot-check$/, "reboot-check.sh on a standalone VM records its settings (/var/lib/homelab-infra/vm-settings) and decides 'none'"],
    [/-nvidia-drain$/, "records the driver package on the GPU node (an annotation) and decides 'none': no cordon, no drain"],
    [
      /-nvidia$/,
      "nvidia-install.sh: the driver package and the pinned toolkit installed and the GPU visible: it installs nothing and does not reboot (it rewrites its unattended-upgrades blacklist file)",
    ],
    [/-nvidia-check$/, "checks the driver package, nvidia-smi and the NVIDIA container runtime; reads only"],
    [/-nvidia-uncordon$/, "told 'none': records the driver package on the Node, uncordons nothing"],
  ];
  for (const [re, why] of rules) if (re.test(name)) return why;
  return "not run against stubs by the tests: read this step in `pulumi preview --diff` and its script (src/cluster/scripts, src/metal/scripts) before the first up";
}
