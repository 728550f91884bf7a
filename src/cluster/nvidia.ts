// GPU nodes, rendered as pure functions: the driver and container-toolkit install (with the reboot
// it needs), the node's labels and taint, the NVIDIA device plugin's Helm values, and the smoke Job.
import type { GpuConfig } from "../config/schema";
import { toYaml } from "../lib/serialize";
import {
  ACCELERATOR_LABEL,
  DEVICE_PLUGIN_CONFIG_LABEL,
  GPU_PRESENT_LABEL,
  GPU_RESOURCE,
  GPU_TAINT,
  NVIDIA_RUNTIME_CLASS,
} from "./conventions";
import { shq } from "./k3sScripts";

export const DEVICE_PLUGIN_REPO = "https://nvidia.github.io/k8s-device-plugin";
export const DEVICE_PLUGIN_CHART = "nvidia-device-plugin";
export const DEVICE_PLUGIN_NAMESPACE = "nvidia-device-plugin";
/**
 * The one image this layer runs itself (the smoke test), pinned. Its CUDA requirement check is
 * switched off in the Job: nvidia-smi needs only the driver, whatever branch the stack pins.
 */
export const SMOKE_TEST_IMAGE = "nvcr.io/nvidia/cuda:12.8.1-base-ubuntu24.04";

/** NVIDIA's apt repository for the container toolkit (one repository for every Debian/Ubuntu release). */
export const TOOLKIT_KEY_URL = "https://nvidia.github.io/libnvidia-container/gpgkey";
export const TOOLKIT_KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg";
export const TOOLKIT_LIST = "/etc/apt/sources.list.d/nvidia-container-toolkit.list";
/** `$(ARCH)` is apt's own substitution, written literally. */
export const TOOLKIT_SOURCE = `deb [signed-by=${TOOLKIT_KEYRING}] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /`;

/**
 * Keeps unattended-upgrades away from the driver. Ubuntu ships NVIDIA driver updates through
 * -security; installed without a reboot they leave the loaded module older than the libraries
 * ("Failed to initialize NVML: Driver/library version mismatch") and every GPU pod fails until
 * someone reboots. Driver updates are then a deliberate step: drain, apt upgrade, reboot.
 */
export const UNATTENDED_BLACKLIST_PATH = "/etc/apt/apt.conf.d/51homelab-nvidia-driver";
export const UNATTENDED_BLACKLIST = `// Managed by homelab-infra: NVIDIA driver updates need a reboot; never apply them unattended.
Unattended-Upgrade::Package-Blacklist { "nvidia-"; "libnvidia-"; };
`;
/**
 * The toolkit's packages, all pinned to the one version (`versions.nvidiaContainerToolkit`), as
 * NVIDIA's install guide installs them: a newer toolkit never lands on the day a node is built.
 */
export const TOOLKIT_PACKAGES = ["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1"] as const;

/** `apt-get update` ignores DPkg::Lock::Timeout: tries while the first boot's apt-daily holds the lists lock. */
export const APT_UPDATE_TRIES = 30;
export const APT_UPDATE_SECONDS = 10;

/** The Ubuntu driver metapackage for a GPU config, e.g. nvidia-driver-580-server-open. */
export function driverPackage(gpu: Pick<GpuConfig, "driverBranch" | "kernelModules">): string {
  return `nvidia-driver-${gpu.driverBranch}-server${gpu.kernelModules === "open" ? "-open" : ""}`;
}

/** The `key=value:Effect` taint every GPU node registers with. */
export const GPU_TAINT_STRING = `${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}`;

/** Name of the device plugin config that time-slices each GPU into `replicas`. */
export function timeSlicingConfigName(replicas: number): string {
  return `time-slicing-${replicas}`;
}

/** Labels a GPU node carries on top of its configured ones. */
export function gpuNodeLabels(gpu: Pick<GpuConfig, "accelerator" | "timeSlicingReplicas">): Record<string, string> {
  return {
    [GPU_PRESENT_LABEL]: "true",
    [ACCELERATOR_LABEL]: gpu.accelerator,
    ...(gpu.timeSlicingReplicas > 1 ? { [DEVICE_PLUGIN_CONFIG_LABEL]: timeSlicingConfigName(gpu.timeSlicingReplicas) } : {}),
  };
}

