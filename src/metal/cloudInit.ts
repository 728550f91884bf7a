// Cloud-init user-data for every VM, rendered as a pure function.
//
// The user-data is a Proxmox snippet the VM names by its path. A changed snippet leaves the VM in
// place, but Proxmox derives the cloud-init instance-id from the user-data, so the VM runs it again
// as a new instance at its next boot. So it holds only what a first boot needs (hostname, login
// user, SSH keys, the guest agent and the packages later layers rely on), every step safe to run
// twice, and nothing that changes over a VM's life: k3s is installed and reconfigured over SSH, and
// authorized keys are kept in sync by an SSH step.
import { toYaml } from "../lib/serialize";

export interface UserDataArgs {
  readonly hostname: string;
  /** Search domain; the FQDN becomes `<hostname>.<domain>`. */
  readonly domain?: string;
  readonly user: string;
  readonly authorizedKeys: readonly string[];
  /** Extra packages beyond the base set. */
  readonly packages?: readonly string[];
  /** Prepare the node for Longhorn: open-iscsi, the multipath blacklist, a data disk at /var/lib/longhorn. */
  readonly longhorn?: { readonly dataDisk: boolean };
  /** Prepare the node for democratic-csi's iSCSI class (storage.truenas.iscsi): the initiator, multipath. */
  readonly iscsi?: boolean;
}

/** Installed on every VM: the guest agent (Proxmox reads IPs through it) and what k3s and NFS volumes need. */
export const BASE_PACKAGES = ["ca-certificates", "curl", "nfs-common", "qemu-guest-agent"] as const;

/** Longhorn's documented node prerequisites (iSCSI initiator, NFSv4 client for RWX volumes). */
export const LONGHORN_PACKAGES = ["cryptsetup", "open-iscsi"] as const;

/**
 * democratic-csi's iSCSI node prerequisites on Ubuntu (democratic-csi README.md:124-139 at 8a4a28a,
 * "Node Prep", iSCSI, Ubuntu / Debian): its node plugin drives the host's initiator and mounts the
 * host's /etc/iscsi with `type: Directory` (chart democratic-csi-0.15.1 values.yaml:298-299,
 * node.driver.iscsiDirHostPath/-Type), so without open-iscsi its pods cannot start (audit
 * system-apps-2 row C2).
 */
export const ISCSI_PACKAGES = ["lsscsi", "multipath-tools", "open-iscsi", "scsitools", "sg3-utils"] as const;

/** democratic-csi's multipath settings (the same README, lines 127-132): multipath only where a device has several paths. */
export const ISCSI_MULTIPATH = `defaults {
    user_friendly_names yes
    find_multipaths yes
}
`;

/** multipathd claims Longhorn's iSCSI block devices unless they are blacklisted (Longhorn KB). */
export const MULTIPATH_BLACKLIST = `blacklist {
    devnode "^sd[a-z0-9]+"
}
`;

/** The second disk (scsi1) a Longhorn node gets, as the guest sees it. */
export const LONGHORN_DATA_DEVICE = "/dev/sdb";

export function renderUserData(args: UserDataArgs): string {
  const packages = [...new Set([...BASE_PACKAGES, ...(args.longhorn ? LONGHORN_PACKAGES : []), ...(args.iscsi ? ISCSI_PACKAGES : []), ...(args.packages ?? [])])].sort();
  const runcmd: string[][] = [["systemctl", "enable", "--now", "qemu-guest-agent"]];
  const doc: Record<string, unknown> = {
    hostname: args.hostname,
    fqdn: args.domain ? `${args.hostname}.${args.domain}` : undefined,
    prefer_fqdn_over_hostname: false,
    manage_etc_hosts: true,
    users: [
      {
        name: args.user,
        groups: ["sudo"],
        shell: "/bin/bash",
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        lock_passwd: true,
        ssh_authorized_keys: [...args.authorizedKeys],
      },
    ],
    ssh_pwauth: false,
    disable_root: true,
    package_update: true,
    package_upgrade: false,
    packages,
    timezone: "Etc/UTC",
    runcmd,
  };
  if (args.longhorn || args.iscsi) {
    // With both, Longhorn's blacklist wins: multipathd must not claim Longhorn's block devices, and
    // democratic-csi works on a single path without multipath (its README: "Multipath is supported").
    const multipath = args.longhorn ? MULTIPATH_BLACKLIST : ISCSI_MULTIPATH;
    doc.write_files = [{ path: "/etc/multipath.conf", permissions: "0644", owner: "root:root", content: multipath }];
    runcmd.push(["systemctl", "restart", "multipathd"], ["systemctl", "enable", "--now", "iscsid"]);
  }
  if (args.iscsi) runcmd.push(["systemctl", "enable", "--now", "open-iscsi"]);
  if (args.longhorn) {
    if (args.longhorn.dataDisk) {
      doc.fs_setup = [{ label: "longhorn", filesystem: "ext4", device: LONGHORN_DATA_DEVICE, partition: "none", overwrite: false }];
      doc.mounts = [["LABEL=longhorn", "/var/lib/longhorn", "ext4", "defaults,nofail", "0", "2"]];
    }
  }
  return `#cloud-config\n${toYaml(doc)}`;
}

/**
 * Readiness gate run over SSH: waits for cloud-init to finish. `cloud-init status --wait` exits 2
 * for recoverable errors since cloud-init 23.4 (the VM is usable); only 1 is fatal.
 */
export const WAIT_FOR_CLOUD_INIT = `#!/bin/sh
set -eu
rc=0
cloud-init status --wait >/dev/null 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
  echo "cloud-init failed on $(hostname) (exit $rc):" >&2
  cloud-init status --long >&2 || true
  exit "$rc"
fi
echo "ready"
`;

/**
 * Keeps ~/.ssh/authorized_keys equal to the configured keys (read from stdin), so a key change
 * reaches running VMs without touching the force-new user-data.
 */
export const SYNC_AUTHORIZED_KEYS = `#!/bin/sh
set -eu
umask 077
mkdir -p "$HOME/.ssh"
tmp=$(mktemp "$HOME/.ssh/authorized_keys.XXXXXX")
cat > "$tmp"
if [ ! -s "$tmp" ]; then
  rm -f "$tmp"
  echo "refusing to install an empty authorized_keys" >&2
  exit 1
fi
mv "$tmp" "$HOME/.ssh/authorized_keys"
`;
