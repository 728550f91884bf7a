// The replace tables of the providers this program uses: which input changes make the provider (or
// the engine) replace a resource instead of updating it. Each row names its source; re-check a row
// when its provider's pin moves (../shared/reference/replace-rules.md has the sources).
//
// Paths are Pulumi property paths (`disks[0].importFrom`, `metadata.annotations["a/b"]`); a rule
// path matches a changed path when one is a prefix of the other, with `[*]` for any index.

/** How sure a verdict is: identity and options (exact), a provider rule (table), a conditional rule (advisory). */
export type Confidence = "exact" | "table" | "advisory";

export interface PropertyRule {
  readonly forcesReplacement: boolean;
  readonly confidence: Confidence;
  /** Why, when it is not plain: the source rule or its condition. */
  readonly note?: string;
}

interface TypeTable {
  /** Force-new paths from the provider's schema or static table. */
  readonly forceNew: readonly string[];
  /** Force-new paths from conditional provider code, with the condition. */
  readonly conditional?: readonly { path: string; note: string; applies?: (inputs: Record<string, unknown>) => boolean; confidence?: Confidence }[];
  /** Every input is force-new (resources with no update). */
  readonly allForceNew?: boolean;
}

const PROXMOX: Record<string, TypeTable> = {
  // Schema willReplaceOnChanges (muhlba91/pulumi-proxmoxve schema.json) and CustomizeDiff in
  // bpg/terraform-provider-proxmox proxmoxtf/resource/vm/vm.go (vm_id, node_name without migrate,
  // tpm_state.version, efi_disk.type). `disks[*].importFrom` is used only at creation: an update.
  "proxmoxve:index/vmLegacy:VmLegacy": {
    forceNew: [
      "amdSev",
      "clone.datastoreId",
      "clone.full",
      "clone.nodeName",
      "clone.retries",
      "clone.vmId",
      "disks[*].fileId",
      "initialization.userDataFileId",
      "initialization.vendorDataFileId",
      "initialization.networkDataFileId",
      "initialization.metaDataFileId",
      "initialization.type",
    ],
    conditional: [
      // Decided by the inputs alone (bpg vm.go:1765-1790): ForceNewIf(vm_id) when the new vm_id is
      // not the VM's id (the old vm_id: always, for a changed one); ForceNewIf(node_name) unless migrate.
      { path: "vmId", note: "the provider's CustomizeDiff replaces a VM whose vm_id changes", confidence: "table" },
      {
        path: "nodeName",
        note: "the provider's CustomizeDiff replaces a VM moved to another node while `migrate` is off",
        applies: (i) => i.migrate !== true,
        confidence: "table",
      },
      { path: "tpmState.version", note: "the provider's CustomizeDiff replaces a VM whose TPM version changes" },
      { path: "efiDisk.type", note: "the provider's CustomizeDiff replaces a VM whose EFI disk type changes" },
    ],
  },
  // Schema willReplaceOnChanges.
  "proxmoxve:index/fileLegacy:FileLegacy": {
    forceNew: ["contentType", "datastoreId", "fileMode", "nodeName", "sourceFile", "sourceRaw.data", "sourceRaw.fileName", "sourceRaw.resize"],
  },
  // RequiresReplace plan modifiers in fwprovider/nodes/resource_download_file.go (a Plugin
  // Framework resource: the schema cannot show them).
  "proxmoxve:download/file:File": {
    forceNew: ["contentType", "fileName", "datastoreId", "nodeName", "url", "checksum", "decompressionAlgorithm", "checksumAlgorithm"],
  },
  "proxmoxve:hardware/mapping/pci:Pci": { forceNew: [] },
  "pulumi:providers:proxmoxve": { forceNew: [] },
};

const OTHERS: Record<string, TypeTable> = {
  // `triggers` is force-new through the replaceOnChanges option the SDK sets itself
  // (remote/command.js), which the plan records; any other input is an update.
  "command:remote:Command": { forceNew: [] },
  "command:local:Command": { forceNew: [] },
  // hashicorp/terraform-provider-random: every argument is RequiresReplace (no update).
  "random:index/randomPassword:RandomPassword": { forceNew: [], allForceNew: true },
  "random:index/randomString:RandomString": { forceNew: [], allForceNew: true },
  "random:index/randomBytes:RandomBytes": { forceNew: [], allForceNew: true },
  "random:index/randomId:RandomId": { forceNew: [], allForceNew: true },
  "random:index/randomUuid:RandomUuid": { forceNew: [], allForceNew: true },
  // hashicorp/terraform-provider-tls: a new algorithm, size or curve is a new key.
  "tls:index/privateKey:PrivateKey": { forceNew: ["algorithm", "rsaBits", "ecdsaCurve"] },
  // hashicorp/terraform-provider-tls resource_self_signed_cert.go Schema: RequiresReplace on every
  // argument but early_renewal_hours (private_key_pem through requireReplaceIfStateContainsPEMString).
  "tls:index/selfSignedCert:SelfSignedCert": {
    forceNew: ["privateKeyPem", "validityPeriodHours", "allowedUses", "dnsNames", "ipAddresses", "uris", "isCaCertificate", "setSubjectKeyId", "setAuthorityKeyId", "subject"],
  },
  // pulumi-kubernetes provider/pkg/provider/helm_release.go: forceNewFields `.name`, `.namespace`.
  "kubernetes:helm.sh/v3:Release": { forceNew: ["name", "namespace"] },
};

