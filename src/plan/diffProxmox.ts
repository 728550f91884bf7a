// Blockers for VM updates the Proxmox provider refuses, or that the program's own steps cannot
// follow, although the provider's diff plans them as a plain update. Each says what `pulumi up`
// will do, why (the upstream line), and the way out. Sources: bpg/terraform-provider-proxmox at
// d6bd1ffe (the commit shared/reference/replace-rules.md cites; pulumi-proxmoxve 8.x bridges the
// v0.111 line), proxmoxtf/resource/vm/vm.go `vmUpdate`. Pure: plan JSON in, notices out.
import type { Notice, ResourceChange } from "./diff";
import type { PlanJsonResource } from "./format";
import { pathSegments } from "./replaceRules";

export const VM = "proxmoxve:index/vmLegacy:VmLegacy";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- plan JSON inputs, as in diffNotices.ts
type Obj = Record<string, any>;

/**
 * Top-level VmLegacy inputs whose change sets `rebootRequired` in bpg `vmUpdate` (vm.go:6192-6916:
 * acpi, kvm_arguments, bios, keyboard_layout, machine, tablet_device, agent, amd_sev, audio_device,
 * boot_order, cpu, efi_disk, tpm_state, rng, initialization, hostpci, numa, usb, memory,
 * operating_system, serial_device, vga, virtiofs, scsi_hardware, watchdog). CPU and memory are
 * hot-pluggable only through the VM's `hotplug` setting, which the program leaves at Proxmox's
 * default (network, disk, usb), so their changes always need a reboot.
 */
export const REBOOT_INPUTS = [
  "acpi",
  "kvmArguments",
  "bios",
  "keyboardLayout",
  "machine",
  "tabletDevice",
  "agent",
  "amdSev",
  "audioDevice",
  "bootOrders",
  "cpu",
  "efiDisk",
  "tpmState",
  "rngs",
  "initialization",
  "hostpcis",
  "numas",
  "usbs",
  "memory",
  "operatingSystem",
  "serialDevices",
  "vga",
  "virtiofs",
  "scsiHardware",
  "watchdog",
] as const;

/** What the provider answers when `reboot_after_update = false` blocks a power-off (vm.go:2118). */
const REFUSED = (op: string) => `"cannot ${op} while the VM is running ... disabled by 'reboot_after_update = false'"`;

interface Input {
  readonly changes: readonly ResourceChange[];
  readonly matched: ReadonlyMap<string, PlanJsonResource>;
  readonly headBy: ReadonlyMap<string, PlanJsonResource>;
  readonly baseBy: ReadonlyMap<string, PlanJsonResource>;
}

const diskByInterface = (i: Obj): Map<string, Obj> => new Map(((i.disks ?? []) as Obj[]).map((d) => [String(d.interface), d] as const));
const ipOf = (cfg: Obj | undefined): string | undefined => (typeof cfg?.ipv4?.address === "string" ? cfg.ipv4.address.split("/")[0] : undefined);

/** How a VM's steps are built (names from src/metal and src/cluster), for the way out of an address change. */
function roleOf(prefix: string, headNames: ReadonlySet<string>): "server" | "agent" | "standalone" | "vm" {
  if (headNames.has(`${prefix}-k3s-join`)) return headNames.has(`${prefix}-k3s-drain`) ? "agent" : "server";
  return headNames.has(`${prefix}-reboot-check`) ? "standalone" : "vm";
}

/**
 * The blockers of VM updates, and the VMs they name (their reboot warning, which describes a run
 * that does not happen, is left out).
 */
