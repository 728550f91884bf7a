// Blockers (what makes `pulumi up` fail) and warnings (what loses data or identity) of a diff. Each
// says in one line what will happen and how to avoid it.
import { ROOT_STACK_TYPE } from "../lib/pulumiInternals";
import { PROVIDER_REPLACED, type Notice, type ResourceChange } from "./diff";
import { firewallAdoption, proxmoxBlockers, swappedIdentities } from "./diffProxmox";
import type { PlanJson, PlanJsonResource } from "./format";
import { isKubernetesPatch, pathSegments } from "./replaceRules";

interface Input {
  readonly base: PlanJson;
  readonly head: PlanJson;
  readonly changes: readonly ResourceChange[];
  readonly matched: ReadonlyMap<string, PlanJsonResource>;
  readonly rotated: ReadonlySet<string>;
}

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
/** Claims and namespaces, also as the apps layer keeps them (Patch kinds, src/apps/claims.ts, src/system/namespaces.ts). */
const CLAIM_TYPES = new Set(["kubernetes:core/v1:PersistentVolumeClaim", "kubernetes:core/v1:PersistentVolumeClaimPatch"]);
const NAMESPACE_TYPES = new Set(["kubernetes:core/v1:Namespace", "kubernetes:core/v1:NamespacePatch"]);
/** StorageClasses whose claims may grow (nfs-client and the democratic-csi classes set allowVolumeExpansion; Longhorn's class has it). */
const EXPANDABLE_CLASSES = new Set(["nfs-client", "longhorn", "freenas-nfs-csi", "freenas-iscsi-csi"]);
/** Values that size a chart's StatefulSet claim (Home Assistant's chart, Prometheus' storageSpec). */
const CHART_CLAIM_SIZE_PATHS = [/^spec\.values\.persistence\.size$/, /^values\.prometheus\.prometheusSpec\.storageSpec\.volumeClaimTemplate\.spec\.resources\.requests\.storage$/];

/** A Kubernetes quantity in GiB (Gi and Ti only, as the program writes them), or undefined. */
function quantityGiB(q: unknown): number | undefined {
  const m = typeof q === "string" ? /^(\d+)(Gi|Ti)$/.exec(q) : null;
  return m ? Number(m[1]) * (m[2] === "Ti" ? 1024 : 1) : undefined;
}
type Obj = Record<string, any>;

/** Something only one object may hold at a time, and what happens when a second one takes it. */
export interface Identity {
  /** "VMID 211", "IP 10.0.20.11", ... */
  readonly id: string;
  /** What to change: "VMID", "address", "file name", "name". */
  readonly what: string;
  /** What a second holder causes. */
  readonly effect: string;
}

/**
 * What a resource holds that no other object may hold at the same time: a VMID and addresses
 * (cluster-wide in Proxmox), a file on a node's datastore, a PCI mapping name, a named Kubernetes
 * object or Helm release.
 */
export function identities(r: PlanJsonResource): Identity[] {
  const i = r.inputs as Obj;
  const fails = "the create fails";
  switch (r.type) {
    case VM: {
      const ids: Identity[] = i.vmId !== undefined ? [{ id: `VMID ${i.vmId}`, what: "VMID", effect: fails }] : [];
      for (const c of i.initialization?.ipConfigs ?? []) {
        if (typeof c?.ipv4?.address === "string")
          ids.push({ id: `IP ${c.ipv4.address.split("/")[0]}`, what: "address", effect: "two VMs answer on one address until the old one is gone" });
      }
      return ids;
    }
    case "proxmoxve:index/fileLegacy:FileLegacy":
      return i.sourceRaw?.fileName
        ? [
            {
              id: `file ${i.datastoreId}:${i.contentType}/${i.sourceRaw.fileName} on ${i.nodeName}`,
              what: "file name",
              effect: "the upload overwrites the file the old resource then deletes",
            },
          ]
        : [];
    case "proxmoxve:download/file:File":
      return [{ id: `file ${i.datastoreId}:${i.contentType}/${i.fileName} on ${i.nodeName}`, what: "file name", effect: `${fails} ("File already exists")` }];
    case "proxmoxve:hardware/mapping/pci:Pci":
      return [{ id: `PCI mapping ${i.name}`, what: "mapping name", effect: fails }];
  }
  // A Patch kind's create is a server-side-apply PATCH, an upsert: "the AlreadyExists error does not
  // occur" (pulumi-kubernetes provider/pkg/await/await.go:190-215).
  if (isKubernetesPatch(r.type)) return [];
  if (r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh/") && typeof i.metadata?.name === "string") {
    const kind = r.type.split(":").slice(1).join(":");
    return [{ id: `${kind} ${i.metadata.namespace ? `${i.metadata.namespace}/` : ""}${i.metadata.name}`, what: "name", effect: `${fails} (AlreadyExists)` }];
  }
  if (r.type === "kubernetes:helm.sh/v3:Release" && typeof i.name === "string") {
    return [{ id: `Helm release ${i.namespace ?? "default"}/${i.name}`, what: "release name", effect: `${fails} (Helm: cannot re-use a name that is still in use)` }];
  }
  return [];
}

