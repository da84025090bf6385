#!/usr/bin/env bash
# Builds the local Kubernetes control plane from Go modules at the versions pinned in
# tools/versions.env and caches the binaries outside the repository:
#   $SHIPWATCH_CACHE/kube-$KUBE_VERSION/bin/  kube-apiserver kube-controller-manager kube-scheduler kubectl
#   $SHIPWATCH_CACHE/etcd-$ETCD_VERSION/bin/  etcd etcdctl
#   $SHIPWATCH_CACHE/kwok-$KWOK_VERSION/bin/  kwok kwokctl
# A cached version is never rebuilt, so a warm run returns at once. A cold run on 2 cores takes
# about 19 minutes (13 of them the Kubernetes binaries); figures in docs/local-cluster.md.
#
# Usage: tools/build-kube.sh [--print-paths]
#   --print-paths   after building, print KEY=VALUE lines (KUBE_BIN_DIR, ETCD_BIN_DIR, KWOK_BIN_DIR)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=kube/env.sh
source "$TOOLS_DIR/kube/env.sh"

print_paths=false
case "${1:-}" in
  "") ;;
  --print-paths) print_paths=true ;;
  -h | --help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: tools/build-kube.sh [--print-paths])" ;;
esac

# Never let `go` fetch another toolchain; static binaries so they run anywhere on this machine.
export GOTOOLCHAIN=local CGO_ENABLED=0

require_go() {
  require_cmd go "Install Go >= 1.26 (https://go.dev/dl/) and put it on PATH; the Kubernetes control plane is built from source."
  local v
  v="$(go env GOVERSION)"
  [[ $v =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 26)) ||
    die "Go $v is too old: k8s.io/kubernetes@$KUBE_VERSION and kwok@$KWOK_VERSION need Go >= 1.26."
}

# go_build_with_progress LABEL LOG CMD...: run a go build/install with -v output going to LOG, and
# print one progress line every 30 s (packages compiled so far) so a long cold build is visibly alive.
go_build_with_progress() {
  local label=$1 log=$2; shift 2
  local start; start=$(date +%s)
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null &&
      progress "$label: still building, $(grep -c . "$log" || true) packages compiled, $(elapsed "$start")"
  done
  if ! wait "$pid"; then
    tail -n 30 "$log" >&2
    die "$label: build failed after $(elapsed "$start") (full log: $log)"
  fi
  progress "$label: built in $(elapsed "$start")"
}

# install_built TMPDIR FINALDIR: move a finished build into place and stamp it complete.
install_built() {
  local tmp=$1 final=$2
  date -u +%FT%TZ >"$tmp/.complete"
  rm -rf "$final"
  mv "$tmp" "$final"
}

build_kube() {
  binaries_present "$KUBE_BIN_DIR" "${KUBE_BINARIES[@]}" && return 0
  grep -q "k8s.io/kubernetes@$KUBE_VERSION;" "$TOOLS_DIR/kube/go.mod" ||
    die "tools/kube/go.mod was not generated for KUBE_VERSION=$KUBE_VERSION: run tools/kube/gen-gomod.sh and commit go.mod/go.sum"
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  # The release's commit time, from the module proxy, stands in for the build date (reproducible).
  local build_date
  build_date="$(cd "$TOOLS_DIR/kube" && go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
  local ldflags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=${build_date:-1970-01-01T00:00:00Z}"
  done
  local final="$SHIPWATCH_CACHE/kube-$KUBE_VERSION" tmp
  rm -rf "$final".tmp.* # left by an interrupted build; we hold the lock
  tmp="$(mktemp -d "$final.tmp.XXXXXX")"
  progress "kube $KUBE_VERSION: building ${KUBE_BINARIES[*]} (cold: 13 min on 2 busy cores, with module downloads)"
  (cd "$TOOLS_DIR/kube" && go_build_with_progress "kube $KUBE_VERSION" "$tmp/build.log" \
    go build -v -trimpath -ldflags "$ldflags" -o "$tmp/bin/" \
    "${KUBE_BINARIES[@]/#/k8s.io/kubernetes/cmd/}")
  install_built "$tmp" "$final"
}