export function proxmoxBlockers({ changes, matched, headBy }: Omit<Input, "baseBy">): { blockers: Notice[]; refused: Set<string> } {
  const blockers: Notice[] = [];
  const refused = new Set<string>();
  const headNames = new Set([...headBy.values()].map((r) => r.name));
  for (const c of changes) {
    if (c.op !== "update" || c.type !== VM) continue;
    const now = headBy.get(c.urn)!.inputs as Obj;
    const was = matched.get(c.urn)!.inputs as Obj;
    const vm = String(now.name ?? c.name);
    const prefix = c.name.replace(/-vm$/, "");
    const push = (message: string) => {
      blockers.push({ urn: c.urn, message });
      refused.add(c.urn);
    };
    // Only what the diff counts as changed (ignoreChanges already applied).
    const changed = (top: string) => c.properties.some((p) => pathSegments(p.path)[0] === top);
    const changedPath = (re: RegExp) => c.properties.some((p) => re.test(p.path));
    // A running VM that the provider may not power off: every VM of the program (started, rebootAfterUpdate false).
    const locked = now.rebootAfterUpdate === false && now.started !== false;

    // Disks, matched by interface as vmPlanDiskLocationAndSizeChanges does (vm.go:7230-7310).
    const [oldDisks, newDisks] = [diskByInterface(was), diskByInterface(now)];
    const grown: string[] = [];
    const moved: string[] = [];
    for (const [iface, d] of newDisks) {
      const o = oldDisks.get(iface);
      if (!o || !changedPath(/^disks\[\d+\]\.(size|datastoreId)$/)) continue;
      if (typeof o.size === "number" && typeof d.size === "number" && d.size < o.size)
        push(
          `VM ${vm} would shrink disk ${iface} from ${o.size} to ${d.size} GiB: the provider refuses ("Cannot shrink ... it is not supported!", bpg vm.go:7299 vmPlanDiskLocationAndSizeChanges) and pulumi up fails at this VM; keep ${o.size} GiB (a smaller disk needs a rebuilt VM: pulumi up --replace its URN, which loses its disks)`,
        );
      else if (typeof o.size === "number" && typeof d.size === "number" && d.size > o.size) grown.push(`${iface} (${o.size} to ${d.size} GiB)`);
      if (o.datastoreId !== undefined && d.datastoreId !== undefined && o.datastoreId !== d.datastoreId) moved.push(`disk ${iface} from ${o.datastoreId} to ${d.datastoreId}`);
    }
    const reboot = REBOOT_INPUTS.filter(changed);
    if (locked && grown.length > 0 && reboot.length > 0)
      push(
        `VM ${vm} grows disk ${grown.join(", ")} in the same update as ${reboot.join(", ")}, which needs a reboot: with rebootAfterUpdate off the provider sends the ${reboot.join(", ")} change, then refuses the resize on the running VM (${REFUSED("resize disks")}, bpg vm.go:7044-7093) and pulumi up fails at this VM, before the reboot that would apply it; grow the disk in one pulumi up and make the other change in the next (or the reverse)`,
      );

    // The cloud-init drive moves with a new datastore, interface or file format (vm.go:6600-6650).
    const [oi, ni] = [was.initialization as Obj | undefined, now.initialization as Obj | undefined];
    if (oi && ni && changedPath(/^initialization\.(datastoreId|interface|fileFormat)$/)) {
      if (oi.datastoreId !== ni.datastoreId) moved.push(`the Cloud-Init drive from ${oi.datastoreId} to ${ni.datastoreId}`);
      else if ((oi.interface && ni.interface && oi.interface !== ni.interface) || (oi.fileFormat ?? "") !== (ni.fileFormat ?? ""))
        moved.push(
          `the Cloud-Init drive (interface ${oi.interface ?? "ide2"} to ${ni.interface ?? "ide2"}, format ${oi.fileFormat ?? "default"} to ${ni.fileFormat ?? "default"})`,
        );
    }
    const way = `shut the VM down first (a k3s node: drain it first, uncordon it after) and pulumi up, which moves a stopped VM's disks and starts it again (vmPowerOffForPendingChanges handles a stopped VM offline), or keep the old datastore, or rebuild the VM there (pulumi up --replace its URN; its disks are lost)`;
    if (locked && moved.length > 0)
      push(
        `VM ${vm} moves ${moved.join(" and ")}: that needs the VM powered off, which rebootAfterUpdate off forbids, so the provider refuses on the running VM (${REFUSED(moved.some((m) => m.startsWith("disk")) ? "move disks between datastores" : "move the Cloud-Init drive")}, bpg vm.go:7028, vm.go:6646) and pulumi up fails at this VM; ${way}`,
      );
    if (locked && changed("tpmState"))
      push(
        `VM ${vm} adds, removes or changes its TPM: with rebootAfterUpdate off the provider refuses on the running VM (${REFUSED("add, remove, or update the TPM device")}, bpg vm.go:6554) and pulumi up fails at this VM; shut the VM down first (a k3s node: drain it first, uncordon it after) and pulumi up, which changes a stopped VM and starts it again (vmPowerOffForPendingChanges handles a stopped VM offline), or undo the change`,
      );

    // An address change: Proxmox applies it at the next boot (cloud-init), but the VM's steps dial
    // the new address right after this update, before the rolling reboot that depends on them.
    const [oldIps, newIps] = [(oi?.ipConfigs ?? []) as Obj[], (ni?.ipConfigs ?? []) as Obj[]];
    const readdressed = newIps.map((n, k) => [ipOf(oldIps[k]), ipOf(n)] as const).filter(([a, b]) => a !== undefined && b !== undefined && a !== b);
    if (readdressed.length > 0 && changedPath(/^initialization\.ipConfigs\[\d+\]\.ipv4\.address$/)) {
      const [from, to] = readdressed[0];
      // The steps whose connection changed apart from its secrets (the digest of the connection
      // with every secret cut out, src/plan/secrets.ts): the host, for a rotated key changes none.
      // The VM's own, and those that run on it as another node's control server.
      const digestOf = (r: PlanJsonResource | undefined) => r?.secretDigests.connection;
      const dialing = changes
        .filter((x) => x.op === "update" && x.type === "command:remote:Command" && digestOf(matched.get(x.urn)) !== digestOf(headBy.get(x.urn)))
        .map((x) => x.name);
      const role = roleOf(prefix, headNames);
      const out =
        role === "server"
          ? `a k3s server cannot change its address in place (its etcd member's peer URL, node-ip and the other nodes' join targets name ${from}): remove it in one run (protect: false first if it is protected) and add it back with the new address in the next, one server at a time`
          : role === "agent"
            ? `rebuild it on the new address in this run instead: pulumi up --replace its VM's URN (the steps' deletes drain it and uninstall k3s over the old address kept in state; the new VM boots on ${to} and rejoins; its disks are lost), or remove it in one run and add it back in the next`
            : `change it in two runs: pulumi up --target its VM's URN (only the VM update: the address waits in Proxmox), qm reboot ${now.vmId} on ${now.nodeName}, then pulumi up; or rebuild it (pulumi up --replace its URN; its disks are lost)`;
      push(
        `VM ${vm} changes its address from ${from} to ${to}: the VM update only queues it (rebootAfterUpdate is off; cloud-init applies it at the next boot), but ${dialing.length === 0 ? "its steps" : dialing.length > 8 ? `${dialing.slice(0, 8).join(", ")} and ${dialing.length - 8} more` : dialing.join(", ")} dial ${to} right after the update, before the reboot that comes after them: they fail after their dial budget (about 12 to 25 minutes) and pulumi up stops there; ${out}`,
      );
    }
  }
  return { blockers, refused };
}

