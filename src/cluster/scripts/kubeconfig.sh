# --- kubeconfig.sh: prints the admin kubeconfig once the API answers, every server is Ready at
# $version and the bundled CRDs exist; first renews its client certificate when it is near expiry ---
# Set above: servers, version, crds (names, space separated), renew_days.
server_version() {
  [ "$(kubectl get node "$1" --request-timeout=10s -o 'jsonpath={.status.nodeInfo.kubeletVersion}')" = "$version" ]
}

wait_for "the API server" kubectl get --raw /readyz --request-timeout=10s
for s in $servers; do
  kubectl wait --for=condition=Ready "node/$s" --timeout="$((wait_tries * wait_seconds))s" >&2
  wait_for "$s to report $version" server_version "$s"
done
for c in $crds; do
  wait_for "the $c CRD" kubectl get crd "$c" --request-timeout=10s
  kubectl wait --for=condition=Established "crd/$c" --timeout="$((wait_tries * wait_seconds))s" >&2
done

# The admin client certificate in k3s.yaml is valid for a year, and k3s renews it only when it
# starts within 90 days of its expiry. This step runs again on a schedule (the rotation trigger):
# when fewer than $renew_days days are left, rotate it now (k3s's documented stop, rotate, start),
# so the program always holds a certificate with months to go.
cert=/var/lib/rancher/k3s/server/tls/client-admin.crt
fresh() { sudo openssl x509 -in "$cert" -noout -checkend $((renew_days * 86400)) >/dev/null; }
if ! fresh; then
  echo "$(hostname): the admin client certificate expires within $renew_days days; rotating it" >&2
  sudo timeout 300 systemctl stop k3s
  sudo k3s certificate rotate --service admin >&2
  sudo systemctl start --no-block k3s
  wait_for "a renewed admin certificate" fresh
  wait_for "the API server after the certificate rotation" kubectl get --raw /readyz --request-timeout=10s
fi
sudo cat /etc/rancher/k3s/k3s.yaml
