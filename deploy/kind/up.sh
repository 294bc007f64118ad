#!/usr/bin/env bash
# page-stats on a local kind cluster: creates the cluster (once), builds the image, loads it into
# the cluster, applies deploy/k8s/overlays/kind and waits until everything runs.
# Needs docker, kind (v0.33, whose node image deploy/kind/cluster.yaml pins) and kubectl.
# Re-run it after a code change: it rebuilds and rolls out.
#   KIND_CLUSTER_NAME   cluster name (default page-stats)
#   METRICS_SERVER=1    also install metrics-server, which the ingest HPA needs to scale
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cluster=${KIND_CLUSTER_NAME:-page-stats}
namespace=page-stats
kubectl=(kubectl --context "kind-$cluster")

for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || { echo "up.sh: $tool is required" >&2; exit 1; }
done

existed=false
if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  existed=true
else
  kind create cluster --name "$cluster" --config deploy/kind/cluster.yaml --wait 180s
fi

docker build -t page-stats:dev .
# Through an archive: loading the image straight from Docker fails where Docker keeps images in
# containerd's image store (newer Docker installs do).
archive=$(mktemp --suffix=.tar)
trap 'rm -f "$archive"' EXIT
docker save -o "$archive" page-stats:dev
kind load image-archive "$archive" --name "$cluster"
rm -f "$archive"

if [[ ${METRICS_SERVER:-0} == 1 ]]; then
  "${kubectl[@]}" apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml
  # kind's kubelets have self-signed certificates
  "${kubectl[@]}" -n kube-system patch deployment metrics-server --type=json \
    -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]' || true
fi

# A Job's pod template cannot change: remove the last release's migration so this one runs.
"${kubectl[@]}" -n "$namespace" delete job migrate --ignore-not-found --wait=true 2>/dev/null || true
"${kubectl[@]}" apply -k deploy/k8s/overlays/kind

if [[ $existed == true ]]; then
  # Same tag, new build: start new pods so they run the image just loaded.
  "${kubectl[@]}" -n "$namespace" rollout restart deployment/ingest-service deployment/processing-service deployment/nginx
fi

echo "up.sh: waiting for Kafka, InfluxDB and PostgreSQL"
"${kubectl[@]}" -n "$namespace" rollout status statefulset/kafka --timeout=10m
"${kubectl[@]}" -n "$namespace" rollout status deployment/influxdb --timeout=5m
"${kubectl[@]}" -n "$namespace" rollout status deployment/postgres --timeout=5m
echo "up.sh: waiting for the migration"
# `page-stats migrate` waits for PostgreSQL and Kafka itself, so a failed run is a real error (a
# wrong password, a topic it cannot create): stop at the first one and show why.
deadline=$((SECONDS + 600))
while :; do
  state=$("${kubectl[@]}" -n "$namespace" get job/migrate -o jsonpath='{.status.succeeded}/{.status.failed}')
  IFS=/ read -r succeeded failed <<<"$state"
  if [[ ${succeeded:-0} -ge 1 ]]; then break; fi
  if [[ ${failed:-0} -ge 1 || $SECONDS -ge $deadline ]]; then
    if [[ ${failed:-0} -ge 1 ]]; then echo "up.sh: the migration failed:" >&2; else echo "up.sh: the migration did not finish in 10 minutes:" >&2; fi
    "${kubectl[@]}" -n "$namespace" logs job/migrate --tail=50 >&2 || true
    exit 1
  fi
  sleep 2
done
echo "up.sh: waiting for ingest, processing and nginx"
for deployment in ingest-service processing-service nginx; do
  "${kubectl[@]}" -n "$namespace" rollout status "deployment/$deployment" --timeout=5m
done

cat <<DONE

page-stats runs on kind cluster "$cluster":
  dashboard   http://localhost:8080/            password: kind-dev-password
  tracker     <script defer src="http://localhost:8080/tracker.js"></script>
  scripts     curl -H 'Authorization: Bearer kind-dev-admin-token-0123456789' http://localhost:8080/aggregated-data/region-daily
  status      kubectl --context kind-$cluster -n $namespace get pods
  remove      kind delete cluster --name $cluster
DONE
