# --- join.sh: installs k3s on this VM and joins it to the cluster, or keeps it as it is ---
# Set above: node, role, unit, other_unit, other_desc, role_desc, version, installer_url, etc,
# peers (the servers it may join through, https://ip:6443, space separated), restore (a snapshot
# name, or empty).
config=$etc/config.yaml
# The join target lives in a drop-in k3s reads after config.yaml: it is chosen here, at the first
# install, from the servers that answer, so config.yaml (compared below to decide on a restart)
# never names one server and no restart follows when the servers change.
join_file=$etc/config.yaml.d/90-homelab-join.yaml
# Written once in the stack's life by the bootstrap step, on the server that may initialise etcd.
marker=$etc/homelab-bootstrap

# first_peer: the first server in $peers whose supervisor answers (k3s serves /cacerts to anyone).
first_peer() {
  for url in $peers; do
    if curl -fsk --connect-timeout 5 --max-time 10 -o /dev/null "$url/cacerts"; then
      echo "$url"
      return 0
    fi
  done
  return 1
}

# write_root <file>: stdin to a root-only file.
write_root() { sudo install -D -m 600 -o root -g root /dev/stdin "$1"; }

# A role changed in the config arrives here as an update on a node k3s already runs on in the other
# role: stop before touching it (a drain, an uninstall and a fresh join are needed, in that order).
if systemctl cat "$other_unit.service" >/dev/null 2>&1; then
  echo "$node: k3s runs here as $other_desc; a node cannot change role in place. Remove it from the stack, run pulumi up, then add it back as $role_desc" >&2
  exit 1
fi

installed=false
if command -v k3s >/dev/null 2>&1; then installed=true; fi

write_root "$config.next"
if [ "$installed" = true ] && ! sudo test -e "$join_file"; then
  # Installed by an earlier version of this program, whose config.yaml carried the join target.
  # Moving those lines to the drop-in changes nothing k3s sees, so the move alone restarts nothing.
  sudo grep -E '^(server|cluster-init):' "$config" | write_root "$join_file" || true
  sudo grep -vE '^(server|cluster-init):' "$config" | write_root "$config.moved" || true
  sudo mv -f "$config.moved" "$config"
fi
if sudo cmp -s "$config.next" "$config"; then
  sudo rm -f "$config.next"
  changed=false
else
  sudo mv -f "$config.next" "$config"
  changed=true
fi

if [ "$installed" = false ]; then
  if target=$(first_peer); then
    if [ -n "$restore" ]; then
      echo "$node: cluster.etcdRestore names this server, but a server of the cluster answers at $target: a restore would start a second cluster beside it. Remove cluster.etcdRestore to join the running cluster" >&2
      exit 1
    fi
    echo "$node: joining the cluster through $target" >&2
    printf 'server: %s\n' "$target" | write_root "$join_file"
  elif [ "$role" = server ] && [ -n "$restore" ]; then
    echo "$node: no server of the cluster answers; restoring the cluster on this server" >&2
  elif [ "$role" = server ] && sudo test -e "$marker"; then
    echo "$node: no server of the cluster answers; this server initialises it" >&2
    printf 'cluster-init: true\n' | write_root "$join_file"
  else
    echo "$node: no server of the cluster answers (tried: ${peers:-none}) and this node did not bootstrap it, so it cannot join. Start a server of the cluster and run pulumi up again; if every server is lost, restore one from a snapshot (cluster.etcdRestore)" >&2
    exit 1
  fi
  echo "$node: installing k3s $version ($role)" >&2
  installer=$(mktemp)
  trap 'rm -f "$installer"' EXIT
  fetch "$installer_url" "$installer"
  # Install only: the unit the installer writes waits for ever (TimeoutStartSec=0), so it is started
  # without blocking below and the bounded health wait decides.
  if [ -z "$restore" ]; then
    sudo env INSTALL_K3S_VERSION="$version" INSTALL_K3S_EXEC="$role" INSTALL_K3S_SKIP_START=true sh "$installer" >&2
  else
    # Not even enabled until the restore succeeded: a half-done reset must never boot into a new,
    # empty cluster. k3s reads config.yaml (token, etcd-s3-*) and exits once etcd holds the
    # snapshot, with this server its only member.
    sudo env INSTALL_K3S_VERSION="$version" INSTALL_K3S_EXEC="$role" INSTALL_K3S_SKIP_START=true INSTALL_K3S_SKIP_ENABLE=true sh "$installer" >&2
    echo "$node: restoring etcd from snapshot $restore" >&2
    sudo timeout "$restore_bound" k3s server --cluster-reset --cluster-reset-restore-path="$restore" >&2
    printf 'cluster-init: true\n' | write_root "$join_file"
    sudo systemctl enable "$unit" >&2
  fi
  sudo systemctl start --no-block "$unit"
else
  # The server the drop-in names left the stack: name one that is still there. It matters only at
  # k3s's next start (a joined node keeps its own etcd data and its agent's server list), so
  # nothing restarts for it.
  current=$(sudo sed -n "s/^server: *[\"']\{0,1\}\([^\"']*\).*$/\1/p" "$join_file" 2>/dev/null || true)
  if [ -n "$current" ]; then
    case " $peers " in
      *" $current "*) ;;
      *)
        if target=$(first_peer); then
          printf 'server: %s\n' "$target" | write_root "$join_file"
          echo "$node: $current left the stack; k3s rejoins through $target when it next starts" >&2
        fi
        ;;
    esac
  fi
  if [ "$changed" = true ]; then
    echo "$node: config.yaml changed; restarting $unit" >&2
    sudo systemctl restart --no-block "$unit"
  elif ! systemctl is-active --quiet "$unit"; then
    echo "$node: $unit was not running; starting it" >&2
    sudo systemctl start --no-block "$unit"
  fi
fi
