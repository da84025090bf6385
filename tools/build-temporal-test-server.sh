#!/usr/bin/env bash
# Materialises the Java time-skipping test server from Maven Central into the cache, with a
# class-data-sharing archive so the JVM is listening well inside the TS SDK's 5-second wait.
# Prints the path of the wrapper to pass as `executable: { type: 'existing-path', path }`.
# Override: SHIPWATCH_TEST_SERVER=/path/to/executable (called as `<path> <port>`).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -n "${SHIPWATCH_TEST_SERVER:-}" ]]; then
  [[ -x "$SHIPWATCH_TEST_SERVER" ]] || die "SHIPWATCH_TEST_SERVER=$SHIPWATCH_TEST_SERVER is not an executable file."
  echo "$SHIPWATCH_TEST_SERVER"; exit 0
fi

dest="$SHIPWATCH_CACHE/temporal-test-server-$TEMPORAL_TEST_SERVER_VERSION"
wrapper="$dest/temporal-test-server"

build() {
  [[ -x "$wrapper" ]] && return 0
  require_cmd java "Install a Java 11+ runtime (e.g. 'apt-get install openjdk-17-jre-headless'), or set SHIPWATCH_TEST_SERVER."
  require_cmd mvn "Install Maven (e.g. 'apt-get install maven'), or set SHIPWATCH_TEST_SERVER."
  local t0; t0=$(date +%s)
  progress "fetching io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_VERSION from Maven Central (first run only)…"
  local tmp; tmp=$(mktemp -d "$SHIPWATCH_CACHE/.temporal-test-server-XXXXXX")
  mvn -B -q -f "$TOOLS_DIR/temporal-test-server/pom.xml" \
    "-Dtemporal.test.server.version=$TEMPORAL_TEST_SERVER_VERSION" \
    dependency:copy-dependencies "-DoutputDirectory=$tmp/lib" >&2
  # Explicit, sorted class path: a CDS archive only applies to the exact class path it was made with.
  local cp; cp=$(find "$tmp/lib" -name '*.jar' | sort | sed "s|^$tmp|$dest|" | paste -sd: -)
  local cp_tmp; cp_tmp=${cp//$dest/$tmp}

  progress "recording the classes the test server loads, for a class-data-sharing archive…"
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  java -Xshare:off -XX:DumpLoadedClassList="$tmp/classes.lst" -cp "$cp_tmp" io.temporal.testserver.TestServer "$port" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  sleep 1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  mkdir -p "$dest"
  mv "$tmp/lib" "$dest/lib"
  mv "$tmp/classes.lst" "$dest/classes.lst"
  rmdir "$tmp"
  java -Xshare:dump -XX:SharedClassListFile="$dest/classes.lst" -XX:SharedArchiveFile="$dest/test-server.jsa" \
    -cp "$cp" >/dev/null 2>&1 || progress "class-data sharing archive could not be made; the server still works, only slower to start"

  cat >"$wrapper.tmp" <<WRAP
#!/bin/sh
# Temporal time-skipping test server $TEMPORAL_TEST_SERVER_VERSION; usage: \$0 <port>
# exec, so the SDK's kill of its child reaches the JVM itself.
exec java -XX:SharedArchiveFile="$dest/test-server.jsa" -Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \\
  -cp "$cp" io.temporal.testserver.TestServer "\$@"
WRAP
  chmod +x "$wrapper.tmp"
  mv "$wrapper.tmp" "$wrapper"
  progress "Temporal test server $TEMPORAL_TEST_SERVER_VERSION ready in $(elapsed "$t0"): $wrapper"
}
with_lock temporal-test-server build
echo "$wrapper"
