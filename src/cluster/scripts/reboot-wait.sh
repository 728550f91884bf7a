# --- reboot-wait.sh: runs on a control server after the node's reboot; uncordons it ---
# stdin: "reboot <boot ID before the reboot>" or "none". The node is back when it reports another
# boot ID and is Ready (a server: its own API server answers too); only then is it uncordoned and
# the chain moves on to the next node. "drained <boot ID>" (the GPU driver steps: drained, but the
# install needed no reboot) skips the boot wait. A third word "cordoned-before" leaves the node
# cordoned: this program did not cordon it. With $record_key set (GpuNode), the node is annotated
# $record_key=$record_value once it is back, or at once when there was nothing to do.
kubectl() { sudo timeout "$kubectl_bound" k3s kubectl "$@"; }
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
# The polled reads give up after 10 s each (a stalled API server is one failed try, not a hang).
booted() {
  id=$(kubectl get node "$node" --request-timeout=10s -o 'jsonpath={.status.nodeInfo.bootID}')
  [ -n "$id" ] && [ "$id" != "$old_boot" ]
}
ready() { [ "$(kubectl get node "$node" --request-timeout=10s -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
api_ready() { kubectl --server "https://$node_ip:6443" --request-timeout=10s get --raw /readyz; }

record() {
  [ -z "${record_key:-}" ] || kubectl annotate node "$node" --overwrite "$record_key=${record_value:-}" >&2
}

decision=none
old_boot=
cordon=
read -r decision old_boot cordon || true
case $decision in
reboot | drained) ;;
*)
  record
  echo none
  exit 0
  ;;
esac
ok=true
[ "$decision" = drained ] || wait_for "$node to boot again" booted || ok=false
[ "$ok" = false ] || wait_for "$node to be Ready" ready || ok=false
if [ "$ok" = true ] && [ "$role" = server ]; then
  wait_for "the API server on $node" api_ready || ok=false
fi
if [ "$ok" = false ]; then
  echo "$node did not come back healthy after its reboot; it stays cordoned. Its conditions:" >&2
  kubectl get node "$node" -o 'jsonpath={range .status.conditions[*]}{.type}={.status} {.message}{"\n"}{end}' >&2 || true
  exit 1
fi
if [ "$cordon" = cordoned-before ]; then
  echo "$node was cordoned before this program drained it; it stays cordoned" >&2
else
  kubectl uncordon "$node" >&2
fi
kubectl annotate node "$node" "$rebooting_key-" >&2
record
if [ "$decision" = drained ]; then echo "$node drained and Ready"; else echo "$node rebooted and Ready"; fi
