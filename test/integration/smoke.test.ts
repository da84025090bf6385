/** The smoke runner against the real sample service on a real PostgreSQL: the seed's checks pass on a good build, faults name the failing step. */
import { startPostgres, type LocalPostgres } from '../helpers/postgres';
import { loadSmokeSuite, migrateDatabase, setFaults, smokeSecrets, startSampleService } from '../helpers/sample-service';
import { createSmokeRunner } from '../../src/activities/smoke';
import type { RunningService } from '../../examples/user-management/src/server';
import type { ProgressContext } from '../../src/activities/types';

jest.setTimeout(120_000);

let pg: LocalPostgres;
let service: RunningService;
const heartbeats: unknown[] = [];
const ctx = (): ProgressContext => ({ heartbeat: (d) => heartbeats.push(d), signal: new AbortController().signal });

beforeAll(async () => {
  pg = await startPostgres({ database: 'users' });
  await migrateDatabase(pg.url('users'));
  service = await startSampleService(pg.url('users'));
});
afterAll(async () => {
  await service?.close();
  await pg?.stop();
});
afterEach(async () => {
  await setFaults(service.url, { errorRate: 0, latencyMs: 0 });
});

const input = () => ({ suite: loadSmokeSuite(), baseUrl: service.url, secrets: smokeSecrets(), release: 'v1.0.0' });

test("the seed's checks pass against a good build, twice against one database", async () => {
  const runner = createSmokeRunner();
  for (let i = 0; i < 2; i++) {
    const result = await runner.run(input(), ctx());
    const failed = result.steps.filter((s) => !s.ok);
    expect(failed).toEqual([]);
    expect(result.passed).toBe(true);
    expect(result.steps.map((s) => `${s.name}: ${s.detail}`)).toEqual(
      expect.arrayContaining([
        'Health endpoint: 200 OK',
        'User registration: SUCCESS',
        'User login: SUCCESS (JWT token received)',
        'User profile update: SUCCESS',
        'Role assignment: SUCCESS (admin only)',
        'Permission check: SUCCESS (editor cannot delete)',
        'Database migrations: All applied',
      ]),
    );
    const times = result.steps.at(-1)!;
    expect(times.name).toBe('Response times');
    expect(times.detail).toBe(`Within acceptable range (avg ${result.averageMs}ms)`);
    expect(result.p95Ms).toBeGreaterThanOrEqual(result.averageMs > 0 ? 1 : 0);
  }
  expect(heartbeats.length).toBeGreaterThanOrEqual(loadSmokeSuite().steps.length);
});

test('with every request failing, the failing step is named with expected vs actual', async () => {
  await setFaults(service.url, { errorRate: 1 });
  const result = await createSmokeRunner().run(input(), ctx());
  expect(result.passed).toBe(false);
  const health = result.steps[0]!;
  expect(health).toMatchObject({ name: 'Health endpoint', ok: false, status: 500, expected: 'status 200' });
  expect(health.actual).toMatch(/^500 .*injected fault/);
  // Later steps that needed a captured value are skipped, saying which value.
  const profile = result.steps.find((s) => s.name === 'User profile update')!;
  expect(profile).toMatchObject({ ok: false, expected: '${token} defined', actual: 'undefined' });
  expect(profile.detail).toMatch(/^SKIPPED: \$\{token\} is not defined/);
});

test('a slow build fails the suite average with expected vs actual', async () => {
  await setFaults(service.url, { latencyMs: 600 });
  const suite = loadSmokeSuite();
  const result = await createSmokeRunner().run({ ...input(), suite: { ...suite, steps: suite.steps.slice(0, 1) } }, ctx());
  const health = result.steps[0]!;
  expect(health.ok).toBe(true);
  // The step's own latency: this test read 0 ms when an earlier test file in the same process had
  // frozen performance.now() (src/tracing/workflow-interceptors.ts, guardSdkSpansOutsideRuns).
  expect(health.latencyMs).toBeGreaterThanOrEqual(600);
  const times = result.steps.at(-1)!;
  expect(times).toMatchObject({ name: 'Response times', ok: false, expected: 'avg <= 500ms', actual: `avg ${health.latencyMs}ms` });
  expect(result.passed).toBe(false);
});

test('a wrong JSON field names the path, the expected and the actual value', async () => {
  const result = await createSmokeRunner().run(
    { ...input(), suite: { name: 'x', steps: [{ name: 'Version', method: 'GET', path: '/health', headers: {}, expect: { status: 200, json: { version: 'v2.0.0' } }, capture: {} }] } },
    ctx(),
  );
  expect(result.steps[0]).toMatchObject({ ok: false, expected: 'version = "v2.0.0"', actual: 'version = "v1.0.0"' });
});

test('an unreachable service is a failed step, not an exception', async () => {
  const result = await createSmokeRunner({ stepTimeoutMs: 2000 }).run({ ...input(), baseUrl: 'http://127.0.0.1:1' }, ctx());
  expect(result.passed).toBe(false);
  expect(result.steps[0]!.detail).toMatch(/^FAILED: GET \/health: .*ECONNREFUSED/);
});
