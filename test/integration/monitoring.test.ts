/**
 * The generated monitoring against a real Prometheus scraping the real sample service: the rules
 * file loads, stays quiet while the service is healthy and fires on injected faults; every
 * dashboard query is accepted by Prometheus's query API (a parse error would be HTTP 400 bad_data).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type LocalPostgres } from '../helpers/postgres';
import { startPrometheus, type LocalPrometheus } from '../helpers/prometheus';
import { migrateDatabase, setFaults, startSampleService } from '../helpers/sample-service';
import type { RunningService } from '../../examples/user-management/src/server';
import { dashboardQueries, grafanaDashboard, monitoringFiles, monitoredService } from '../../src/monitoring';
import { resolveSpec } from '../../src/spec';
import type { DeploySpec } from '../../src/spec';
import { defaultAlertRules } from '../../src/spec/defaults';

jest.setTimeout(240_000);

let pg: LocalPostgres;
let prom: LocalPrometheus;
let service: RunningService;
let dir: string;
let spec: DeploySpec;
let running = true;
let traffic: Promise<void>[] = [];

interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}

async function alerts(): Promise<PromAlert[]> {
  const res = await fetch(`${prom.url}/api/v1/alerts`);
  const body = (await res.json()) as { data: { alerts: PromAlert[] } };
  return body.data.alerts;
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
    last = await fn();
  }
  return last;
}

const firing = (list: PromAlert[], name: string) => list.find((a) => a.labels.alertname === name && a.state === 'firing');

beforeAll(async () => {
  // The seed's rules as the loader makes them, with a 10s rate() window and short `for`s so the test takes seconds, not minutes.
  const seed = defaultAlertRules({
    service: 'user-management',
    namespace: 'production',
    deployment: 'user-management',
    selector: 'job="user-management"',
    window: '10s',
  });
  const rules = seed
    .filter((r) => r.name === 'HighErrorRate' || r.name === 'HighResponseTime')
    .map(({ forMs: _forMs, ...r }) => ({ ...r, for: '3s' }));
  spec = await resolveSpec({
    service: 'user-management',
    namespace: 'production',
    release: 'v1.0.0',
    image: 'ghcr.io/org/user-management:v1.0.0',
    kubernetes: { deployment: 'user-management', container: 'app' },
    serviceUrl: 'http://127.0.0.1:8080',
    metrics: { prometheusUrl: 'http://127.0.0.1:9090', window: '10s' },
    watch: { interval: '1s', rules },
  });
  dir = await mkdtemp(join(tmpdir(), 'shipwatch-monitoring-'));
  const rulesFile = join(dir, 'prometheus-alerts.yml');
  await writeFile(rulesFile, monitoringFiles(spec).find((f) => f.name === 'prometheus-alerts.yml')!.content);

  pg = await startPostgres({ database: 'users' });
  await migrateDatabase(pg.url('users'));
  service = await startSampleService(pg.url('users'));
  prom = await startPrometheus({ jobs: [{ job: 'user-management', targets: [`127.0.0.1:${service.port}`] }], ruleFiles: [rulesFile] });
  traffic = Array.from({ length: 6 }, async () => {
    while (running) {
      await fetch(`${service.url}/health`).then((r) => r.arrayBuffer()).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 40));
    }
  });
});
afterAll(async () => {
  running = false;
  await Promise.all(traffic);
  await prom?.stop();
  await service?.close();
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the generated rules load into Prometheus, stay quiet when healthy and fire on injected faults', async () => {
  const groups = await until(
    'the rule group to load',
    async () => ((await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string }[] }[] } }).data.groups,
    (g) => g.length > 0,
  );
  expect(groups[0]!.name).toBe('user-management');
  expect(groups[0]!.rules.map((r) => r.name)).toEqual(['HighErrorRate', 'HighResponseTime']);

  // Healthy: a request rate exists and no alert is pending or firing.
  await until(
    'request rate data',
    async () => ((await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('sum(rate(http_requests_total{job="user-management"}[10s]))')}`)).json()) as { data: { result: unknown[] } }).data.result.length,
    (n) => n > 0,
  );
  expect(await alerts()).toEqual([]);

  await setFaults(service.url, { errorRate: 0.5 });
  const withErrors = await until('HighErrorRate to fire', alerts, (list) => firing(list, 'HighErrorRate') !== undefined);
  expect(firing(withErrors, 'HighErrorRate')).toMatchObject({
    labels: { severity: 'critical', service: 'user-management', namespace: 'production' },
    annotations: { summary: 'High error rate detected', runbook: 'runbook.md#alert-higherrorrate' },
  });
  expect(firing(withErrors, 'HighErrorRate')!.annotations.description).toMatch(/^Error rate is \d+(\.\d+)?%$/);

  await setFaults(service.url, { errorRate: 0, latencyMs: 700 });
  const slow = await until('HighResponseTime to fire', alerts, (list) => firing(list, 'HighResponseTime') !== undefined);
  expect(firing(slow, 'HighResponseTime')!.labels.severity).toBe('warning');
  await setFaults(service.url, { errorRate: 0, latencyMs: 0 });
});

test("every dashboard query is accepted by Prometheus's query API, and a broken one is refused", async () => {
  const dashboard = grafanaDashboard(spec, monitoredService(spec));
  const queries = dashboardQueries(dashboard);
  expect(queries.length).toBeGreaterThanOrEqual(4 + spec.watch.rules.length + 3);
  for (const query of queries) {
    const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await res.json()) as { status: string; errorType?: string; error?: string };
    expect({ query, status: res.status, body: body.status, error: body.error }).toEqual({ query, status: 200, body: 'success', error: undefined });
  }
  const broken = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('sum(rate(http_requests_total[5m])')}`);
  expect(broken.status).toBe(400);
  expect(((await broken.json()) as { errorType: string }).errorType).toBe('bad_data');
});
