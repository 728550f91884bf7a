// GPU nodes, rendered as pure functions: the driver and container-toolkit install (with the reboot
// it needs), the node's labels and taint, the NVIDIA device plugin's Helm values, and the smoke Job.
import type { GpuConfig } from "../config/schema";
import { join } from "node:path";
import { toYaml } from "../lib/serialize";
import { renderScript } from "../lib/shellScript";
import { ACCELERATOR_LABEL, DEVICE_PLUGIN_CONFIG_LABEL, GPU_PRESENT_LABEL, GPU_RESOURCE, GPU_TAINT, NVIDIA_RUNTIME_CLASS } from "./conventions";

/** The NVIDIA steps' shell scripts, beside the k3s ones. */
const SCRIPTS = join(__dirname, "scripts");

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
export const TOOLKIT_REPO = "https://nvidia.github.io/libnvidia-container/stable/deb";
/** `$(ARCH)` is apt's own substitution, written literally (the install script writes this line). */
export const TOOLKIT_SOURCE = `deb [signed-by=${TOOLKIT_KEYRING}] ${TOOLKIT_REPO}/$(ARCH) /`;

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

/** Bounds on every download (finding 15: a stalled TCP session must not hang the step). */
export const CURL_BOUNDS = { connectTimeout: 10, maxTime: 300 } as const;

/**
 * Installs the driver and the container toolkit at its pin, then reboots once when the driver is
 * not loaded (scripts/nvidia-install.sh). Its last line says what it did: "...are installed and
 * the GPU is visible", "...no reboot needed" or "...reboot scheduled" (GpuNode's driverDecision).
 */
export function nvidiaInstallScript(node: string, gpu: Pick<GpuConfig, "driverBranch" | "kernelModules">, toolkitVersion: string): string {
  const pkg = driverPackage(gpu);
  return renderScript(
    SCRIPTS,
    `Installs the NVIDIA driver (${pkg}) and nvidia-container-toolkit ${toolkitVersion} on ${node}.`,
    [
      ["node", node],
      ["pkg", pkg],
      ["toolkit_version", toolkitVersion],
      ["toolkit_packages", TOOLKIT_PACKAGES.join(" ")],
      ["toolkit_key_url", TOOLKIT_KEY_URL],
      ["toolkit_keyring", TOOLKIT_KEYRING],
      ["toolkit_list", TOOLKIT_LIST],
      ["toolkit_repo", TOOLKIT_REPO],
      ["unattended_blacklist_path", UNATTENDED_BLACKLIST_PATH],
      ["unattended_blacklist", UNATTENDED_BLACKLIST],
      ["apt_update_tries", APT_UPDATE_TRIES],
      ["apt_update_seconds", APT_UPDATE_SECONDS],
      ["curl_connect_timeout", CURL_BOUNDS.connectTimeout],
      ["curl_max_time", CURL_BOUNDS.maxTime],
    ],
    ["nvidia-install.sh"],
  );
}

/**
 * Runs after the install (and its reboot): fails clearly when the GPU or the runtime is missing
 * (scripts/nvidia-check.sh). Its stdout is the installed version of the driver package
 * (`dpkg-query -W`), which the smoke Job's fingerprint records: the package names a branch, and
 * Ubuntu moves an old branch's packages onto a newer one (on noble, 570-server became
 * transitional to 580-server).
 */
export function nvidiaCheckScript(node: string, gpu: Pick<GpuConfig, "driverBranch" | "kernelModules">): string {
  const pkg = driverPackage(gpu);
  return renderScript(
    SCRIPTS,
    `Checks that ${node} sees its GPU through ${pkg} and has the NVIDIA container runtime;\nprints the installed version of ${pkg}.`,
    [
      ["node", node],
      ["pkg", pkg],
    ],
    ["nvidia-check.sh"],
  );
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
