#!/usr/bin/env bash
# Builds the Temporal CLI (dev server + Web UI) from its Go module into the cache, once per version.
# Prints the binary's path on stdout. Override: SHIPWATCH_TEMPORAL_CLI=/path/to/temporal.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -n "${SHIPWATCH_TEMPORAL_CLI:-}" ]]; then
  [[ -x "$SHIPWATCH_TEMPORAL_CLI" ]] || die "SHIPWATCH_TEMPORAL_CLI=$SHIPWATCH_TEMPORAL_CLI is not an executable file."
  echo "$SHIPWATCH_TEMPORAL_CLI"; exit 0
fi

dest="$SHIPWATCH_CACHE/temporal-cli-$TEMPORAL_CLI_VERSION"
bin="$dest/temporal"

build() {
  [[ -x "$bin" ]] && return 0
  require_cmd go "Install Go 1.22 or newer (https://go.dev/doc/install, or 'apt-get install golang'), or set SHIPWATCH_TEMPORAL_CLI to an existing temporal binary."
  local t0; t0=$(date +%s)
  progress "building Temporal CLI v$TEMPORAL_CLI_VERSION with 'go install' (first run only, about 5 minutes on 2 cores)…"
  local tmp; tmp=$(mktemp -d "$SHIPWATCH_CACHE/.temporal-cli-XXXXXX")
  CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod go install \
    -ldflags "-X github.com/temporalio/cli/temporalcli.Version=$TEMPORAL_CLI_VERSION" \
    "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" >&2
  mkdir -p "$dest"
  mv "$tmp/temporal" "$bin"
  rmdir "$tmp"
  progress "Temporal CLI v$TEMPORAL_CLI_VERSION built in $(elapsed "$t0"): $bin"
}
with_lock temporal-cli build
echo "$bin"
