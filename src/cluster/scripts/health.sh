# --- health.sh: waits until this node is healthy; when it is not, prints the unit's last log lines
# (k3s never logs its token) and fails ---
# Set above: node, role, unit, want_version (empty: any version).
node_version() {
  [ "$(kubectl get node "$node" --request-timeout=10s -o 'jsonpath={.status.nodeInfo.kubeletVersion}')" = "$want_version" ]
}
healthy() {
  if [ "$role" = agent ]; then
    wait_for "the kubelet on $node" curl -fsS --max-time 10 http://127.0.0.1:10248/healthz
    return
  fi
  wait_for "the API server on $node" kubectl get --raw /readyz --request-timeout=10s &&
    wait_for "node $node to register" kubectl get node "$node" --request-timeout=10s &&
    kubectl wait --for=condition=Ready "node/$node" --timeout="$((wait_tries * wait_seconds))s" >&2 &&
    { [ -z "$want_version" ] || wait_for "$node to report $want_version" node_version; }
}
if ! healthy; then
  echo "$node: $unit is not healthy; its last log lines:" >&2
  sudo journalctl -u "$unit" -n 40 --no-pager >&2 || true
  exit 1
fi