/** Smoke Job pod annotation holding what the test proves (VM instance, driver package and installed version). */
export const GPU_FINGERPRINT_ANNOTATION = "homelab-infra/gpu-fingerprint";

/** Toleration for the GPU taint. */
export const GPU_TOLERATION = { key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect } as const;

/**
 * Installs the driver and the container toolkit, then reboots once when the driver is not loaded.
 * Before the reboot it stops sshd, so the next step's SSH dial is refused (and retried) until the
 * VM is back, instead of landing on the old boot. The session running this script survives the
 * stop (sshd's KillMode=process) and returns before the delayed reboot.
 */
export function nvidiaInstallScript(node: string, gpu: Pick<GpuConfig, "driverBranch" | "kernelModules">, toolkitVersion: string): string {
  const pkg = driverPackage(gpu);
  const toolkit = TOOLKIT_PACKAGES.map((p) => shq(`${p}=${toolkitVersion}`)).join(" ");
  return `#!/bin/sh
# Installs the NVIDIA driver (${pkg}) and nvidia-container-toolkit ${toolkitVersion} on ${node};
# k3s detects the NVIDIA runtime only when it starts, so this runs before the k3s agent joins.
set -eu
installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }
toolkit_pinned() { installed nvidia-container-toolkit && [ "$(dpkg-query -W -f='\${Version}' nvidia-container-toolkit)" = ${shq(toolkitVersion)} ]; }
# Waits for the dpkg lock: unattended-upgrades often holds it on a VM's first boot.
apt_get() { sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"; }
# As root: it can load the module and create /dev/nvidia* when nothing has yet.
gpu_visible() { sudo nvidia-smi -L >/dev/null 2>&1; }

printf '%s' ${shq(UNATTENDED_BLACKLIST)} | sudo tee ${UNATTENDED_BLACKLIST_PATH} >/dev/null

if installed ${shq(pkg)} && toolkit_pinned && gpu_visible; then
  echo "${node}: ${pkg} and nvidia-container-toolkit ${toolkitVersion} are installed and the GPU is visible"
  exit 0
fi

if [ ! -s ${TOOLKIT_KEYRING} ]; then
  key=$(mktemp)
  curl -fsSL --retry 5 -o "$key" ${shq(TOOLKIT_KEY_URL)}
  sudo gpg --batch --yes --dearmor -o ${TOOLKIT_KEYRING} "$key"
  rm -f "$key"
fi
echo "${TOOLKIT_SOURCE.replace(/\$/g, "\\$")}" | sudo tee ${TOOLKIT_LIST} >/dev/null
# apt-get update takes no lock timeout: retried while the first boot's apt-daily run holds the lists lock.
tries=0
until apt_get update >&2; do
  tries=$((tries + 1))
  if [ "$tries" -ge ${APT_UPDATE_TRIES} ]; then
    echo "${node}: apt-get update kept failing for $((${APT_UPDATE_TRIES} * ${APT_UPDATE_SECONDS}))s" >&2
    exit 1
  fi
  sleep ${APT_UPDATE_SECONDS}
done
# DKMS builds the module against the newest kernel with headers: install that kernel and its
# headers (the virtual flavour has no nouveau), so the reboot below lands on a kernel with the module.
# The toolkit at its pinned version (--allow-downgrades: a lowered pin is a deliberate rollback).
apt_get install -y --allow-downgrades linux-image-virtual linux-headers-virtual ${shq(pkg)} ${toolkit} >&2

if gpu_visible; then
  echo "${node}: the driver is loaded; no reboot needed"
  exit 0
fi
echo "${node}: rebooting to load the NVIDIA driver" >&2
# The reboot is scheduled first: if that fails, the script stops here with sshd still running
# (stopping sshd first would leave a VM no step can reach until someone reboots it by hand).
sudo systemd-run --on-active=5 --timer-property=AccuracySec=1s systemctl reboot
# ssh.socket first (Ubuntu 24.04 socket-activates sshd), so nothing restarts the daemon.
sudo systemctl stop ssh.socket 2>/dev/null || true
sudo systemctl stop ssh.service
echo "${node}: reboot scheduled"
`;
}

/**
 * Runs after the install (and its reboot): fails clearly when the GPU or the runtime is missing.
 * Its stdout is the installed version of the driver package (`dpkg-query -W`), which the smoke
 * Job's fingerprint records: the package names a branch, and Ubuntu moves an old branch's packages
 * onto a newer one (on noble, 570-server became transitional to 580-server).
 */
