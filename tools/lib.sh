#!/usr/bin/env bash
# Shared helpers for the tool build scripts: the cache location, progress lines, toolchain checks.
# Source it; do not run it.
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$TOOLS_DIR/versions.env"
SHIPWATCH_CACHE="${SHIPWATCH_CACHE:-$HOME/.cache/shipwatch}"
mkdir -p "$SHIPWATCH_CACHE"

progress() { printf '[shipwatch tools] %s\n' "$*" >&2; }
die() { printf '[shipwatch tools] error: %s\n' "$*" >&2; exit 1; }

# require_cmd NAME HOW_TO_GET_IT: fail with a sentence naming the missing toolchain.
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH. $2"
}

# with_lock NAME CMD...: run CMD holding an exclusive lock, so two parallel builds of one tool
# (two test files starting at once) wait for each other instead of both writing the cache.
with_lock() {
  local name=$1; shift
  mkdir -p "$SHIPWATCH_CACHE/.locks"
  (
    flock -x 9
    # 9>&-: commands started here (daemons especially) must not inherit the lock's descriptor, or
    # they would hold the lock for as long as they live.
    "$@" 9>&-
  ) 9>"$SHIPWATCH_CACHE/.locks/$name.lock"
}

# elapsed SECONDS_SINCE: human-readable build time for progress lines.
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }
