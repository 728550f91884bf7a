# --- reboot-drain.sh: runs on a control server; decides whether a node must reboot, drains it ---
# The Node object keeps the fingerprint of the VM settings the node last booted with
# ($settings_key). A node without one just joined (or predates this step): it runs with its
# settings already, so they are recorded only. A change is drained before the reboot; the
# fingerprint is recorded once the drain is done, with the boot ID the reboot must replace
# ($rebooting_key), so a run that stops half-way resumes the same reboot. A node that was cordoned
# before this step stays cordoned afterwards: the decision (and the record) then ends in
# "cordoned-before".
# The GPU driver steps (GpuNode) use it too, with $unregistered=none: a node that never joined has
# nothing to drain (the default waits for the node to register).
kubectl() { sudo timeout "$kubectl_bound" k3s kubectl "$@"; }
annotation() { kubectl get node "$node" -o "jsonpath={.metadata.annotations.$1}"; }

if [ "${unregistered:-wait}" = none ]; then
  # Only a Node that does not exist is "not registered": an API that does not answer fails the
  # step here (set -e stops at a failed assignment), it never skips a drain.
  registered=$(kubectl get node "$node" --ignore-not-found -o name)
  if [ -z "$registered" ]; then
    echo "$node is not registered in the cluster: nothing to drain" >&2
    echo none
    exit 0
  fi
fi
tries=0
until kubectl get node "$node" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge "$wait_tries" ]; then
    echo "timed out after $((wait_tries * wait_seconds))s waiting for node $node to register" >&2
    exit 1
  fi
  sleep "$wait_seconds"
done

recorded=$(annotation "$settings_key")
pending=$(annotation "$rebooting_key")
if [ "$mode" = create ] || [ -z "$recorded" ]; then
  kubectl annotate node "$node" --overwrite "$settings_key=$fingerprint" >&2
  echo none
  exit 0
fi
if [ "$recorded" = "$fingerprint" ]; then
  if [ -n "$pending" ]; then
    echo "$node: resuming the reboot for settings $fingerprint" >&2
    echo "reboot $pending"
  else
    echo none
  fi
  exit 0
fi

boot_id=$(kubectl get node "$node" -o 'jsonpath={.status.nodeInfo.bootID}')
ready=$(kubectl get node "$node" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')
# Someone else's cordon (maintenance by hand) is theirs to lift: the wait step leaves it. A reboot
# this step started and did not finish ($pending) cordoned the node itself: its record says whose
# cordon it is.
own=
if [ -n "$pending" ]; then
  case $pending in *" cordoned-before") own=" cordoned-before" ;; esac
elif [ "$(kubectl get node "$node" -o 'jsonpath={.spec.unschedulable}')" = true ]; then
  own=" cordoned-before"
fi
echo "$node: ${what:-VM settings} changed ($recorded -> $fingerprint); cordon and drain before its reboot" >&2
kubectl cordon "$node" >&2
if [ "$ready" != True ]; then
  # No kubelet to confirm evictions: a drain would only time out. The reboot may well fix it.
  echo "$node is not Ready; rebooting it without a drain" >&2
elif ! kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout="$drain_timeout" >&2; then
  echo "draining $node did not finish within $drain_timeout (a PodDisruptionBudget may block it); it stays cordoned: resolve it and run pulumi up again" >&2
  exit 1
fi
kubectl annotate node "$node" --overwrite "$settings_key=$fingerprint" "$rebooting_key=${boot_id:-unknown}$own" >&2
echo "reboot ${boot_id:-unknown}$own"
