#!/usr/bin/env bash
# Builds the Temporal server and its SQL schema tool (the production shape: Temporal on PostgreSQL)
# from the Go module go.temporal.io/server into the cache, once per version, and copies the module's
# PostgreSQL schema next to them. TEMPORAL_SERVER_VERSION is the version the dev server of
# TEMPORAL_CLI_VERSION embeds (its go.mod), so both run the same server code.
# Prints the server binary's path on stdout; the directory holds:
#   temporal-server, temporal-sql-tool, schema/postgresql/v12/{temporal,visibility}/versioned
# Override: SHIPWATCH_TEMPORAL_SERVER_DIR=/dir/with/that/layout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -n "${SHIPWATCH_TEMPORAL_SERVER_DIR:-}" ]]; then
  [[ -x "$SHIPWATCH_TEMPORAL_SERVER_DIR/temporal-server" && -x "$SHIPWATCH_TEMPORAL_SERVER_DIR/temporal-sql-tool" ]] ||
    die "SHIPWATCH_TEMPORAL_SERVER_DIR=$SHIPWATCH_TEMPORAL_SERVER_DIR must hold executable temporal-server and temporal-sql-tool."
  echo "$SHIPWATCH_TEMPORAL_SERVER_DIR/temporal-server"; exit 0
fi

dest="$SHIPWATCH_CACHE/temporal-server-$TEMPORAL_SERVER_VERSION"
bin="$dest/temporal-server"
module="go.temporal.io/server@v$TEMPORAL_SERVER_VERSION"

build() {
  [[ -x "$bin" && -x "$dest/temporal-sql-tool" && -d "$dest/schema" ]] && return 0
  require_cmd go "Install Go 1.25 or newer (https://go.dev/doc/install), or set SHIPWATCH_TEMPORAL_SERVER_DIR to a directory with temporal-server and temporal-sql-tool."
  local t0; t0=$(date +%s)
  progress "building Temporal server v$TEMPORAL_SERVER_VERSION and its SQL schema tool with 'go install' (first run only, about 3 minutes on 2 cores after the Temporal CLI)…"
  local tmp; tmp=$(mktemp -d "$SHIPWATCH_CACHE/.temporal-server-XXXXXX")
  # Same flags as the CLI build (CGO off), so the packages the dev server shares come from the build cache.
  local ticker
  ( while sleep 30; do progress "Temporal server v$TEMPORAL_SERVER_VERSION: still building, $(elapsed "$t0")"; done ) &
  ticker=$!
  if ! CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod go install \
      "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" \
      "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION" >&2; then
    kill "$ticker" 2>/dev/null || true
    rm -rf "$tmp"
    die "go install of $module failed (output above)."
  fi
  kill "$ticker" 2>/dev/null || true
  local src; src=$(GOFLAGS=-mod=mod go mod download -json "$module" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [[ -d "$src/schema/postgresql/v12" ]] || die "schema/postgresql/v12 not found in the module download of $module ($src)."
  mkdir -p "$tmp/schema/postgresql"
  cp -r "$src/schema/postgresql/v12" "$tmp/schema/postgresql/v12"
  chmod -R u+w "$tmp/schema"
  mv "$tmp/server" "$tmp/temporal-server"
  mv "$tmp/sql" "$tmp/temporal-sql-tool"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  progress "Temporal server v$TEMPORAL_SERVER_VERSION built in $(elapsed "$t0"): $bin"
}
with_lock temporal-server build
echo "$bin"