// pulumi/pulumi-kubernetes provider/pkg/provider/diff.go (read at 94977969, after v4.32.0; the
// project pins 4.34.2): `.metadata.name` and `.metadata.namespace` for every kind, then per
// group/version/kind of the object (`forceNewProperties` takes the object's own apiVersion and kind,
// so a `*Patch` resource, whose SDK class sends the kind without "Patch", gets its kind's row).
// Custom resources have only the metadata rows.
const SELECTOR = ["spec.selector"];
const K8S_KINDS: Record<string, readonly string[]> = {
  "apps/v1:Deployment": SELECTOR,
  // diff.go:50,54 spell it `DaemonSet` (the `Daemonset` typo was fixed upstream in #1951).
  "apps/v1:DaemonSet": SELECTOR,
  "apps/v1:StatefulSet": ["spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"],
  "core/v1:ConfigMap": ["binaryData", "data"],
  // The volume sources this program can use (upstream lists every in-tree source).
  "core/v1:PersistentVolume": ["spec.awsElasticBlockStore", "spec.csi", "spec.hostPath", "spec.iscsi", "spec.local", "spec.nfs"],
  // diff.go:111: only these (and the selector's fields); a resize (`spec.resources`) is an update,
  // which the API allows only upwards (a shrink is a blocker in diffNotices.ts).
  "core/v1:PersistentVolumeClaim": ["spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"],
  "core/v1:ResourceQuota": ["spec.scopes"],
  "core/v1:Secret": ["type", "stringData", "data"],
  "core/v1:Service": ["spec.clusterIP"],
  "policy/v1beta1:PodDisruptionBudget": ["spec"],
  "rbac.authorization.k8s.io/v1:ClusterRoleBinding": ["roleRef"],
  "rbac.authorization.k8s.io/v1:RoleBinding": ["roleRef"],
  "storage.k8s.io/v1:StorageClass": ["parameters", "provisioner"],
  "batch/v1:Job": ["spec.completions", "spec.parallelism", "spec.selector", "spec.template"],
};

function kubernetesTable(type: string): TypeTable | undefined {
  const m = /^kubernetes:([^:]+):([^:]+)$/.exec(type);
  if (!m || type.startsWith("kubernetes:helm.sh/")) return undefined;
  return { forceNew: ["metadata.name", "metadata.namespace", ...(K8S_KINDS[`${m[1]}:${m[2].replace(/Patch$/, "")}`] ?? [])] };
}

/** A pulumi-kubernetes `*Patch` kind: its create is a server-side-apply PATCH, an upsert (await/await.go:190-215). */
export const isKubernetesPatch = (type: string): boolean => /^kubernetes:[^:]+:[A-Za-z]+Patch$/.test(type);

export function tableFor(type: string): TypeTable | undefined {
  return PROXMOX[type] ?? OTHERS[type] ?? kubernetesTable(type);
}

/** `a[3].b["x.y"]` -> ["a", "*", "b", "x.y"]. */
export function pathSegments(path: string): string[] {
  const out: string[] = [];
  const re = /\[(\d+|\*)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.[\]]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push("*");
    else if (m[2] !== undefined) out.push(m[2].replace(/\\"/g, '"'));
    else out.push(m[3]);
  }
  return out;
}

/** True when one path is a prefix of the other (indices match any index). */
export function pathsOverlap(a: string, b: string): boolean {
  const x = pathSegments(a);
  const y = pathSegments(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i] && x[i] !== "*" && y[i] !== "*") return false;
  return true;
}

/**
 * Whether a change at `path` forces a replacement, and how sure that is. `replaceOnChanges` is the
 * resource's option (exact); then the provider's table; a type without a table is advisory.
 */
