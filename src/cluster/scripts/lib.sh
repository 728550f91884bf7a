# --- lib.sh: helpers every k3s step shares ---
# wait_for <what> <command...>: polls until the command succeeds, at most $wait_tries times,
# $wait_seconds apart; then fails naming what it waited for.
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

# kubectl through the node's own k3s. timeout(1) bounds every call, waits and drains included
# (kubectl's own --timeout applies per object and its requests have no deadline by default).
kubectl() { sudo timeout "$kubectl_bound" k3s kubectl "$@"; }

# fetch <url> <file>: a download that cannot hang (each try bounded, a few retries).
fetch() {
  curl -fsSL --retry 5 --retry-connrefused --connect-timeout 10 --max-time 300 -o "$2" "$1"
}
