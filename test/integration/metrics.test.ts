/** Metrics against a real Prometheus scraping the real sample service: baseline, comparison, alert rules breaching under injected faults. */
import { startPostgres, type LocalPostgres } from '../helpers/postgres';
import { startPrometheus, type LocalPrometheus } from '../helpers/prometheus';
import { migrateDatabase, setFaults, startSampleService } from '../helpers/sample-service';
import { createPrometheusMetrics } from '../../src/activities/metrics';
import { defaultAlertRules, defaultMetricChecks, type Target } from '../../src/spec/defaults';
import type { RunningService } from '../../examples/user-management/src/server';
import type { RuleEvaluation } from '../../src/activities/types';
import type { MetricsSnapshot } from '../../src/model';

jest.setTimeout(180_000);

const target: Target = { service: 'user-management', namespace: 'production', deployment: 'user-management', selector: 'job="user-management"', window: '10s' };
const checks = defaultMetricChecks(target);
const rules = defaultAlertRules(target);
const metrics = createPrometheusMetrics();

let pg: LocalPostgres;
let prom: LocalPrometheus;
let service: RunningService;
let traffic: { stop: () => Promise<void> };

/** Keeps a steady stream of requests going (bounded concurrency), so rate() windows have data. */
function generateTraffic(url: string): { stop: () => Promise<void> } {
  let running = true;
  const workers = Array.from({ length: 8 }, async () => {
    while (running) {
      await fetch(`${url}/health`).then((r) => r.arrayBuffer()).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 40));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
    last = await fn();
  }
  return last;
}

const rule = (evals: RuleEvaluation[], name: string): RuleEvaluation => evals.find((e) => e.rule === name)!;

beforeAll(async () => {
  pg = await startPostgres({ database: 'users' });
  await migrateDatabase(pg.url('users'));
  service = await startSampleService(pg.url('users'));
  prom = await startPrometheus({ jobs: [{ job: 'user-management', targets: [`127.0.0.1:${service.port}`] }] });
  traffic = generateTraffic(service.url);
});
afterAll(async () => {
  await traffic?.stop();
  await prom?.stop();
  await service?.close();
  await pg?.stop();
});

test('baseline, healthy rules, then injected errors and latency breach the seed rules and fail the comparison', async () => {
  const baseline: MetricsSnapshot = await until(
    'a baseline with request rate',
    () => metrics.snapshot({ prometheusUrl: prom.url, checks }),
    (s) => s.values.filter((v) => v.outcome === 'ok').length >= 4,
  );
  const byName = Object.fromEntries(baseline.values.map((v) => [v.name, v]));
  expect(byName['Error Rate']).toMatchObject({ outcome: 'ok', value: 0 });
  expect(byName['Requests/Second']!.value).toBeGreaterThan(1);
  expect(byName['Avg Response Time']!.outcome).toBe('ok');
  // No cAdvisor here: the container metrics are a distinct no-data outcome, not a pass.
  expect(byName['Memory Usage']).toMatchObject({ outcome: 'no-data', value: null });

  const healthy = await metrics.evaluateRules({ prometheusUrl: prom.url, rules });
  // No 5xx series at all is an error rate of 0 (the rule's zeroed other series), not "no data".
  expect(rule(healthy, 'HighErrorRate')).toMatchObject({ outcome: 'ok', value: 0, breaching: false });
  expect(rule(healthy, 'HighResponseTime')).toMatchObject({ outcome: 'ok', breaching: false });
  expect(rule(healthy, 'PodDown')).toMatchObject({ outcome: 'no-data', breaching: false });

  const unchanged = await metrics.compare({ prometheusUrl: prom.url, checks: checks.slice(0, 1), baseline });
  expect(unchanged.rows[0]).toMatchObject({ ok: true, text: 'Error Rate: 0% → 0% (no change)' });

  await setFaults(service.url, { errorRate: 0.5, latencyMs: 700 });
  const breached = await until(
    'HighErrorRate and HighResponseTime to breach',
    () => metrics.evaluateRules({ prometheusUrl: prom.url, rules }),
    (e) => rule(e, 'HighErrorRate').breaching && rule(e, 'HighResponseTime').breaching,
  );
  expect(rule(breached, 'HighErrorRate').value).toBeGreaterThan(0.05);
  expect(rule(breached, 'HighResponseTime').value).toBeGreaterThan(0.5);

  const comparison = await metrics.compare({ prometheusUrl: prom.url, checks, baseline });
  expect(comparison.ok).toBe(false);
  const errorRow = comparison.rows.find((r) => r.name === 'Error Rate')!;
  expect(errorRow.ok).toBe(false);
  expect(errorRow.text).toMatch(/^Error Rate: 0% → \d+(\.\d+)?% \(\+\d+(\.\d+)?%\)$/);
  expect(errorRow.reason).toMatch(/above the maximum 0.05/);
  const latency = comparison.rows.find((r) => r.name === 'Avg Response Time')!;
  expect(latency.ok).toBe(false);
  expect(latency.text).toMatch(/^Avg Response Time: \d+ms → \d+ms \(\+\d+ms\)$/);
  expect(comparison.rows.find((r) => r.name === 'Memory Usage')).toMatchObject({ ok: false, outcome: 'no-data', text: 'Memory Usage: no data → no data' });
  await setFaults(service.url, { errorRate: 0, latencyMs: 0 });
});

test('an unreachable Prometheus and a bad query are distinct outcomes, never a pass', async () => {
  const down = await metrics.evaluateRules({ prometheusUrl: 'http://127.0.0.1:1', rules: rules.slice(0, 1) });
  expect(down[0]).toMatchObject({ outcome: 'unreachable', breaching: false, value: null });
  expect(down[0]!.error).toMatch(/unreachable/);
  const bad = await metrics.snapshot({ prometheusUrl: prom.url, checks: [{ name: 'Broken', query: 'sum(rate(', unit: 'none' }] });
  expect(bad.values[0]).toMatchObject({ outcome: 'error', value: null });
  expect(bad.values[0]!.error).toMatch(/bad_data/);
  const many = await metrics.snapshot({ prometheusUrl: prom.url, checks: [{ name: 'Per route', query: 'http_requests_total', unit: 'none' }] });
  // Several series (one per route and status) for a check that needs one number: an error saying so.
  expect(many.values[0]).toMatchObject({ outcome: 'error', value: null });
  expect(many.values[0]!.error).toMatch(/returned \d+ series; aggregate it/);
});
