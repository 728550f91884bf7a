# --- remove.sh: removes node $node from the cluster before its VM goes: drain, then delete the
# Node object (which also removes a server's etcd member). Runs on a server other than the node ---
# Set above: node, role, drain_timeout.
if ! command -v k3s >/dev/null 2>&1; then
  echo "k3s is not installed on $(hostname); no cluster to remove $node from" >&2
  exit 0
fi
if ! wait_for "the API server on $(hostname)" kubectl get --raw /readyz --request-timeout=10s; then
  echo "cannot reach the Kubernetes API to remove node $node; fix the server and run pulumi up again" >&2
  exit 1
fi
if [ -z "$(kubectl get node "$node" --ignore-not-found -o name)" ]; then
  echo "node $node is not in the cluster" >&2
  exit 0
fi
if [ "$role" = server ]; then
  servers=$(kubectl get nodes -l node-role.kubernetes.io/control-plane=true -o name | wc -l)
  if [ "$servers" -le 1 ]; then
    echo "$node is the last server; leaving it (the cluster is being torn down)" >&2
    exit 0
  fi
fi
# A node that is not Ready (often why it is being removed) has no kubelet to confirm evictions: a
# drain would only time out. Its pods are rescheduled once its Node object is gone.
ready=$(kubectl get node "$node" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')
if [ "$ready" != True ]; then
  echo "node $node is not Ready; deleting it without a drain" >&2
elif ! kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout="$drain_timeout" >&2; then
  echo "draining $node did not finish within $drain_timeout (a PodDisruptionBudget may block it); resolve it and run pulumi up again" >&2
  exit 1
fi
# Bounded: finalizers (e.g. a volume still detaching) must not hang the removal forever.
kubectl delete node "$node" --timeout=120s >&2
echo "node $node removed"
