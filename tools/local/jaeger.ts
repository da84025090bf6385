/**
 * The local stack's trace backend: Jaeger v2 (built from its Go module by tools/build-jaeger.sh),
 * in-memory storage, an OTLP receiver (HTTP and gRPC) and the query API, all on free 127.0.0.1
 * ports. `startJaeger()` returns the endpoints and a small client of the query API that tests and
 * the demo use to find a deployment's trace; `stop()` ends the process and deletes its config.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';

const TOOLS_DIR = join(__dirname, '..');

export class LocalJaegerError extends Error {
  override name = 'LocalJaegerError';
}

/** A span as the query API returns it, flattened: attributes as a plain record. */
export interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  attributes: Record<string, string | number | boolean>;
  /** Microseconds since the epoch, and duration in microseconds. */
  startTime: number;
  duration: number;
  error: boolean;
}

export interface LocalJaeger {
  /** OTLP/HTTP base URL, the value of OTEL_EXPORTER_OTLP_ENDPOINT: http://127.0.0.1:PORT */
  otlpHttpUrl: string;
  /** OTLP/gRPC address, host:port. */
  otlpGrpcAddress: string;
  /** Query API base URL: a trace's JSON is at <queryUrl>/api/traces/<id> (the build has no web UI). */
  queryUrl: string;
  /** The env a process needs to export its spans here. */
  env(serviceName: string): Record<string, string>;
  /** The trace's spans, or [] when Jaeger does not know it (yet). */
  trace(traceId: string): Promise<TraceSpan[]>;
  /** Spans of the service's recent traces (newest first), optionally of one operation (span name). */
  spans(service: string, options?: { operation?: string; limit?: number }): Promise<TraceSpan[]>;
  /** Polls until `check` accepts the spans `fetch` returns; throws with the last spans otherwise. */
  waitFor(fetch: () => Promise<TraceSpan[]>, check: (spans: TraceSpan[]) => boolean, timeoutMs?: number): Promise<TraceSpan[]>;
  stop(): Promise<void>;
}

/** Builds Jaeger on first use (progress on stderr) and returns the binary's path. */
export function ensureJaeger(): string {
  const out = execFileSync('bash', [join(TOOLS_DIR, 'build-jaeger.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

export function renderJaegerConfig(ports: { otlpHttp: number; otlpGrpc: number; queryHttp: number; queryGrpc: number }): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${ports.queryHttp}
    grpc:
      endpoint: 127.0.0.1:${ports.queryGrpc}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${ports.otlpGrpc}
      http:
        endpoint: 127.0.0.1:${ports.otlpHttp}
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

interface JaegerTag {
  key: string;
  type: string;
  value: string | number | boolean;
}
interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: string; traceID: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags?: JaegerTag[];
  processID: string;
}
interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

function flatten(trace: JaegerTrace): TraceSpan[] {
  return trace.spans.map((s) => {
    const attributes = Object.fromEntries((s.tags ?? []).map((t) => [t.key, t.value]));
    const parent = s.references?.find((r) => r.refType === 'CHILD_OF');
    return {
      traceId: s.traceID,
      spanId: s.spanID,
      ...(parent ? { parentSpanId: parent.spanID } : {}),
      name: s.operationName,
      service: trace.processes[s.processID]?.serviceName ?? '',
      attributes,
      startTime: s.startTime,
      duration: s.duration,
      error: attributes.error === true || attributes['otel.status_code'] === 'ERROR',
    };
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts Jaeger; call stop() (tests: afterAll) to end it. */
export async function startJaeger(): Promise<LocalJaeger> {
  const binary = ensureJaeger();
  const root = mkdtempSync(join(tmpdir(), 'shipwatch-jaeger-'));
  const ports = { otlpHttp: await freePort(), otlpGrpc: await freePort(), queryHttp: await freePort(), queryGrpc: await freePort() };
  const configPath = join(root, 'config.yaml');
  writeFileSync(configPath, renderJaegerConfig(ports));
  const child = spawn(binary, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer): void => {
    log = (log + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killSync = (): void => {
    child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', killSync);
  const queryUrl = `http://127.0.0.1:${ports.queryHttp}`;
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new LocalJaegerError(`jaeger exited ${child.exitCode}: ${log.slice(-3000)}`);
      const queryUp = await fetch(`${queryUrl}/api/services`).then((r) => r.ok, () => false);
      if (queryUp && (await listening(ports.otlpHttp))) break;
      if (Date.now() > deadline) throw new LocalJaegerError(`jaeger did not become ready within 60s: ${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    killSync();
    process.removeListener('exit', killSync);
    throw err;
  }

  const getJson = async <T>(path: string): Promise<T | undefined> => {
    const res = await fetch(`${queryUrl}${path}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new LocalJaegerError(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const otlpHttpUrl = `http://127.0.0.1:${ports.otlpHttp}`;
  return {
    otlpHttpUrl,
    otlpGrpcAddress: `127.0.0.1:${ports.otlpGrpc}`,
    queryUrl,
    env: (serviceName) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpHttpUrl,
      OTEL_SERVICE_NAME: serviceName,
      // The link a report shows: this Jaeger's query API (the binary is built without the web UI).
      SHIPWATCH_TRACE_URL: `${queryUrl}/api/traces/{traceId}`,
    }),
    async trace(traceId) {
      const body = await getJson<{ data?: JaegerTrace[] }>(`/api/traces/${encodeURIComponent(traceId)}`);
      return (body?.data ?? []).flatMap(flatten);
    },
    async spans(service, options = {}) {
      const query = new URLSearchParams({ service, limit: String(options.limit ?? 20), lookback: '1h' });
      if (options.operation) query.set('operation', options.operation);
      const body = await getJson<{ data?: JaegerTrace[] }>(`/api/traces?${query.toString()}`);
      return (body?.data ?? []).flatMap(flatten);
    },
    async waitFor(fetchSpans, check, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let spans: TraceSpan[] = [];
      for (;;) {
        spans = await fetchSpans();
        if (check(spans)) return spans;
        if (Date.now() > deadline) {
          throw new LocalJaegerError(`jaeger: the expected spans did not arrive within ${timeoutMs}ms; it has ${spans.length}: ${spans.map((s) => s.name).join(', ') || 'none'}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop() {
      process.removeListener('exit', killSync);
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** `tsx tools/local/jaeger.ts`: runs one in the foreground and prints its endpoints (Ctrl-C stops it). */
if (require.main === module) {
  startJaeger().then(
    (jaeger) => {
      console.log(`Jaeger: OTLP/HTTP ${jaeger.otlpHttpUrl}, OTLP/gRPC ${jaeger.otlpGrpcAddress}, query API ${jaeger.queryUrl}`);
      console.log(
        `export ${Object.entries(jaeger.env('shipwatch'))
          .map(([k, v]) => `${k}='${v}'`)
          .join(' ')}`,
      );
      const stop = (): void => void jaeger.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
