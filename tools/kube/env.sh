#!/usr/bin/env bash
# Where tools/build-kube.sh caches the local control-plane binaries; sourced by it and by
# tools/cluster.sh (after tools/lib.sh) so both agree on the paths. Source it; do not run it.

# shellcheck disable=SC2034 # used by the scripts that source this file
KUBE_BIN_DIR="$SHIPWATCH_CACHE/kube-$KUBE_VERSION/bin"
ETCD_BIN_DIR="$SHIPWATCH_CACHE/etcd-$ETCD_VERSION/bin"
KWOK_BIN_DIR="$SHIPWATCH_CACHE/kwok-$KWOK_VERSION/bin"
# kwok's own default Stages (exported from the module source by build-kube.sh), see cluster.sh.
KWOK_DEFAULT_STAGES="$SHIPWATCH_CACHE/kwok-$KWOK_VERSION/stages/default.yaml"
KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
ETCD_BINARIES=(etcd etcdctl)
KWOK_BINARIES=(kwok kwokctl)

# binaries_present DIR NAME...: true when DIR holds every NAME as an executable and the build
# that produced them finished (the .complete stamp is written last).
binaries_present() {
  local dir=$1; shift
  [[ -f $dir/../.complete ]] || return 1
  local name
  for name in "$@"; do [[ -x $dir/$name ]] || return 1; done
}
