# --- reboot-check.sh: runs on a standalone VM; decides whether its settings changed ---
# The VM keeps the fingerprint of the settings it last booted with. A VM without one was just
# created (or predates this step): it runs with its settings already, so they are recorded only.
state=/var/lib/homelab-infra/vm-settings
recorded=$(sudo cat "$state" 2>/dev/null || true)
if [ "$mode" = create ] || [ -z "$recorded" ]; then
  printf '%s\n' "$fingerprint" | sudo install -D -m 644 /dev/stdin "$state"
  echo none
  exit 0
fi
if [ "$recorded" = "$fingerprint" ]; then
  echo none
  exit 0
fi
echo "$vm: settings changed ($recorded -> $fingerprint); a reboot applies them" >&2
printf '%s\n' "$fingerprint" | sudo install -D -m 644 /dev/stdin "$state"
echo "reboot $fingerprint"
