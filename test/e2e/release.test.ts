/**
 * A release train end to end on the real local stack: user-management and audit-log (which calls
 * user-management's API) as real processes behind their pod runners, the Temporal dev server, a
 * kwok cluster, PostgreSQL, Prometheus, a worker process, and `shipwatch release` as a user runs
 * it. The tests run in order on one stack: the first releases both services at v1.0.0, the second
 * releases v1.1.0 where audit-log's new pods point at a Service that does not exist, so its smoke
 * suite fails and user-management is rolled back with it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentReport } from '../../src/model';
import type { ReleaseStatus } from '../../src/workflows/release/messages';
import type { MergedEvent, ReleaseReport } from '../../src/workflows/release/report';
import { startStack } from '../../tools/local/stack';
import type { DemoSpecOptions, LocalStack } from '../../tools/local/stack';
import { shipwatch } from './helpers';

jest.setTimeout(900_000);

let stack: LocalStack;
let env: Record<string, string>;

const fast = (release: string, podEnv?: Record<string, string>): DemoSpecOptions => ({ release, stepWindow: '3s', interval: '3s', ...(podEnv ? { podEnv } : {}) });
const json = async <T>(args: string[]): Promise<T> => {
  const r = await shipwatch(args, env);
  if (!r.stdout.trim()) throw new Error(`shipwatch ${args.join(' ')} exited ${r.code} with no output: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};
const releaseReport = (name: string) => json<ReleaseReport>(['release', 'report', name, '--format', 'json']);
const releaseStatus = (name: string) => json<ReleaseStatus>(['--json', 'release', 'status', name]);
const deploymentReport = (id: string) => json<DeploymentReport>(['report', id, '--format', 'json']);
const byName = (report: ReleaseReport) => Object.fromEntries(report.services.map((s) => [s.name, s]));
const versions = (which: 'user-management' | 'audit-log') => (which === 'audit-log' ? stack.auditLog!.runner : stack.runner).pods().map((p) => p.version);

/** Keeps the merged timeline of a run as an artifact (docs/releases.md shows the failing one). */
function keepTimeline(name: string, text: string): void {
  const artifacts = join(__dirname, '..', '..', 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, `release-${name}-timeline.txt`), text);
}

beforeAll(async () => {
  // Its own cluster name per run: two runs of this file at once (two checkouts) must not share a cluster.
  stack = await startStack({ name: `e2e-release-${process.pid}`, stateDir: mkdtempSync(join(tmpdir(), 'shipwatch-e2e-release-')), auditLog: true });
  await stack.startWorker();
  env = { TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: 'default', SHIPWATCH_USER: 'e2e-tester', TEMPORAL_UI_URL: stack.uiUrl };
});

afterAll(async () => {
  await stack?.stop();
});