/**
 * A replacement whose new object exists next to the old one. One forced by a replaced provider is
 * left out: the new provider stands for another cluster, where the name is free.
 */
const createsFirst = (c: ResourceChange) => c.op === "replace" && !c.deleteBeforeReplace && !c.reasons.some((r) => r.startsWith(PROVIDER_REPLACED));

const changedUnder = (c: ResourceChange, prefixes: string[]): string[] => [...new Set(c.properties.map((p) => pathSegments(p.path)[0]).filter((k) => prefixes.includes(k)))];

export function blockersAndWarnings({ base, head, changes, matched, rotated }: Input): { blockers: Notice[]; warnings: Notice[] } {
  const blockers: Notice[] = [];
  const warnings: Notice[] = [];
  const headBy = new Map(head.resources.map((r) => [r.urn, r] as const));
  const baseBy = new Map(base.resources.map((r) => [r.urn, r] as const));
  const why = (c: ResourceChange) => (c.reasons[0] ? ` (${c.reasons[0]})` : "");

  // Protect: the engine refuses to replace (protected before and after) or delete (protected in state).
  for (const c of changes) {
    if (c.op === "replace" && matched.get(c.urn)?.protect && headBy.get(c.urn)?.protect) {
      blockers.push({
        urn: c.urn,
        message: `${c.name} is protected and would be replaced${why(c)}: pulumi up will refuse; undo the change, or set protect: false in one run and replace it in the next`,
      });
    }
    if (c.op === "delete" && baseBy.get(c.urn)?.protect) {
      blockers.push({
        urn: c.urn,
        message: `${c.name} is protected and would be deleted: pulumi up will refuse; keep it in the stack, or set protect: false in one run and remove it in the next`,
      });
    }
  }

  // Create-before-delete collisions: Pulumi creates first and deletes at the end of the run.
  const held = new Map<string, string>();
  for (const c of changes) {
    if (c.op === "delete") for (const x of identities(baseBy.get(c.urn)!)) held.set(x.id, c.name);
    if (createsFirst(c)) for (const x of identities(matched.get(c.urn)!)) held.set(x.id, `the old ${c.name}`);
  }
  for (const c of changes) {
    if (c.op !== "create" && !createsFirst(c)) continue;
    for (const x of identities(headBy.get(c.urn)!)) {
      const holder = held.get(x.id);
      if (!holder) continue;
      blockers.push({
        urn: c.urn,
        message:
          c.op === "create"
            ? `creating ${c.name} takes ${x.id}, which ${holder} holds until it is deleted at the end of the same run: ${x.effect}; give it another ${x.what}, or remove ${holder} in an earlier run`
            : `replacing ${c.name} creates the new one first while ${holder} still holds ${x.id}: ${x.effect}; change the ${x.what} too, or set deleteBeforeReplace`,
      });
    }
  }

  // Delete-first replacements trading identities; VM updates the provider refuses or the steps cannot follow.
  blockers.push(...swappedIdentities({ changes, matched, headBy, baseBy }, identities));
  const proxmox = proxmoxBlockers({ changes, matched, headBy });
  blockers.push(...proxmox.blockers, ...firewallAdoption({ changes, matched, headBy }));

  // A delete-first replacement of a retainOnDelete object leaves the old object where it is: the
  // new one cannot take its name (pulumi-kubernetes then fails the create with AlreadyExists).
  for (const c of changes) {
    const old = matched.get(c.urn);
    if (c.op !== "replace" || !c.deleteBeforeReplace || !old?.retainOnDelete) continue;
    const kept = new Set(identities(old).map((x) => x.id));
    for (const x of identities(headBy.get(c.urn)!)) {
      if (!kept.has(x.id)) continue;
      blockers.push({
        urn: c.urn,
        message: `replacing ${c.name} deletes the old one first, but retainOnDelete keeps it, still holding ${x.id}: ${x.effect}; undo the change (or ignore it with ignoreChanges), or move the data and delete the old object by hand first`,
      });
    }
  }

  const opOf = new Map(changes.map((c) => [c.urn, c.op] as const));
  /**
   * A deleted StorageClass whose claims stay (kept by retainOnDelete, or kept by their immutable
   * class while the program now computes another): their volumes stay, but when the Helm release
   * beside the class (its CSI driver, same component) goes too, nothing can mount them again.
   */
  const classStillUsed = (cls: PlanJsonResource, name: string | undefined): string => {
    const claims = base.resources
      .filter((x) => CLAIM_TYPES.has(x.type) && (x.inputs as Obj).spec?.storageClassName === name)
      .filter((x) => opOf.get(x.urn) !== "replace" && (opOf.get(x.urn) !== "delete" || x.retainOnDelete))
      .map((x) => `${(x.inputs as Obj).metadata?.namespace}/${(x.inputs as Obj).metadata?.name}`);
    const driver = changes.find((x) => x.op === "delete" && x.type === "kubernetes:helm.sh/v3:Release" && baseBy.get(x.urn)?.parent === cls.parent);
    if (claims.length === 0 || driver === undefined) return "";
    return `, but ${claims.length === 1 ? "claim" : `${claims.length} claims`} ${claims.join(", ")} still ${claims.length === 1 ? "uses" : "use"} it and its driver (${driver.name}) is deleted in this change: a pod that starts again cannot mount ${claims.length === 1 ? "that volume" : "those volumes"}; keep the storage backend until the data is moved`;
  };

  for (const c of changes) {
    const r = c.op === "delete" ? baseBy.get(c.urn)! : headBy.get(c.urn)!;
    const i = r.inputs as Obj;
    const gone = c.op === "delete" ? "is deleted" : "is deleted and re-created";
    if (c.op === "delete" || c.op === "replace") {
      const kept = c.op === "delete" && r.retainOnDelete;
      const w = (message: string) => warnings.push({ urn: c.urn, message });
      if (r.type === VM) w(`VM ${i.name ?? c.name} (VMID ${i.vmId}) ${gone}${why(c)}: its disks and everything on them are lost; back it up first, or undo the change`);
      else if (CLAIM_TYPES.has(r.type)) {
        const old = matched.get(c.urn)?.inputs as Obj | undefined;
        if (kept)
          w(
            `claim ${i.metadata?.namespace}/${i.metadata?.name} leaves the Pulumi state but stays in the cluster with its data (retainOnDelete); delete it by hand when it is no longer needed`,
          );
        else if (c.op === "replace" && r.retainOnDelete)
          w(
            `claim ${old?.metadata?.namespace}/${old?.metadata?.name} stays where it is with its data (retainOnDelete) and a new, empty claim ${i.metadata?.namespace}/${i.metadata?.name} is created${why(c)}: copy the data into the new claim, then delete the old one by hand`,
          );
        else
          w(
            `claim ${i.metadata?.namespace}/${i.metadata?.name} ${gone}${why(c)}: a new empty volume is provisioned and the old one follows its reclaim policy (Delete: its data is gone); copy the data first, or undo the change`,
          );
      } else if (NAMESPACE_TYPES.has(r.type) && kept)
        w(
          `namespace ${i.metadata?.name} leaves the Pulumi state but stays in the cluster with everything in it (retainOnDelete); delete it with kubectl once its claims are no longer needed`,
        );
      else if (NAMESPACE_TYPES.has(r.type) && !kept)
        w(`namespace ${i.metadata?.name} ${gone}${why(c)}: Kubernetes deletes everything in it, claims and secrets included; move what must stay first, or keep the namespace`);
      else if (r.type === "kubernetes:storage.k8s.io/v1:StorageClass" && !kept)
        w(
          `StorageClass ${i.metadata?.name} ${gone}${why(c)}: claims made while it is gone fail, and volumes it provisions later follow the new settings; existing volumes stay${c.op === "delete" ? classStillUsed(r, i.metadata?.name) : ""}`,
        );
      else if (/longhorn/i.test(`${c.name} ${r.type}`) && !kept)
        w(`Longhorn (${c.name}) ${gone}${why(c)}: removing Longhorn deletes every Longhorn volume and its replicas; migrate the volumes first`);
      else if (r.type === "random:index/randomPassword:RandomPassword" && /k3s.*token/.test(c.name))
        w(
          `the k3s token ${c.name} ${c.op === "delete" ? "is deleted" : "gets a new value"}${why(c)}: nodes that joined with the old one cannot rejoin and new nodes cannot join the existing cluster; keep the token's arguments unchanged`,
        );
      else if (/^(random:|tls:index\/privateKey)/.test(r.type))
        w(
          `${c.name} ${c.op === "delete" ? "is deleted" : "gets a new value"}${why(c)}: whatever was encrypted or secured with the old value (an app's data, a database login, a deploy key) no longer opens with it; keep its arguments unchanged`,
        );
      else if (r.type === "pulumi:providers:kubernetes" && c.op === "replace") {
        const under = changes.filter((x) => headBy.get(x.urn)?.provider.startsWith(`${c.urn}::`)).length;
        w(
          `the Kubernetes provider ${c.name} is replaced${why(c)}: all ${under} objects it manages are replaced with it (namespaces, claims and their data included); keep its clusterIdentifier stable`,
        );
      }
    }
    if (c.op !== "delete" && CLAIM_TYPES.has(r.type)) {
      const old = matched.get(c.urn)?.inputs as Obj | undefined;
      const was = old?.spec?.storageClassName;
      const now = i.spec?.storageClassName;
      if (was !== undefined && now !== was && r.ignoreChanges.includes("spec.storageClassName")) {
        warnings.push({
          urn: c.urn,
          message: `claim ${i.metadata?.namespace}/${i.metadata?.name} stays on ${was} with its data: the program now computes ${now} for it, but a claim's class is immutable, so the change is ignored; to move the data, disable the app, copy the data out of the kept claim, delete it with kubectl and enable the app again (or pin apps.<name>.storageClass: ${was} to say it stays)`,
        });
      }
      const size = (o: Obj | undefined) => quantityGiB(o?.spec?.resources?.requests?.storage);
      const [before, after] = [size(old), size(i)];
      const cls = was ?? now;
      if (c.op === "update" && before !== undefined && after !== undefined && after !== before) {
        // The API server refuses it ("field can not be less than previous value"): a blocker.
        if (after < before)
          blockers.push({
            urn: c.urn,
            message: `claim ${i.metadata?.namespace}/${i.metadata?.name} would shrink from ${before}Gi to ${after}Gi: the API refuses to shrink a claim and pulumi up fails; keep ${before}Gi`,
          });
        else if (!EXPANDABLE_CLASSES.has(cls))
          warnings.push({
            urn: c.urn,
            message: `claim ${i.metadata?.namespace}/${i.metadata?.name} would grow to ${after}Gi on ${cls}, which does not allow volume expansion: the API refuses it and pulumi up fails; keep ${before}Gi (local-path does not enforce the size anyway)`,
          });
      }
    }
    if (c.op === "update" && CHART_CLAIM_SIZE_PATHS.some((re) => c.properties.some((p) => re.test(p.path)))) {
      warnings.push({
        urn: c.urn,
        message: `${c.name} changes the size of a claim its chart's StatefulSet creates (volumeClaimTemplates are immutable): the upgrade fails and is rolled back; keep the old size, or resize the claim by hand where its class allows it`,
      });
    }
    if (c.op === "update" && r.type === VM) {
      if (c.properties.some((p) => /^disks\[\d+\]\.importFrom$/.test(p.path)))
        warnings.push({
          urn: c.urn,
          message: `VM ${i.name ?? c.name} keeps its disk: a new image reaches only VMs created from now on (importFrom is read only at creation); rebuild it deliberately (pulumi up --replace) if it must run the new image`,
        });
      const reboot = changedUnder(c, ["cpu", "memory", "initialization", "hostpcis", "efiDisk"]);
      if (reboot.length > 0 && i.rebootAfterUpdate !== false)
        warnings.push({
          urn: c.urn,
          message: `VM ${i.name ?? c.name} reboots to apply ${reboot.join(", ")}: the provider stops and starts it (rebootAfterUpdate); plan for the downtime, or apply it in a maintenance window`,
        });
      else if (reboot.length > 0 && !proxmox.refused.has(c.urn)) {
        // The program's own reboot steps (cluster RollingReboot, metal VmReboot) carry the VM's
        // reboot fingerprint: when one of them changes, the reboot is part of this run.
        const vmName = String(i.name ?? c.name);
        const rolling = changes.some((x) => x.op === "update" && (x.name === `${vmName}-reboot-drain` || x.name === `${vmName}-reboot-check`));
        warnings.push({
          urn: c.urn,
          message: rolling
            ? `VM ${vmName} applies its new ${reboot.join(", ")} at a Proxmox reboot later in this run (rebootAfterUpdate is off): a k3s node is drained first and rebooted one server at a time, then a bounded number of agents; expect it down for a few minutes`
            : `VM ${vmName} keeps running with its old ${reboot.join(", ")} until its next reboot (rebootAfterUpdate is off): reboot it when convenient (drain it first if it runs k3s)`,
        });
      }
    }
  }

  // A PCI mapping's `name` is its ID but not RequiresReplace, and bpg's Update writes to the new
  // name (`r.client.Update(ctx, TypePCI, hmPlan.Name, ...)`, fwprovider/cluster/hardwaremapping/
  // resource_pci.go read at 60f0b568): a mapping that does not exist yet.
  for (const c of changes) {
    const p = c.op === "update" && c.type === "proxmoxve:hardware/mapping/pci:Pci" ? c.properties.find((x) => x.path === "name") : undefined;
    if (p)
      blockers.push({
        urn: c.urn,
        message: `PCI mapping ${String(p.old)} is renamed to ${String(p.new)} in place: the provider updates the mapping under the new name, which does not exist, so pulumi up fails; replace it instead (pulumi up --replace '${c.urn}'): the new mapping is created, then the old one deleted`,
      });
  }

  // A Kubernetes object replaced under another name or namespace is created first (provider.go:1647);
  // a claim has its own warning above.
  for (const c of changes) {
    if (CLAIM_TYPES.has(c.type)) continue;
    const [was, now] = [matched.get(c.urn)?.inputs as Obj | undefined, headBy.get(c.urn)?.inputs as Obj | undefined];
    if (!createsFirst(c) || !c.type.startsWith("kubernetes:") || typeof was?.metadata?.name !== "string") continue;
    const at = (m: Obj) => `${m.namespace ? `${m.namespace}/` : ""}${m.name}`;
    if (at(was.metadata) === at(now?.metadata ?? {})) continue;
    warnings.push({
      urn: c.urn,
      message: `${c.name} moves from ${at(was.metadata)} to ${at(now?.metadata ?? {})}: the new object is created first and the old one deleted at the end of the run, so both exist until then (two Ingresses for one host, two releases of one chart); check that they can coexist, or remove the old one in an earlier run`,
    });
  }

  const root = head.resources.find((r) => r.type === ROOT_STACK_TYPE)?.urn ?? "";
  for (const key of [...rotated].sort()) {
    const users = changes.filter((c) => c.op !== "same" && headBy.get(c.urn)?.secretConfig.includes(key)).length;
    warnings.push({
      urn: root,
      message: `${key}: its ciphertext changed (possibly rotated; re-encrypting the same value changes it too): ${users} resources that use it are updated with the value it now holds; a new SSH key or token must already be accepted where it is used`,
    });
  }
  return { blockers, warnings };
}
