#!/usr/bin/env bash
# End-to-end check of the local cluster (docs/local-cluster.md): brings up a throwaway cluster,
# runs a Deployment through a rolling update and an undo, completes and fails a Job, checks the
# chaos label keeps pods from becoming Ready, serves pod logs from a file, checks RBAC, and takes it
# down again. Prints one line per check and the measured up/down times.
#
# Usage: tools/kube/verify-cluster.sh [name]     (default name: verify)
set -euo pipefail
KUBE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLUSTER_SH="$KUBE_DIR/../cluster.sh"
name="${1:-verify}"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*" >&2; exit 1; }

t=$(now)
env_lines="$("$CLUSTER_SH" up "$name")"
up_time=$(since "$t")
trap '"$CLUSTER_SH" down "$name" >/dev/null 2>&1 || true' EXIT
KUBECONFIG="$(sed -n 's/^KUBECONFIG=//p' <<<"$env_lines")"
KUBECTL="$(sed -n 's/^KUBECTL=//p' <<<"$env_lines")"
POD_LOGS_DIR="$(sed -n 's/^POD_LOGS_DIR=//p' <<<"$env_lines")"
export KUBECONFIG
k() { "$KUBECTL" "$@"; }
ok "up in $up_time ($(k get nodes --no-headers | wc -l) nodes, $(k version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1))"

k create namespace verify >/dev/null
k -n verify create deployment web --image=example.com/web:1.0 --replicas=3 >/dev/null
t=$(now)
k -n verify rollout status deployment/web --timeout=60s >/dev/null || fail "deployment did not become ready"
ok "deployment 3/3 ready in $(since "$t")"

k -n verify set image deployment/web web=example.com/web:2.0 >/dev/null
t=$(now)
k -n verify rollout status deployment/web --timeout=60s >/dev/null || fail "rolling update did not complete"
[[ "$(k -n verify get deployment web -o jsonpath='{.status.updatedReplicas}/{.status.readyReplicas}')" == 3/3 ]] ||
  fail "after the update: $(k -n verify get deployment web --no-headers)"
ok "set image + rollout status: rolling update complete in $(since "$t")"

k -n verify rollout undo deployment/web >/dev/null
k -n verify rollout status deployment/web --timeout=60s >/dev/null || fail "rollout undo did not complete"
[[ "$(k -n verify get deployment web -o jsonpath='{.spec.template.spec.containers[0].image}')" == example.com/web:1.0 ]] ||
  fail "rollout undo did not restore the old image"
ok "rollout undo restored example.com/web:1.0"

# A Job's pod finishes only when annotated shipwatch.dev/exit-code (tools/kwok/job-stages.yaml).
k -n verify create job migrate --image=example.com/migrate:1.0 >/dev/null
pod=""
for _ in $(seq 50); do
  pod="$(k -n verify get pods -l job-name=migrate --field-selector=status.phase=Running -o name 2>/dev/null | head -1)"
  [[ -n $pod ]] && break
  sleep 0.2
done
[[ -n $pod ]] || fail "the job's pod did not start"
k -n verify annotate "$pod" shipwatch.dev/exit-code=0 >/dev/null
k -n verify wait --for=condition=complete job/migrate --timeout=60s >/dev/null || fail "job did not complete"
ok "job completed (pod annotated shipwatch.dev/exit-code=0)"

k -n verify apply -f - >/dev/null <<'EOF'
apiVersion: batch/v1
kind: Job
metadata: {name: migrate-bad}
spec:
  backoffLimit: 1
  template:
    metadata: {labels: {shipwatch.dev/chaos: fail}}
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: example.com/migrate:bad}]
EOF
k -n verify wait --for=condition=failed job/migrate-bad --timeout=60s >/dev/null || fail "chaos=fail job did not fail"
ok "job with shipwatch.dev/chaos=fail failed (BackoffLimitExceeded)"

# A bad release: the new pod template carries the chaos label; the rollout must not complete.
k -n verify patch deployment web --type merge -p '{"spec":{"progressDeadlineSeconds":15,"template":{"metadata":{"labels":{"shipwatch.dev/chaos":"crashloop"}},"spec":{"containers":[{"name":"web","image":"example.com/web:3.0-bad"}]}}}}' >/dev/null
if k -n verify rollout status deployment/web --timeout=40s >/dev/null 2>&1; then fail "bad release rolled out"; fi
sleep 12 # let the crash loop bump restartCount at least once
bad="$(k -n verify get pods -l shipwatch.dev/chaos=crashloop -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].restartCount}{"\n"}{end}')"
[[ -n $bad ]] && ! grep -qv '^False CrashLoopBackOff [1-9]' <<<"$bad" || fail "crashloop pods: $bad"
ok "chaos=crashloop: rollout stalls (progress deadline), pods not Ready: $(head -1 <<<"$bad")"
k -n verify rollout undo deployment/web >/dev/null
k -n verify rollout status deployment/web --timeout=60s >/dev/null || fail "undo of the bad release did not complete"
ok "rollout undo recovered from the bad release"

k -n verify run stuck --image=example.com/web:1.0 --labels=shipwatch.dev/chaos=not-ready >/dev/null
sleep 2
[[ "$(k -n verify get pod stuck -o jsonpath='{.status.phase} {.status.conditions[?(@.type=="Ready")].status}')" == "Running False" ]] ||
  fail "chaos=not-ready pod: $(k -n verify get pod stuck --no-headers)"
ok "chaos=not-ready: pod Running but never Ready"

printf '%s stdout F user-management started on :8080\n%s stderr F warn: cache cold\n' \
  "$(date -u +%FT%T.%NZ)" "$(date -u +%FT%T.%NZ)" >"$POD_LOGS_DIR/web.log"
k apply -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {name: verify-web}
spec:
  selector: {matchNamespaces: [verify]}
  logs:
  - containers: [web]
    logsFile: $POD_LOGS_DIR/web.log
EOF
logs=""
for _ in $(seq 25); do logs="$(k -n verify logs deployment/web 2>/dev/null)" && [[ -n $logs ]] && break; sleep 0.2; done
grep -q 'started on :8080' <<<"$logs" || fail "kubectl logs: '$logs'"
ok "kubectl logs served from $POD_LOGS_DIR/web.log"

k -n verify create serviceaccount reader >/dev/null
[[ "$(k auth can-i list pods -n verify --as=system:serviceaccount:verify:reader)" == no ]] || fail "RBAC is not enforced"
k -n verify create role pod-reader --verb=get,list --resource=pods >/dev/null
k -n verify create rolebinding reader --role=pod-reader --serviceaccount=verify:reader >/dev/null
[[ "$(k auth can-i list pods -n verify --as=system:serviceaccount:verify:reader)" == yes ]] || fail "rolebinding not honoured"
[[ "$(k auth can-i list pods -n default --as=system:serviceaccount:verify:reader)" == no ]] || fail "RBAC leak"
ok "RBAC enforced (service account allowed only what its Role grants)"

trap - EXIT
t=$(now)
"$CLUSTER_SH" down "$name" 2>/dev/null
ok "down in $(since "$t")"
