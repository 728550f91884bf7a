# --- nvidia-install.sh: runs on a GPU node before its k3s agent joins ---
# Installs the NVIDIA driver ($pkg) and nvidia-container-toolkit at $toolkit_version (every one of
# $toolkit_packages), then reboots once when the driver is not loaded. k3s detects the NVIDIA
# runtime only when it starts, hence before the join. Before the reboot it stops sshd, so the next
# step's SSH dial is refused (and retried) until the VM is back instead of landing on the old boot;
# the session running this survives the stop (sshd's KillMode=process) and returns first.
installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }
toolkit_pinned() { installed nvidia-container-toolkit && [ "$(dpkg-query -W -f='${Version}' nvidia-container-toolkit)" = "$toolkit_version" ]; }
# Waits for the dpkg lock: unattended-upgrades often holds it on a VM's first boot.
apt_get() { sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"; }
# As root: it can load the module and create /dev/nvidia* when nothing has yet.
gpu_visible() { sudo nvidia-smi -L >/dev/null 2>&1; }

printf '%s' "$unattended_blacklist" | sudo tee "$unattended_blacklist_path" >/dev/null

if installed "$pkg" && toolkit_pinned && gpu_visible; then
  echo "$node: $pkg and nvidia-container-toolkit $toolkit_version are installed and the GPU is visible"
  exit 0
fi

if [ ! -s "$toolkit_keyring" ]; then
  key=$(mktemp)
  # Bounded: a stalled download fails the step (with its retries) instead of hanging it.
  curl -fsSL --retry 5 --retry-connrefused --connect-timeout "$curl_connect_timeout" --max-time "$curl_max_time" -o "$key" "$toolkit_key_url"
  sudo gpg --batch --yes --dearmor -o "$toolkit_keyring" "$key"
  rm -f "$key"
fi
# NVIDIA's list line; $(ARCH) is apt's own substitution and stays literal.
echo "deb [signed-by=$toolkit_keyring] $toolkit_repo/\$(ARCH) /" | sudo tee "$toolkit_list" >/dev/null
# apt-get update takes no lock timeout: retried while the first boot's apt-daily run holds the lists lock.
tries=0
until apt_get update >&2; do
  tries=$((tries + 1))
  if [ "$tries" -ge "$apt_update_tries" ]; then
    echo "$node: apt-get update kept failing for $((apt_update_tries * apt_update_seconds))s" >&2
    exit 1
  fi
  sleep "$apt_update_seconds"
done
# DKMS builds the module against the newest kernel with headers: install that kernel and its
# headers (the virtual flavour has no nouveau), so the reboot below lands on a kernel with the module.
# The toolkit at its pinned version (--allow-downgrades: a lowered pin is a deliberate rollback).
set --
for p in $toolkit_packages; do set -- "$@" "$p=$toolkit_version"; done
apt_get install -y --allow-downgrades linux-image-virtual linux-headers-virtual "$pkg" "$@" >&2

if gpu_visible; then
  echo "$node: the driver is loaded; no reboot needed"
  exit 0
fi
echo "$node: rebooting to load the NVIDIA driver" >&2
# The reboot is scheduled first: if that fails, the script stops here with sshd still running
# (stopping sshd first would leave a VM no step can reach until someone reboots it by hand).
sudo systemd-run --on-active=5 --timer-property=AccuracySec=1s systemctl reboot
# ssh.socket first (Ubuntu 24.04 socket-activates sshd), so nothing restarts the daemon.
sudo systemctl stop ssh.socket 2>/dev/null || true
sudo systemctl stop ssh.service
echo "$node: reboot scheduled"