export function nvidiaCheckScript(node: string, gpu: Pick<GpuConfig, "driverBranch" | "kernelModules">): string {
  const pkg = driverPackage(gpu);
  return `#!/bin/sh
# Checks that ${node} sees its GPU through ${pkg} and has the NVIDIA container runtime;
# prints the installed version of ${pkg}.
set -eu
if ! dpkg -s ${shq(pkg)} 2>/dev/null | grep -q '^Status: install ok installed'; then
  echo "${node}: ${pkg} is not installed" >&2
  exit 1
fi
if ! sudo nvidia-smi -L >&2; then
  echo "${node}: nvidia-smi sees no GPU after the driver install and reboot; check the PCI mapping and IOMMU group on the Proxmox host, and 'sudo dmesg | grep -i nvrm' on ${node}" >&2
  exit 1
fi
if ! command -v nvidia-container-runtime >/dev/null 2>&1; then
  echo "${node}: nvidia-container-runtime is missing; k3s would start without the nvidia runtime" >&2
  exit 1
fi
version=$(dpkg-query -W -f='\${Version}' ${shq(pkg)})
echo "${node}: GPU and NVIDIA container runtime ready (${pkg} $version)" >&2
echo "$version"
`;
}

export interface DevicePluginNode {
  readonly timeSlicingReplicas: number;
}

/**
 * Helm values for the nvidia-device-plugin chart: only on GPU nodes, through k3s's nvidia
 * RuntimeClass, tolerating the GPU taint. Nodes that time-slice select a named config through the
 * device-plugin.config label; the rest get the default (whole GPUs).
 */
export function devicePluginValues(nodes: readonly DevicePluginNode[]): Record<string, unknown> {
  const replicas = [...new Set(nodes.map((n) => n.timeSlicingReplicas).filter((r) => r > 1))].sort((a, b) => a - b);
  const values: Record<string, unknown> = {
    runtimeClassName: NVIDIA_RUNTIME_CLASS,
    nodeSelector: { [GPU_PRESENT_LABEL]: "true" },
    tolerations: [{ ...GPU_TOLERATION }],
  };
  if (replicas.length > 0) {
    const map: Record<string, string> = { default: toYaml({ version: "v1", flags: { migStrategy: "none" } }) };
    for (const r of replicas) {
      map[timeSlicingConfigName(r)] = toYaml({
        version: "v1",
        flags: { migStrategy: "none" },
        sharing: { timeSlicing: { resources: [{ name: GPU_RESOURCE, replicas: r }] } },
      });
    }
    values.config = { map, default: "default" };
  }
  return values;
}

export interface SmokeJobArgs<T> {
  readonly node: string;
  readonly namespace: T;
  /** Pod template annotations: a change (new VM, new driver) replaces the Job, so the test runs again. */
  readonly annotations: Readonly<Record<string, T>>;
}

/** A Job that runs `nvidia-smi -L` on one GPU node with one GPU, unprivileged. */
export function smokeJob<T>(args: SmokeJobArgs<T>) {
  return {
    metadata: { namespace: args.namespace, labels: { "app.kubernetes.io/name": "gpu-smoke-test" } },
    spec: {
      backoffLimit: 2,
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "gpu-smoke-test" }, annotations: { ...args.annotations } },
        spec: {
          restartPolicy: "Never" as const,
          runtimeClassName: NVIDIA_RUNTIME_CLASS,
          nodeSelector: { "kubernetes.io/hostname": args.node },
          tolerations: [{ ...GPU_TOLERATION }],
          securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" as const } },
          containers: [
            {
              name: "nvidia-smi",
              image: SMOKE_TEST_IMAGE,
              command: ["nvidia-smi", "-L"],
              env: [{ name: "NVIDIA_DISABLE_REQUIRE", value: "true" }],
              resources: { limits: { [GPU_RESOURCE]: "1" } },
              // No readOnlyRootFilesystem: the toolkit's jit-cdi mode (its default since toolkit PR #1600)
              // runs nvidia-cdi-hook inside the container's rootfs, which fails on a read-only one
              // (kserve #5711); the container writes nothing else.
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            },
          ],
        },
      },
    },
  };
}
