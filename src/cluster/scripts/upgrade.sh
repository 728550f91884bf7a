# --- upgrade.sh: brings an installed k3s to $version (never down, one minor version at a time) ---
# Set above: node, role, unit, version, installer_url.
current=$(k3s --version 2>/dev/null | sed -n '1s/^k3s version \([^ ]*\).*$/\1/p')
if [ -z "$current" ]; then
  echo "$node: k3s is not installed; its join step installs it" >&2
  exit 1
fi
# release_key v1.34.2+k3s1 -> 1.34.2.1: the four numbers a release is ordered by.
release_key() { echo "$1" | sed 's/^v//; s/+k3s/./; s/[^0-9.].*$//'; }
# older A B: true when release A is older than release B (major, minor, patch, then k3s revision).
older() {
  a=$(release_key "$1")
  b=$(release_key "$2")
  [ "$a" != "$b" ] && [ "$(printf '%s\n%s\n' "$a" "$b" | sort -t. -k1,1n -k2,2n -k3,3n -k4,4n | head -n 1)" = "$a" ]
}
if [ "$current" != "$version" ]; then
  # Kubernetes supports moving one minor version at a time, and k3s never back, not even a patch
  # release or a k3s revision (the datastore and manifests may already be the newer ones).
  if older "$version" "$current"; then
    echo "$node: k3s $current cannot be downgraded to $version; pin $current or newer" >&2
    exit 1
  fi
  current_minor=$(release_key "$current" | cut -d. -f2)
  target_minor=$(release_key "$version" | cut -d. -f2)
  if [ "$target_minor" -gt $((current_minor + 1)) ]; then
    echo "$node: k3s $current to $version skips a minor version; upgrade one minor version at a time" >&2
    exit 1
  fi
  echo "$node: upgrading k3s from $current to $version" >&2
  installer=$(mktemp)
  trap 'rm -f "$installer"' EXIT
  fetch "$installer_url" "$installer"
  # The installer's own restart blocks for ever on a unit that cannot start (TimeoutStartSec=0):
  # install only, restart without blocking, and let the bounded health wait below decide.
  sudo env INSTALL_K3S_VERSION="$version" INSTALL_K3S_EXEC="$role" INSTALL_K3S_SKIP_START=true sh "$installer" >&2
  sudo systemctl restart --no-block "$unit"
fi
