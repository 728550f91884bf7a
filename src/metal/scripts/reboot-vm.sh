# --- reboot-vm.sh: runs on the Proxmox node that hosts the VM, as root or with sudo ---
# stdin: the decision of the step before it, "reboot <token>" or "none". A Proxmox reboot (shut the
# guest down, start it again) is what applies pending hardware changes: a reboot from inside the
# guest keeps the same QEMU process and the old CPU, memory and devices.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
vm_running() { [ "$(as_root qm status "$vmid")" = "status: running" ]; }
wait_for() {
  what=$1
  shift
  tries=0
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge "$wait_tries" ]; then
      echo "timed out after $((wait_tries * wait_seconds))s waiting for $what" >&2
      return 1
    fi
    sleep "$wait_seconds"
  done
}

decision=none
token=
read -r decision token || true
if [ "$decision" != reboot ]; then
  echo "$vm (VM $vmid): its settings need no reboot" >&2
  echo none
  exit 0
fi
if vm_running; then
  echo "$vm (VM $vmid): rebooting through Proxmox so its pending settings apply" >&2
  # Bounded: qm waits up to shutdown_timeout for the guest, then fails (it never kills the guest).
  as_root timeout $((shutdown_timeout + 60)) qm reboot "$vmid" --timeout "$shutdown_timeout" >&2
else
  echo "$vm (VM $vmid) is not running; starting it" >&2
  as_root timeout 300 qm start "$vmid" >&2
fi
# qmeventd starts the VM again once the shutdown half is done.
wait_for "VM $vmid ($vm) to run again" vm_running
echo "reboot $token"
