#!/usr/bin/env bash
# Builds Jaeger v2 (the trace backend of the local stack: the OpenTelemetry Collector with Jaeger's
# storage and query extensions, OTLP receiver + HTTP query API) from its Go module into the cache,
# once per version. Prints the binary's path on stdout.
#
# Why not `go install …/cmd/jaeger@vX`: Jaeger v2 is released from the module
# github.com/jaegertracing/jaeger under the v1.N tags (v1.76.0 is Jaeger v2.13.0; the v2.N tags are
# not valid module versions because the path has no /v2), and its go.mod has a `replace` directive,
# which `go install pkg@version` refuses. So the script downloads the module through the Go module
# proxy (`go mod download`), copies it out of the read-only module cache and builds ./cmd/jaeger in
# module mode there, with the module's own go.sum.
#
# The web UI is not embedded (its assets come from a git submodule that the module zip does not
# carry): the binary serves a placeholder page at /, and the HTTP query API (/api/traces/<id>,
# /api/services, /api/traces?service=…) that shipwatch and its tests use works fully.
# Override: SHIPWATCH_JAEGER=/path/to/jaeger (a Jaeger v2 binary).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -n "${SHIPWATCH_JAEGER:-}" ]]; then
  [[ -x "$SHIPWATCH_JAEGER" ]] || die "SHIPWATCH_JAEGER=$SHIPWATCH_JAEGER is not an executable file."
  echo "$SHIPWATCH_JAEGER"; exit 0
fi

dest="$SHIPWATCH_CACHE/jaeger-$JAEGER_VERSION"
bin="$dest/jaeger"
module="github.com/jaegertracing/jaeger@v$JAEGER_MODULE_VERSION"

build() {
  [[ -x "$bin" ]] && return 0
  require_cmd go "Install Go 1.25 or newer (https://go.dev/doc/install), or set SHIPWATCH_JAEGER to a Jaeger v2 binary."
  local t0; t0=$(date +%s)
  progress "building Jaeger v$JAEGER_VERSION (module $module) from source (first run only: about 10 minutes on 2 cores, module downloads included)…"
  local tmp; tmp=$(mktemp -d "$SHIPWATCH_CACHE/.jaeger-XXXXXX")
  local src; src=$(GOFLAGS=-mod=mod go mod download -json "$module" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [[ -f "$src/cmd/jaeger/main.go" ]] || { rm -rf "$tmp"; die "cmd/jaeger not found in the module download of $module ($src)."; }
  cp -r "$src" "$tmp/src"
  chmod -R u+w "$tmp/src"
  local ticker
  ( while sleep 30; do progress "Jaeger v$JAEGER_VERSION: still building, $(elapsed "$t0")"; done ) &
  ticker=$!
  local ldflags="-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v$JAEGER_VERSION"
  ldflags+=" -X github.com/jaegertracing/jaeger/internal/version.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # GOTOOLCHAIN=local: build with the installed Go (newer than the module's toolchain line) instead
  # of downloading another toolchain.
  if ! (cd "$tmp/src" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -trimpath \
      -ldflags "$ldflags" -o "$tmp/jaeger" ./cmd/jaeger >&2); then
    kill "$ticker" 2>/dev/null || true
    rm -rf "$tmp"
    die "go build of $module ./cmd/jaeger failed (output above)."
  fi
  kill "$ticker" 2>/dev/null || true
  rm -rf "$tmp/src"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  progress "Jaeger v$JAEGER_VERSION built in $(elapsed "$t0"): $bin"
}
with_lock jaeger build
echo "$bin"