/**
 * Delete-first replacements that trade a VMID, an address or a name among themselves: the engine
 * deletes only the replaced resource's own old object before creating the new one (step_generator
 * `continueStepsFromDiff`, delete-before-replace branch), so the first new object asks for what
 * the other's old object still holds, and the result depends on the order ("VM ... already exists").
 */
export function swappedIdentities(
  { changes, matched, headBy, baseBy }: Input,
  identities: (r: PlanJsonResource) => readonly { id: string; what: string; effect: string }[],
): Notice[] {
  const dbr = changes.filter((c) => c.op === "replace" && c.deleteBeforeReplace);
  const oldHolder = new Map<string, { name: string; deleted: boolean }>();
  for (const c of dbr) for (const x of identities(matched.get(c.urn)!)) oldHolder.set(x.id, { name: c.name, deleted: false });
  for (const c of changes) if (c.op === "delete") for (const x of identities(baseBy.get(c.urn)!)) oldHolder.set(x.id, { name: c.name, deleted: true });
  const out: Notice[] = [];
  for (const c of dbr) {
    const own = new Set(identities(matched.get(c.urn)!).map((x) => x.id));
    for (const x of identities(headBy.get(c.urn)!)) {
      const holder = oldHolder.get(x.id);
      if (own.has(x.id) || holder === undefined) continue;
      const why = holder.deleted
        ? `${holder.name}, deleted only at the end of the run, still holds ${x.id}: ${x.effect}`
        : `the old ${holder.name} (replaced in the same run) still holds ${x.id}: ${x.effect} unless that one is deleted first, which nothing orders (in a swap, whichever goes first fails)`;
      out.push({
        urn: c.urn,
        message: `replacing ${c.name} deletes only its own old object (and its dependents) before it creates the new one, while ${why}; change one ${x.what} per run, each to one that nothing holds at the time (a swap takes three runs, through a free ${x.what})`,
      });
    }
  }
  return out;
}

/**
 * A VM firewall made before its rules and options were replaced with their VM (src/metal/vmFirewall.ts):
 * the state holds no ReplaceWith, so the engine cannot delete them before the VM (it looks them up in
 * the old state, step_generator `findResourcesReplacedWith`); they are replaced after the new VM
 * exists, and the old rules' delete asks the old VM, gone when its VMID or node changed, for its
 * rules: bpg RulesDelete fails on anything but "no rule at this position" (firewall/rules.go:575-600).
 */
export function firewallAdoption({ changes, matched, headBy }: Omit<Input, "baseBy">): Notice[] {
  const replacedVms = new Map(changes.filter((c) => c.op === "replace" && c.type === VM).map((c) => [c.urn, c] as const));
  const out: Notice[] = [];
  for (const c of changes) {
    if (c.op !== "replace" || !c.type.startsWith("proxmoxve:firewall/")) continue;
    const [now, was] = [headBy.get(c.urn)!, matched.get(c.urn)!];
    const vm = now.replaceWith.map((u) => replacedVms.get(u)).find((x) => x !== undefined);
    if (vm === undefined || was.replaceWith.includes(vm.urn) || !c.properties.some((p) => p.path === "vmId" || p.path === "nodeName")) continue;
    out.push({
      urn: c.urn,
      message: `${c.name} was recorded before a VM's firewall was replaced with its VM: pulumi up replaces it only after the new ${vm.name} exists, and its delete asks the old VM, which is gone, for its rules, so it fails (bpg firewall/rules.go RulesDelete); run one pulumi up with this version first (it records replaceWith in the state), then change the VM`,
    });
  }
  return out;
}