build_etcd() {
  binaries_present "$ETCD_BIN_DIR" "${ETCD_BINARIES[@]}" && return 0
  grep -q "go.etcd.io/etcd/server/v3@$ETCD_VERSION;" "$TOOLS_DIR/etcd/go.mod" ||
    die "tools/etcd/go.mod was not generated for ETCD_VERSION=$ETCD_VERSION: run tools/etcd/gen-gomod.sh and commit go.mod/go.sum"
  local final="$SHIPWATCH_CACHE/etcd-$ETCD_VERSION" tmp
  rm -rf "$final".tmp.* # left by an interrupted build; we hold the lock
  tmp="$(mktemp -d "$final.tmp.XXXXXX")"
  progress "etcd $ETCD_VERSION: building ${ETCD_BINARIES[*]}"
  mkdir -p "$tmp/bin"
  (cd "$TOOLS_DIR/etcd" &&
    go_build_with_progress "etcd $ETCD_VERSION" "$tmp/build.log" \
      go build -v -trimpath -ldflags "-s -w" -o "$tmp/bin/etcd" go.etcd.io/etcd/server/v3 &&
    go_build_with_progress "etcdctl $ETCD_VERSION" "$tmp/build-etcdctl.log" \
      go build -v -trimpath -ldflags "-s -w" -o "$tmp/bin/etcdctl" go.etcd.io/etcd/etcdctl/v3)
  install_built "$tmp" "$final"
}

build_kwok() {
  binaries_present "$KWOK_BIN_DIR" "${KWOK_BINARIES[@]}" && [[ -f $KWOK_DEFAULT_STAGES ]] && return 0
  local final="$SHIPWATCH_CACHE/kwok-$KWOK_VERSION" tmp
  rm -rf "$final".tmp.* # left by an interrupted build; we hold the lock
  tmp="$(mktemp -d "$final.tmp.XXXXXX")"
  progress "kwok $KWOK_VERSION: building ${KWOK_BINARIES[*]}"
  # go install pkg@version builds outside any module, at exactly the tagged go.mod/go.sum.
  (cd "$tmp" && export GOBIN="$tmp/bin" && go_build_with_progress "kwok $KWOK_VERSION" "$tmp/build.log" \
    go install -v -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION")
  export_default_stages "$tmp/stages/default.yaml"
  install_built "$tmp" "$final"
}

# export_default_stages FILE: write the Stages kwokctl uses when given none (node-initialize,
# node-heartbeat-with-lease, pod-ready, pod-complete, pod-delete) from the kwok module source.
# tools/cluster.sh passes them together with the chaos stages, because any Stage config given to
# kwokctl replaces its defaults. Read from the pinned module, so they match the kwok we run.
export_default_stages() {
  local out=$1 dir
  dir="$(cd /tmp && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  [[ -d $dir/kustomize/stage ]] || die "kwok $KWOK_VERSION: no kustomize/stage in the module source ($dir)"
  mkdir -p "$(dirname "$out")"
  local f first=true
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [[ -f $dir/kustomize/stage/$f ]] || die "kwok $KWOK_VERSION: default stage $f not found in $dir"
    $first || echo "---"
    first=false
    cat "$dir/kustomize/stage/$f"
  done >"$out"
}

start=$(date +%s)
if ! binaries_present "$KWOK_BIN_DIR" "${KWOK_BINARIES[@]}" || [[ ! -f $KWOK_DEFAULT_STAGES ]] ||
  ! binaries_present "$ETCD_BIN_DIR" "${ETCD_BINARIES[@]}" ||
  ! binaries_present "$KUBE_BIN_DIR" "${KUBE_BINARIES[@]}"; then
  require_go
  with_lock "kwok-$KWOK_VERSION" build_kwok
  with_lock "etcd-$ETCD_VERSION" build_etcd
  with_lock "kube-$KUBE_VERSION" build_kube
  progress "control plane ready in $(elapsed "$start"): kube $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION"
fi

if $print_paths; then
  printf 'KUBE_BIN_DIR=%s\nETCD_BIN_DIR=%s\nKWOK_BIN_DIR=%s\n' "$KUBE_BIN_DIR" "$ETCD_BIN_DIR" "$KWOK_BIN_DIR"
fi
