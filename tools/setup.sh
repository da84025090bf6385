#!/usr/bin/env bash
# Builds or reuses every local tool the tests and the demo run: the Temporal CLI (dev server and
# Web UI), the Temporal time-skipping test server, the Temporal server for PostgreSQL, the local
# Kubernetes control plane (kwok), the trace backend (Jaeger v2), and the Debian packages for PostgreSQL, Prometheus and Chromium.
# Idempotent; cached by version.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$TOOLS_DIR/ensure-apt.sh" \
  /usr/lib/postgresql/15/bin/initdb=postgresql \
  pg_dump=postgresql-client \
  prometheus=prometheus \
  promtool=prometheus \
  chromium=chromium
bash "$TOOLS_DIR/build-temporal-cli.sh" >/dev/null
bash "$TOOLS_DIR/build-temporal-test-server.sh" >/dev/null
# The Temporal server on PostgreSQL for the cluster tier; after the CLI, whose module cache it reuses.
bash "$TOOLS_DIR/build-temporal-server.sh" >/dev/null
# The trace backend of the local stack (OTLP receiver + query API); the longest build (about 10
# minutes on 2 cores, cold), so it comes after the tools every test tier needs.
bash "$TOOLS_DIR/build-jaeger.sh" >/dev/null
if [[ -x "$TOOLS_DIR/build-kube.sh" ]]; then bash "$TOOLS_DIR/build-kube.sh" >/dev/null; fi
