# --- bootstrap.sh: runs once in the life of the stack, on the server that may initialise etcd ---
# Set above: node, etc, peers (the other servers, https://ip:6443).
# It only leaves a marker: the join step initialises etcd on a node that has the marker and finds
# no server of the cluster answering. A VM rebuilt later has no marker and so always joins.
if command -v k3s >/dev/null 2>&1; then
  echo "$node: k3s already runs here; the cluster exists, nothing to bootstrap" >&2
  exit 0
fi
for url in $peers; do
  if curl -fsk --connect-timeout 5 --max-time 10 -o /dev/null "$url/cacerts"; then
    echo "$node: a server of the cluster answers at $url; nothing to bootstrap" >&2
    exit 0
  fi
done
echo "$node" | sudo install -D -m 600 -o root -g root /dev/stdin "$etc/homelab-bootstrap"
echo "$node may initialise the cluster"
