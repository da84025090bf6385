/**
 * The worker's observability endpoint: `/metrics` (shipwatch's own metrics followed by the
 * Temporal SDK's, fetched from the Runtime's Prometheus exporter), `/healthz` and `/readyz`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthState {
  /** The process should be kept (liveness): false once the worker failed or stopped. */
  live: boolean;
  /** The worker polls its task queue (readiness). */
  ready: boolean;
  /** The worker's state, e.g. RUNNING, for people reading the endpoint. */
  detail: string;
}

export interface ObservabilityServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  registry: Registry;
  /** The Temporal Runtime's Prometheus exporter, e.g. http://127.0.0.1:9464/metrics, merged into /metrics. */
  sdkMetricsUrl?: string;
  health?: () => HealthState;
}

export interface ObservabilityServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const SDK_SCRAPE_TIMEOUT_MS = 2_000;

async function sdkMetrics(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(SDK_SCRAPE_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await res.text();
    return `${text.endsWith('\n') || text === '' ? text : `${text}\n`}# HELP shipwatch_sdk_metrics_up Whether the Temporal SDK metrics could be read.\n# TYPE shipwatch_sdk_metrics_up gauge\nshipwatch_sdk_metrics_up 1\n`;
  } catch (err) {
    const why = (err as Error).message.replace(/\n/g, ' ');
    return `# Temporal SDK metrics unavailable from ${url}: ${why}\n# HELP shipwatch_sdk_metrics_up Whether the Temporal SDK metrics could be read.\n# TYPE shipwatch_sdk_metrics_up gauge\nshipwatch_sdk_metrics_up 0\n`;
  }
}

export async function startObservabilityServer(options: ObservabilityServerOptions): Promise<ObservabilityServer> {
  const health = options.health ?? ((): HealthState => ({ live: true, ready: true, detail: 'no worker attached' }));
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      const own = await options.registry.metrics();
      const sdk = options.sdkMetricsUrl ? await sdkMetrics(options.sdkMetricsUrl) : '';
      res.writeHead(200, { 'content-type': options.registry.contentType }).end(own + (own.endsWith('\n') ? '' : '\n') + sdk);
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const state = health();
      const ok = path === '/healthz' ? state.live : state.ready;
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', worker: state.detail }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${(err as Error).message}\n`);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
