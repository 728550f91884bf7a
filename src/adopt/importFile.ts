// The `pulumi import --file` document for a stack, from its offline plan. Pure.
//
// The format is the engine's own at the pinned v3.248.0 (pulumi/pulumi
// pkg/cmd/pulumi/operations/import.go `importFile`, `importSpec`, `parseImportFile`): `resources[]`
// with `type`, `name` (unique in the file, what `parent`/`provider` refer to), `logicalName` (the
// resource's Pulumi name), `id`, `parent`, `provider`, `version`, `pluginDownloadUrl`, `component`;
// `nameTable` maps names to URNs of things outside the file (the explicit providers);
// `providerInputs` gives an explicit provider that is not in state yet its inputs, secrets as
// `{sig: secret, plaintext: JSON}` (pkg/resource/stack/deployment.go DeserializePropertyValue).
// parseImportFile builds each URN as NewURN(stack, project, parent's qualified type, type,
// logicalName), the URN the program registers; components are entries with `component: true` and
// no ID, so children's parents (and so their URNs) match.
import type { PlanJson, PlanJsonResource } from "../plan/format";
import { SECRET_SIG, SIG_KEY } from "../lib/pulumiInternals";
import { fillMarker, importDecision, type AdoptChoices, type Fill, type ImportDecision } from "./importIds";

export interface ImportSpec {
  readonly type: string;
  readonly name: string;
  readonly logicalName?: string;
  readonly id?: string;
  readonly parent?: string;
  readonly provider?: string;
  readonly version?: string;
  readonly pluginDownloadUrl?: string;
  readonly component?: boolean;
}

export interface ImportFile {
  readonly nameTable: Record<string, string>;
  readonly resources: ImportSpec[];
  readonly providerInputs: Record<string, Record<string, unknown>>;
}

/** One resource the import does not take, why, and why its first run on a running lab is safe. */
export interface NotImported {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly why: string;
  readonly safe: string;
}

export interface Adoption {
  readonly file: ImportFile;
  /** Values the user writes into the file (markers `fill:...`), from the running lab. */
  readonly fills: (Fill & { readonly urn: string })[];
  readonly notImported: NotImported[];
  /** Per imported URN, the decision (ID, cited source, note). */
  readonly imported: Map<string, ImportDecision>;
}

/** Plugin versions per package, as package.json pins them (the npm package's `pulumi` block). */
export type PluginVersions = Record<string, { readonly version?: string; readonly server?: string }>;

const pkgOf = (type: string) => (type.startsWith("pulumi:providers:") ? type.slice("pulumi:providers:".length) : type.split(":")[0]);

/** The provider URN of a `urn::id` reference. */
export const providerUrn = (ref: string): string => ref.slice(0, ref.lastIndexOf("::"));

const secretWire = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, plaintext: JSON.stringify(value) });

export function buildImport(plan: PlanJson, plugins: PluginVersions, choices: AdoptChoices): Adoption {
  const root = plan.resources.find((r) => r.parent === null);
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r] as const));
  // Names in the file must be unique (parseImportFile: "ambiguous"): the logical name, or with the
  // type's last segment when two resources share it (a GpuNode and its ProxmoxVm both k3s-gpu-01).
  const count = new Map<string, number>();
  for (const r of plan.resources) count.set(r.name, (count.get(r.name) ?? 0) + 1);
  const fileName = (r: PlanJsonResource) => (count.get(r.name)! > 1 ? `${r.name}~${r.type.split(":").pop()}` : r.name);

  const nameTable: Record<string, string> = {};
  const providerInputs: Record<string, Record<string, unknown>> = {};
  const providerName = new Map<string, string>();
  const fills: Adoption["fills"] = [];
  const notImported: NotImported[] = [];
  const imported = new Map<string, ImportDecision>();
  const resources: ImportSpec[] = [];

  const versionOf = (type: string) => {
    const p = plugins[pkgOf(type)];
    return { ...(p?.version ? { version: p.version.replace(/^v/, "") } : {}), ...(p?.server ? { pluginDownloadUrl: p.server } : {}) };
  };

  // A provider input made of an imported resource's ID holds the plan's stand-in ID (the mock's
  // `<name>-id`): after the import that ID is the import ID itself for a RandomId (ImportState sets
  // state.ID to it: terraform-provider-random v3.8.1 internal/provider/resource_id.go), so the
  // Kubernetes provider's clusterIdentifier is written as the program will compute it.
  const realIds = plan.resources.filter((r) => r.type === "random:index/randomId:RandomId").map((r) => [`${r.name}-id`, choices.clusterIdB64Url] as const);
  const withRealIds = (v: unknown) => (typeof v === "string" ? realIds.reduce((s, [mock, real]) => s.split(mock).join(real), v) : v);

  for (const r of plan.resources) {
    if (r === root) continue;
    if (r.type.startsWith("pulumi:providers:")) {
      // Outside the file's resources: referenced through the name table, made by the import from
      // providerInputs (pkg/resource/deploy/import.go registerProviders, explicit providers).
      const name = `${r.name}-provider`;
      providerName.set(r.urn, name);
      nameTable[name] = r.urn;
      const inputs: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r.inputs)) {
        if (r.secretPaths.some((p) => p === k || p.startsWith(`${k}.`) || p.startsWith(`${k}[`))) {
          const marker = fillMarker(`${r.name}.${k}`);
          fills.push({ urn: r.urn, marker, from: providerSecretSource(r.type, k) });
          inputs[k] = secretWire(marker);
        } else inputs[k] = withRealIds(v);
      }
      providerInputs[name] = inputs;
      continue;
    }
    const parent = r.parent && r.parent !== root?.urn ? byUrn.get(r.parent) : undefined;
    const base = { type: r.type, name: fileName(r), ...(fileName(r) !== r.name ? { logicalName: r.name } : {}), ...(parent ? { parent: fileName(parent) } : {}) };
    if (!r.custom) {
      resources.push({ ...base, component: true });
      continue;
    }
    const d = importDecision(r, choices)!;
    if (d.kind === "cannot") {
      notImported.push({ urn: r.urn, type: r.type, name: r.name, why: d.why, safe: d.safe });
      continue;
    }
    const provider = r.provider ? providerName.get(providerUrn(r.provider)) : undefined;
    const id = d.kind === "import" ? d.id : d.fill.marker;
    if (d.kind === "fill") fills.push({ urn: r.urn, ...d.fill });
    imported.set(r.urn, d);
    resources.push({ ...base, id, ...(provider ? { provider } : {}), ...versionOf(r.type) });
  }
  return { file: { nameTable, resources, providerInputs }, fills, notImported, imported };
}

function providerSecretSource(type: string, key: string): string {
  if (type === "pulumi:providers:proxmoxve" && key === "apiToken") return "the Proxmox API token (the value of homelab:proxmoxApiToken)";
  if (type === "pulumi:providers:proxmoxve" && key === "ssh")
    return 'the provider\'s ssh block as JSON: {"agent":false,"privateKey":"<homelab:sshPrivateKey>","username":"root"} (as the plan shows it)';
  if (type === "pulumi:providers:kubernetes" && key === "kubeconfig")
    return "the running cluster's kubeconfig (/etc/rancher/k3s/k3s.yaml from a server, its server: set to that server's address)";
  return `the provider's ${key}`;
}

/** The markers still in an import file (a value the user has not filled in yet). */
export function unfilled(text: string): string[] {
  return [...new Set(text.match(/fill:[A-Za-z0-9._~-]+/g) ?? [])].sort();
}
