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
