/**
 * Metrics of a fleet of services from one local HTTP endpoint, for a Prometheus that scrapes it with
 * `honor_labels: true`: what the seed's four rules read (requests by status, latency histogram,
 * available replicas, container memory and limit), per service in its own namespace, each service
 * with different values, plus a pod per namespace that no service's pod pattern selects. Counters
 * grow with wall time at fixed rates, so rate() windows settle after one window. Varied (some
 * services breach each rule: the tests of batched rule evaluation) or healthy (every value inside
 * the seed's thresholds: the scale bench, whose windows must stay quiet). 127.0.0.1 only.
 * `/metrics?slice=k&slices=n` serves every n-th service from the k-th: a fleet scraped as many
 * targets, as a real one is (each service its own), so Prometheus spreads the scrapes over its
 * interval (`fleetScrapeJob`) instead of taking the whole fleet in one scrape.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Target } from '../../src/spec/defaults';

/** One service of the fleet: its namespace, and its name as `job` label and Deployment. */
export interface FleetService {
  namespace: string;
  name: string;
}

export interface FleetExporter {
  /** host:port to scrape. */
  address: string;
  services: FleetService[];
  /** The rule target of service i (selector: its namespace and job). */
  target(i: number, window: string): Target;
  stop(): Promise<void>;
}

/** `n` services, `svc-<i>` in namespace `fleet-<i>`. */
export const numberedFleet = (n: number): FleetService[] => Array.from({ length: n }, (_, i) => ({ namespace: `fleet-${i}`, name: `svc-${i}` }));

/** The exposition text at `seconds` since start: of every service, or of those `slice` keeps (by index in the fleet, so each keeps its own values). */
export function fleetMetrics(fleet: FleetService[], seconds: number, healthy = false, slice?: { slice: number; slices: number }): string {
  const lines: string[] = [];
  const indices = fleet.map((_, i) => i).filter((i) => !slice || i % slice.slices === slice.slice);
  const namespace = (i: number): string => fleet[i]!.namespace;
  const name = (i: number): string => fleet[i]!.name;
  const per = (metric: string, type: string): void => void lines.push(`# TYPE ${metric} ${type}`);
  per('http_requests_total', 'counter');
  for (const i of indices) {
    const ls = `namespace="${namespace(i)}",job="${name(i)}"`;
    const rps = 10 + (i % 7);
    // Every third service has no 5xx series at all; the others fail i % 11 percent of requests (healthy: under 0.5%).
    const errors = i % 3 === 0 ? 0 : ((i % 11) / (healthy ? 2500 : 100)) * rps;
    lines.push(`http_requests_total{${ls},status="200"} ${(rps - errors) * seconds}`);
    if (i % 3 !== 0) lines.push(`http_requests_total{${ls},status="500"} ${errors * seconds}`);
  }
  per('http_request_duration_seconds_bucket', 'counter');
  for (const i of indices) {
    const ls = `namespace="${namespace(i)}",job="${name(i)}"`;
    const rps = 10 + (i % 7);
    // A share of requests slower than 0.5 s that grows with i, so the services' p95 differ.
    const slow = healthy ? (i % 13) / 650 : Math.min(0.9, (i % 13) / 20);
    const buckets: [string, number][] = [['0.1', 0.5 * (1 - slow)], ['0.5', 1 - slow], ['1', 1 - slow / 2], ['+Inf', 1]];
    for (const [le, share] of buckets) lines.push(`http_request_duration_seconds_bucket{${ls},le="${le}"} ${share * rps * seconds}`);
  }
  per('kube_deployment_status_replicas_available', 'gauge');
  for (const i of indices) lines.push(`kube_deployment_status_replicas_available{namespace="${namespace(i)}",deployment="${name(i)}"} ${healthy ? 2 + (i % 3) : i % 4}`);
  per('container_memory_usage_bytes', 'gauge');
  per('container_spec_memory_limit_bytes', 'gauge');
  const limit = 512 * 1024 * 1024;
  for (const i of indices) {
    const pods = [`${name(i)}-7d9f-a`, `${name(i)}-7d9f-b`, `other-${i}-5c4b-a`];
    pods.forEach((pod, p) => {
      const ls = `namespace="${namespace(i)}",pod="${pod}",container="app"`;
      // The pod outside the service's pattern uses the most memory: a pattern that leaked would show it.
      const used = p === 2 ? 0.99 : (((i * 7 + p * 13) % (healthy ? 70 : 90)) + 5) / 100;
      lines.push(`container_memory_usage_bytes{${ls}} ${Math.round(used * limit)}`);
      lines.push(`container_spec_memory_limit_bytes{${ls}} ${limit}`);
    });
  }
  return `${lines.join('\n')}\n`;
}

/** The slice a scrape asks for (`?slice=k&slices=n`): undefined for the whole fleet, null for one that is not a slice of n. */
function sliceOf(params: URLSearchParams): { slice: number; slices: number } | undefined | null {
  if (!params.has('slices')) return undefined;
  const slice = Number(params.get('slice'));
  const slices = Number(params.get('slices'));
  return Number.isInteger(slice) && Number.isInteger(slices) && slice >= 0 && slice < slices ? { slice, slices } : null;
}

export async function startFleetExporter(fleet: FleetService[], options: { healthy?: boolean } = {}): Promise<FleetExporter> {
  const started = Date.now();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fleet');
    const slice = sliceOf(url.searchParams);
    if (url.pathname !== '/metrics' || slice === null) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(fleetMetrics(fleet, (Date.now() - started) / 1000, options.healthy, slice));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    services: fleet,
    target: (i, window) => {
      const { namespace, name } = fleet[i]!;
      return { service: name, namespace, deployment: name, selector: `namespace="${namespace}",job="${name}"`, window };
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A Prometheus scrape job of the fleet an exporter at `address` serves, in `slices` targets (each
 * every `slices`-th service, its own `instance`), which Prometheus scrapes at offsets spread over
 * its interval.
 */
export function fleetScrapeJob(address: string, slices: number): Record<string, unknown> {
  return {
    job_name: 'fleet',
    honor_labels: true,
    static_configs: Array.from({ length: slices }, (_, slice) => ({
      targets: [address],
      labels: { __param_slice: String(slice), __param_slices: String(slices), instance: `fleet-slice-${slice}` },
    })),
  };
}
