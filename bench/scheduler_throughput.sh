#!/bin/bash
# Scheduler throughput by hand (not a timed test). Starts a server on a scratch data dir,
# creates fake Ready nodes, then:
#   burst  (default): creates the pods while every node is cordoned (all pending), then
#                     uncordons every node at once and times until all are bound;
#   stream:           nodes are schedulable; times creation and how far binding lags behind.
# Usage: NODES=100 PODS=10000 bench/scheduler_throughput.sh [burst|stream] [port] [debug|release]
# kubectl creates pods at well under 100/s, so creation itself takes minutes at 10,000 pods.
set -eu
NODES=${NODES:-20}; PODS=${PODS:-1000}
MODE=${1:-burst}; PORT=${2:-26443}; PROFILE=${3:-release}
BIN="$(cd "$(dirname "$0")/.." && pwd)/target/$PROFILE/onebin"
D=$(mktemp -d /tmp/onebin-sched-bench.XXXXXX)
"$BIN" server --data-dir "$D/data" --https-listen-port "$PORT" --bind-address 127.0.0.1 \
    --write-kubeconfig "$D/kubeconfig" > "$D/server.log" 2>&1 &
PID=$!
trap 'kill $PID; wait $PID 2>/dev/null; rm -rf "$D"' EXIT
K="kubectl --kubeconfig $D/kubeconfig"
until [ -f "$D/kubeconfig" ] && $K get --raw /readyz >/dev/null 2>&1; do sleep 0.2; done

cordoned=$([ "$MODE" = burst ] && echo true || echo false)
for i in $(seq -f '%03g' 1 "$NODES"); do cat <<YAML; done > "$D/nodes.yaml"
---
apiVersion: v1
kind: Node
metadata: {name: node-$i, labels: {kubernetes.io/hostname: node-$i}}
spec: {unschedulable: $cordoned}
status:
  allocatable: {cpu: "32", memory: 64Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
YAML
# Ten pretend ReplicaSets (shared controller owner references), 100m CPU each pod.
for i in $(seq 1 "$PODS"); do g=$((i % 10)); cat <<YAML; done > "$D/pods.yaml"
---
apiVersion: v1
kind: Pod
metadata:
  name: p-$i
  labels: {app: g$g}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: g$g, uid: 00000000-0000-0000-0000-00000000000$g, controller: true}]
spec: {containers: [{name: c, image: nginx, resources: {requests: {cpu: 100m, memory: 64Mi}}}]}
YAML
$K apply -f "$D/nodes.yaml" >/dev/null
bound() { $K get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c . || true; }
now() { date +%s.%N; }

# Four creators in parallel.
awk -v d="$D" -v p="$PODS" '/^---/{n++} {print > (d "/part-" int((n-1)/(p/4)) ".yaml")}' "$D/pods.yaml"
T0=$(now); CREATORS=""
for f in "$D"/part-*.yaml; do $K create -f "$f" >/dev/null & CREATORS="$CREATORS $!"; done
# shellcheck disable=SC2086 # one pid per word
wait $CREATORS
T1=$(now)
echo "created $PODS pods in $(echo "$T1 - $T0" | bc) s"
if [ "$MODE" = burst ]; then
    pending() { $K get pods -o jsonpath='{range .items[*]}{.status.conditions[0].reason}{"\n"}{end}' | grep -c Unschedulable || true; }
    until [ "$(pending)" = "$PODS" ]; do sleep 0.5; done
    for f in certificate-authority-data:ca client-certificate-data:crt client-key-data:key; do
        grep "${f%%:*}" "$D/kubeconfig" | awk '{print $2}' | base64 -d > "$D/${f##*:}"
    done
    T1=$(now)
    # Uncordon in parallel: kubectl uncordon goes node by node, which skews the spread.
    seq -f "node-%03g" 1 "$NODES" | xargs -P 20 -I{} curl -sS -o /dev/null --cacert "$D/ca" --cert "$D/crt" \
        --key "$D/key" -X PATCH -H 'Content-Type: application/merge-patch+json' \
        -d '{"spec":{"unschedulable":false}}' "https://127.0.0.1:$PORT/api/v1/nodes/{}"
fi
until [ "$(bound)" = "$PODS" ]; do sleep 0.1; done
T2=$(now)
echo "all $PODS bound $(echo "$T2 - $T1" | bc) s after $([ "$MODE" = burst ] && echo uncordon || echo creation finished) (polling included)"
first=$($K get events --field-selector reason=Scheduled -o jsonpath='{range .items[*]}{.firstTimestamp}{"\n"}{end}' | sort | sed -n '1p;$p' | tr '\n' ' ')
echo "first and last Scheduled event: $first"
$K get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort | uniq -c | awk '{print $1}' | sort -n | uniq -c |
    awk '{print "  " $1 " node(s) with " $2 " pods"}'
