/**
 * The pre-deploy baseline against a real Prometheus whose target appears a moment late (the pods
 * of the previous rollout, not scraped yet): the baseline looks again and gets the data, saying how
 * long it waited; a query that never gets data stays no data after the bound, never a pass.
 */
import { createServer, type Server } from 'node:http';
import { startPrometheus, type LocalPrometheus } from '../helpers/prometheus';
import { freePort } from '../../tools/local/ports';
import { captureBaseline } from '../../src/activities/baseline';
import { createPrometheusMetrics } from '../../src/activities/metrics';
import type { ResolvedMetricCheck } from '../../src/spec/types';

jest.setTimeout(120_000);

let prom: LocalPrometheus;
let port: number;
let exporter: Server | undefined;
const metrics = createPrometheusMetrics();

beforeAll(async () => {
  port = await freePort();
  // Nothing listens on the port yet: every scrape fails, so the series does not exist.
  prom = await startPrometheus({ scrapeInterval: '1s', jobs: [{ job: 'late-pods', targets: [`127.0.0.1:${port}`] }] });
});
afterAll(async () => {
  await new Promise((resolve) => (exporter ? exporter.close(resolve) : resolve(undefined)));
  await prom?.stop();
});

const memory: ResolvedMetricCheck = { name: 'Memory Usage', query: 'avg(container_memory_usage_bytes{job="late-pods"})', unit: 'bytes', maxIncreaseRatio: 0.2 };
const never: ResolvedMetricCheck = { name: 'Never Scraped', query: 'avg(container_memory_usage_bytes{job="no-such-job"})', unit: 'bytes', maxIncreaseRatio: 0.2 };

test('series Prometheus has not scraped yet are waited for: the baseline has them, and says how long it waited', async () => {
  const baseline = captureBaseline(metrics, { prometheusUrl: prom.url, checks: [memory] }, { waitMs: 60_000, pollMs: 250 });
  // The new pods come up after the baseline first asked.
  await new Promise((r) => setTimeout(r, 1_500));
  exporter = createServer((_req, res) => res.end('container_memory_usage_bytes{pod="user-management-new"} 134217728\n'));
  await new Promise<void>((resolve) => exporter!.listen(port, '127.0.0.1', resolve));
  const snapshot = await baseline;
  expect(snapshot.values).toEqual([{ name: 'Memory Usage', value: 134217728, outcome: 'ok' }]);
  expect(snapshot.waitedMs).toBeGreaterThanOrEqual(1_500);
});

test('a query that never gets data is no data after the bound, with the wait it made; data at once means no wait', async () => {
  const snapshot = await captureBaseline(metrics, { prometheusUrl: prom.url, checks: [memory, never] }, { waitMs: 2_000, pollMs: 250 });
  expect(snapshot.values).toEqual([
    { name: 'Memory Usage', value: 134217728, outcome: 'ok' },
    { name: 'Never Scraped', value: null, outcome: 'no-data', error: expect.stringContaining('no series') },
  ]);
  expect(snapshot.waitedMs).toBeGreaterThanOrEqual(2_000);
  const scraped = await captureBaseline(metrics, { prometheusUrl: prom.url, checks: [memory] }, { waitMs: 2_000, pollMs: 250 });
  expect(scraped.waitedMs).toBeUndefined();
});

test('an unreachable Prometheus is not waited for: its answer is unreachable, at once', async () => {
  const gone = `http://127.0.0.1:${await freePort()}`;
  const snapshot = await captureBaseline(metrics, { prometheusUrl: gone, checks: [memory] }, { waitMs: 60_000, pollMs: 250 });
  expect(snapshot.values[0]).toMatchObject({ name: 'Memory Usage', value: null, outcome: 'unreachable' });
  expect(snapshot.waitedMs).toBeUndefined();
});