test('a release of both services: user-management first, audit-log once user-management is rolled out, one shared watch window, both succeed', async () => {
  const file = stack.writeReleaseSpec({ name: 'accounts-v1', userManagement: fast('v1.0.0'), auditLog: fast('v1.0.0'), watch: '20s' });
  const run = await shipwatch(['release', '-f', file, '--wait'], env, 840_000);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('Release accounts-v1 started: release-accounts-v1 (user-management, audit-log');

  const report = await releaseReport('accounts-v1');
  expect(report.outcome).toBe('SUCCEEDED');
  const s = byName(report);
  for (const name of ['user-management', 'audit-log']) {
    expect(s[name]).toMatchObject({ outcome: 'SUCCEEDED', undone: 'nothing (it stayed)' });
    expect(s[name]!.ran).toContain('PRECHECK → BACKUP → MIGRATE → ROLLOUT → VERIFY_PODS → SMOKE → METRICS → MONITORING → REPORT → WATCH (watch promoted)');
  }
  expect(report.watch?.outcome).toBe('completed');

  // The order: audit-log started only once user-management was in its watch window.
  const status = await releaseStatus('accounts-v1');
  const [um, audit] = ['user-management', 'audit-log'].map((n) => status.services.find((x) => x.name === n)!);
  expect(Date.parse(audit!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(um!.watchingAt!));
  expect(Date.parse(report.watch!.startedAt)).toBeGreaterThanOrEqual(Date.parse(audit!.watchingAt!));

  // audit-log's smoke suite went through user-management's API (its sign-in and /profile).
  const auditReport = await deploymentReport('deploy-production-audit-log');
  expect(auditReport.smoke?.passed).toBe(true);
  expect(auditReport.migrations?.applied).toEqual(['0001_events', '0002_actor_index']);
  expect(auditReport.watch?.outcome).toBe('promoted');
  expect((await deploymentReport('deploy-production-user-management')).watch?.outcome).toBe('promoted');
  expect(versions('user-management')).toEqual(['v1.0.0', 'v1.0.0', 'v1.0.0']);
  expect(versions('audit-log')).toEqual(['v1.0.0', 'v1.0.0']);

  const timeline = await shipwatch(['release', 'timeline', 'accounts-v1'], env);
  expect(timeline.code).toBe(0);
  expect(timeline.stdout).toContain('[user-management] Deployment started');
  expect(timeline.stdout).toContain('[audit-log] Smoke tests passed');
  expect(timeline.stdout).toContain('[release] Shared watch window completed');
  keepTimeline('accounts-v1', timeline.stdout);
});

test("audit-log's smoke suite fails: it rolls itself back, and user-management is rolled back with it, latest first", async () => {
  // The new audit-log pods name a Service that does not exist: healthy, but every call to user-management fails.
  const broken = { USER_MANAGEMENT_URL: 'http://user-management-v2.production:8080' };
  const file = stack.writeReleaseSpec({ name: 'accounts-v1-1', userManagement: fast('v1.1.0'), auditLog: fast('v1.1.0', broken), watch: '20s' });
  const run = await shipwatch(['release', '-f', file, '--wait'], env, 840_000);
  expect(run.code).toBe(3); // ROLLED_BACK

  // The merged timeline kept first: when an expectation below fails, it tells what happened.
  const timeline = await shipwatch(['release', 'timeline', 'accounts-v1-1'], env);
  keepTimeline('accounts-v1-1', timeline.stdout);
  const report = await releaseReport('accounts-v1-1');
  expect(report.outcome).toBe('ROLLED_BACK');
  // As one object: a failure of the wrong service prints its reason.
  expect(report.failure).toMatchObject({ service: 'audit-log', reason: expect.stringMatching(/smoke tests failed: Sign in through user-management/) });
  const s = byName(report);
  expect(s['audit-log']!.outcome).toBe('ROLLED_BACK');
  expect(s['audit-log']!.ran).toContain('SMOKE: Smoke tests failed');
  expect(s['audit-log']!.undone).toMatch(/^rollout undone \(back on v1\.0\.0\).*smoke suite on the old version passed — automatic \(smoke-failed\)/);
  expect(s['user-management']!.outcome).toBe('ROLLED_BACK');
  expect(s['user-management']!.ran).toContain('WATCH');
  expect(s['user-management']!.undone).toMatch(/^rollout undone \(back on v1\.0\.0\).*smoke suite on the old version passed — requested: release accounts-v1-1 rolled back: audit-log failed/);
  expect(report.watch).toBeUndefined();

  // Latest first: audit-log had ended before user-management was asked to roll back.
  const own = report.timeline.filter((e: MergedEvent) => e.source === 'release').map((e) => e.title);
  expect(own.indexOf('audit-log: Deployment ended ROLLED_BACK')).toBeGreaterThanOrEqual(0);
  expect(own.indexOf('audit-log: Deployment ended ROLLED_BACK')).toBeLessThan(own.indexOf('user-management: Rollback requested'));
  expect(own).toContain('Release rollback finished');

  // Both are back on v1.0.0, and both old versions passed their smoke suites again.
  const umReport = await deploymentReport('deploy-production-user-management');
  expect(umReport.rollback).toMatchObject({ required: true, succeeded: true });
  expect(umReport.rollback.smokeAfterRollback?.passed).toBe(true);
  expect(umReport.rollback.requestedBy).toMatch(/release accounts-v1-1/);
  expect((await deploymentReport('deploy-production-audit-log')).rollback.smokeAfterRollback?.passed).toBe(true);
  await waitFor(() => versions('user-management').join() === 'v1.0.0,v1.0.0,v1.0.0' && versions('audit-log').join() === 'v1.0.0,v1.0.0');

  expect(timeline.code).toBe(0);
  expect(timeline.stdout).toMatch(/\[audit-log\] Smoke tests failed — Sign in through user-management/);
});

async function waitFor(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}
