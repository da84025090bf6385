/**
 * `validate --online` against a real Prometheus (scraping itself): per expression the series it
 * returns, "returns no series", or Prometheus' error; an unreachable Prometheus is reported, not passed.
 */
import { startPrometheus, type LocalPrometheus } from '../helpers/prometheus';
import { freePort } from '../helpers/ports';
import { resolveSpec } from '../../src/spec/load';
import { checkOnline, formatOnline } from '../../src/spec/online';

jest.setTimeout(120_000);

let prom: LocalPrometheus;

const specFor = (prometheusUrl: string) =>
  resolveSpec({
    service: 'api',
    namespace: 'staging',
    release: 'v2.0.0',
    image: 'registry.example.com/team/api:v2.0.0',
    kubernetes: { deployment: 'api', container: 'app' },
    serviceUrl: 'http://127.0.0.1:8080',
    metrics: {
      prometheusUrl,
      checks: [
        { name: 'targets up', query: 'sum(up)' },
        { name: 'per job', query: 'up' },
      ],
    },
    watch: {
      rules: [
        { name: 'TargetDown', expr: 'up', op: '<', threshold: 1 },
        { name: 'Typo', expr: 'sum(rate(http_requests_totl[5m]))', threshold: 1 },
        // Valid syntax offline; Prometheus refuses it (rate needs a range vector).
        { name: 'NoRange', expr: 'rate(up)', threshold: 1 },
      ],
    },
  });

beforeAll(async () => {
  prom = await startPrometheus({ jobs: [] });
  await prom.setTargets([
    { job: 'prometheus', targets: [`127.0.0.1:${prom.port}`] },
    { job: 'prometheus-again', targets: [`127.0.0.1:${prom.port}`] },
  ]);
  // Wait for both targets' first scrape, so `up` has its two series.
  for (;;) {
    const report = await checkOnline(await specFor(prom.url));
    if (report.results[0]?.series === 2) break;
    await new Promise((r) => setTimeout(r, 250));
  }
});
afterAll(async () => {
  await prom?.stop();
});

test('each expression reports its series, no series, or the error', async () => {
  const report = await checkOnline(await specFor(prom.url));
  expect(report.ran).toBe(true);
  expect(report.results.map((r) => [r.kind, r.name, r.status, r.series])).toEqual([
    ['rule', 'TargetDown', 'series', 2],
    ['rule', 'Typo', 'no-series', 0],
    ['rule', 'NoRange', 'error', 0],
    ['check', 'targets up', 'series', 1],
    ['check', 'per job', 'error', 2],
  ]);
  expect(report.results[1]!.message).toMatch(/^returns no series/);
  expect(report.results[2]!.message).toMatch(/bad_data.*range vector/);
  expect(report.results[4]!.message).toBe('2 series; a metric check needs exactly one (aggregate it with sum, avg or max)');
  expect(report.ok).toBe(false);
  expect(report.summary).toBe(`2 of 5 expressions return series from ${prom.url}; 1 return none, 2 failed, 0 not run (unreachable)`);
  expect(formatOnline(report)[0]).toBe('  ✓ rule TargetDown: 2 series');
});

test('an unreachable Prometheus is reported for every expression, never passed', async () => {
  const port = await freePort();
  const report = await checkOnline(await specFor(`http://127.0.0.1:${port}`), { timeoutMs: 2_000 });
  expect(report.ok).toBe(false);
  expect(report.results.every((r) => r.status === 'unreachable')).toBe(true);
  expect(report.results[0]!.message).toMatch(/is unreachable/);
  expect(report.results[1]!.message).toBe('not run: Prometheus is unreachable');
});

test('a spec without metrics says the online check did not run', async () => {
  const spec = await specFor(prom.url);
  const { metrics: _metrics, ...withoutMetrics } = spec;
  const report = await checkOnline(withoutMetrics);
  expect(report).toMatchObject({ ran: false, ok: false, results: [] });
  expect(report.summary).toMatch(/^not run/);
});
