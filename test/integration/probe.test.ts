/** The availability probe against the real sample service: counts probes, failures under injected faults, stops on stop() and on cancellation. */
import { startPostgres, type LocalPostgres } from '../helpers/postgres';
import { migrateDatabase, setFaults, startSampleService } from '../helpers/sample-service';
import { createAvailabilityProbe } from '../../src/activities/probe';
import type { RunningService } from '../../examples/user-management/src/server';

jest.setTimeout(60_000);

let pg: LocalPostgres;
let service: RunningService;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  pg = await startPostgres({ database: 'users' });
  await migrateDatabase(pg.url('users'));
  service = await startSampleService(pg.url('users'));
});
afterAll(async () => {
  await service?.close();
  await pg?.stop();
});

test('a healthy service: every probe succeeds', async () => {
  const handle = createAvailabilityProbe().start({ url: `${service.url}/health`, intervalMs: 20 });
  await sleep(400);
  const stats = await handle.stop();
  expect(stats.probes).toBeGreaterThan(5);
  expect(stats.failures).toBe(0);
  expect(stats.failed).toEqual([]);
  // Stopping twice gives the same answer and probes no more.
  expect(await handle.stop()).toBe(stats);
});

test('injected errors are counted and the first failures kept for the report', async () => {
  await setFaults(service.url, { errorRate: 1 });
  const handle = createAvailabilityProbe({ keepFailures: 3 }).start({ url: `${service.url}/health`, intervalMs: 20 });
  await sleep(300);
  const stats = await handle.stop();
  await setFaults(service.url, { errorRate: 0 });
  expect(stats.failures).toBe(stats.probes);
  expect(stats.failed).toHaveLength(3);
  expect(stats.failed[0]!.error).toBe('HTTP 500');
});

test('a refused connection is a failure; cancellation stops the probe', async () => {
  const controller = new AbortController();
  const handle = createAvailabilityProbe().start({ url: 'http://127.0.0.1:1/health', intervalMs: 20, signal: controller.signal });
  await sleep(200);
  controller.abort();
  const stats = await handle.stop();
  expect(stats.failures).toBeGreaterThan(0);
  expect(stats.failures).toBe(stats.probes);
  expect(stats.failed[0]!.error).toMatch(/ECONNREFUSED/);
  await sleep(100);
  expect((await handle.stop()).probes).toBe(stats.probes);
});
