// Names the cluster layer guarantees to the layers above: how a GPU node is labelled and tainted,
// and the RuntimeClass k3s registers when it finds the NVIDIA container runtime.

/** Label on every GPU node (also set by the NVIDIA GPU feature discovery convention). */
export const GPU_PRESENT_LABEL = "nvidia.com/gpu.present";
/** Label carrying the accelerator model from config, e.g. nvidia-rtx-4000-ada. */
export const ACCELERATOR_LABEL = "accelerator";
/** The extended resource the device plugin advertises. */
export const GPU_RESOURCE = "nvidia.com/gpu";
/** Taint that keeps non-GPU pods off GPU nodes. */
export const GPU_TAINT = { key: GPU_RESOURCE, value: "true", effect: "NoSchedule" } as const;
/** RuntimeClass k3s ships for the NVIDIA container runtime. */
export const NVIDIA_RUNTIME_CLASS = "nvidia";

/** Pod spec fragments that put a pod on a GPU node with one GPU. */
export function gpuScheduling(gpus = 1) {
  return {
    runtimeClassName: NVIDIA_RUNTIME_CLASS,
    nodeSelector: { [GPU_PRESENT_LABEL]: "true" },
    tolerations: [{ key: GPU_TAINT.key, operator: "Equal", value: GPU_TAINT.value, effect: GPU_TAINT.effect }],
    resources: { limits: { [GPU_RESOURCE]: gpus } },
  };
}

/** Node label the device plugin's config-manager reads to pick a named config (time-slicing). */
export const DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config";

/**
 * Node annotations recording which labels and taints this program set, so a key removed from the
 * config is also removed from the node (the kubelet applies node-label/node-taint only once).
 */
export const MANAGED_LABELS_ANNOTATION = "homelab-infra/managed-labels";
export const MANAGED_TAINTS_ANNOTATION = "homelab-infra/managed-taints";