export function propertyRule(
  type: string,
  path: string,
  inputs: Record<string, unknown>,
  replaceOnChanges: readonly string[],
  oldInputs: Record<string, unknown> = inputs,
): PropertyRule {
  if (replaceOnChanges.some((p) => p === "*" || pathsOverlap(p, path))) return { forcesReplacement: true, confidence: "exact", note: "the replaceOnChanges option" };
  if (type === "pulumi:providers:kubernetes") return kubernetesProviderRule(path, inputs, oldInputs);
  const table = tableFor(type);
  if (!table) return { forcesReplacement: false, confidence: "advisory", note: "no replace table for this type" };
  if (table.allForceNew) return { forcesReplacement: true, confidence: "table" };
  if (table.forceNew.some((p) => pathsOverlap(p, path))) return { forcesReplacement: true, confidence: "table" };
  for (const c of table.conditional ?? []) {
    if (pathsOverlap(c.path, path) && (c.applies?.(inputs) ?? true)) return { forcesReplacement: true, confidence: c.confidence ?? "advisory", note: c.note };
  }
  return { forcesReplacement: false, confidence: "table" };
}

// pulumi-kubernetes `DiffConfig` (provider/pkg/provider/provider.go:454-560 at 94977969): only an
// updated clusterIdentifier replaces (`diff.Updated`: adding or removing one does not, "to make on-
// and off-boarding less risky"); a clusterIdentifier present and unchanged clears every replacement
// (the deferred `resp.Replaces = nil`); otherwise a changed active cluster of the kubeconfig
// (kubeconfig, context, cluster) or a changed renderYamlToDirectory replaces. The engine asks the
// same DiffConfig for a provider's own change and, since v3.151.0, for a changed provider reference.
function kubernetesProviderRule(path: string, inputs: Record<string, unknown>, oldInputs: Record<string, unknown>): PropertyRule {
  const [was, now] = [oldInputs.clusterIdentifier, inputs.clusterIdentifier];
  if (pathsOverlap("clusterIdentifier", path)) {
    if (was !== undefined && now !== undefined) return { forcesReplacement: true, confidence: "table", note: "a new clusterIdentifier means another cluster" };
    return { forcesReplacement: false, confidence: "table", note: `a clusterIdentifier ${now === undefined ? "removed" : "added"} replaces nothing` };
  }
  const kept = now !== undefined && now === was;
  if (!kept && ["kubeconfig", "context", "cluster"].some((k) => pathsOverlap(k, path))) {
    return { forcesReplacement: true, confidence: "advisory", note: "without a kept clusterIdentifier the provider replaces itself when the kubeconfig points at another cluster" };
  }
  if (!kept && pathsOverlap("renderYamlToDirectory", path)) return { forcesReplacement: true, confidence: "table", note: "every manifest is rendered again elsewhere" };
  return { forcesReplacement: false, confidence: "table", ...(kept ? { note: "the clusterIdentifier is unchanged" } : {}) };
}

/**
 * Whether a top-level input, re-computed whole because a dependency is replaced delete-first, forces
 * a replacement (the engine's cascade re-diffs with the whole input unknown). pulumi-kubernetes
 * matches its force-new paths under an unknown input (a replaced Namespace replaces the objects in
 * it); a bridged Terraform resource replaces only when the input itself is force-new (an unknown
 * `disks` block does not make its force-new `fileId` change); `replaceOnChanges` is the engine's.
 */
export function inputCanForceReplacement(type: string, key: string, inputs: Record<string, unknown>, replaceOnChanges: readonly string[]): boolean {
  if (replaceOnChanges.some((p) => p === "*" || pathSegments(p)[0] === key)) return true;
  // DiffConfig replaces on a computed kubeconfig, context or cluster unless the clusterIdentifier,
  // not fed by the replaced resource, stays (provider.go:495-515).
  if (type === "pulumi:providers:kubernetes") return key === "clusterIdentifier" || (["kubeconfig", "context", "cluster"].includes(key) && inputs.clusterIdentifier === undefined);
  const table = tableFor(type);
  if (!table) return false;
  if (table.allForceNew) return true;
  const paths = [...table.forceNew, ...(table.conditional ?? []).map((c) => c.path)].map(pathSegments);
  if (type.startsWith("kubernetes:")) return paths.some((p) => p[0] === key);
  return paths.some((p) => p.length === 1 && p[0] === key);
}

/**
 * Whether the provider deletes the old object before creating the new one. pulumi-kubernetes
 * (provider.go:1647) does when the object is replaced, named by hand (`metadata.name`, not
 * `generateName`, not autonamed) and keeps both its name and its namespace: two objects cannot hold
 * one name. A renamed or moved object is created first, and the old one is deleted at the end.
 */
export function providerDeletesFirst(type: string, inputs: Record<string, unknown>, oldInputs: Record<string, unknown>): boolean {
  if (!type.startsWith("kubernetes:") || type.startsWith("kubernetes:helm.sh/")) return false;
  const md = (inputs.metadata ?? {}) as Record<string, unknown>;
  const old = (oldInputs.metadata ?? {}) as Record<string, unknown>;
  return typeof md.name === "string" && md.name !== "" && md.name === old.name && (md.namespace ?? "") === (old.namespace ?? "");
}
