# --- nvidia-check.sh: runs on a GPU node after the install (and its reboot) ---
# Fails clearly when the driver package, the GPU or the NVIDIA container runtime is missing.
# stdout is the installed version of $pkg (dpkg-query -W), which the smoke Job's fingerprint
# records: the package names a branch, and Ubuntu moves an old branch's packages onto a newer one.
if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
  echo "$node: $pkg is not installed" >&2
  exit 1
fi
if ! sudo nvidia-smi -L >&2; then
  echo "$node: nvidia-smi sees no GPU after the driver install and reboot; check the PCI mapping and IOMMU group on the Proxmox host, and 'sudo dmesg | grep -i nvrm' on $node" >&2
  exit 1
fi
if ! command -v nvidia-container-runtime >/dev/null 2>&1; then
  echo "$node: nvidia-container-runtime is missing; k3s would start without the nvidia runtime" >&2
  exit 1
fi
version=$(dpkg-query -W -f='${Version}' "$pkg")
echo "$node: GPU and NVIDIA container runtime ready ($pkg $version)" >&2
echo "$version"
