/**
 * What a failure does to the train, on the time-skipping server: each `onFailure` policy, the
 * approval gate, a service failing during its watch window after the next one started, and a worker
 * restart during the shared watch window (≈45 s of real time: the test server waits out the
 * stopped worker's task timeouts in real time).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startRelease } from '../../src/releases';
import { approveUpdate } from '../../src/workflows/release/messages';
import type { ReleaseReport } from '../../src/workflows/release/report';
import { bundleWorkflows } from './harness';
import { createReleaseEnv, createReleaseWorker, nextQueue, recordReleaseHistory, releaseOf, waitForRelease } from './release-harness';

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});
// One time-skipping server per test (see createReleaseEnv: trains sharing one hung).
beforeEach(async () => {
  env = await createReleaseEnv();
});
afterEach(async () => env?.teardown());

const byName = (report: ReleaseReport) => Object.fromEntries(report.services.map((s) => [s.name, s]));

test('rollback-all: the second service fails its smoke suite, the first is rolled back with it', async () => {
  const { spec, worlds } = await releaseOf('train-rollback-all', [{ name: 'user-management' }, { name: 'audit-log', after: ['user-management'], fake: { smokeFails: true } }]);
  const taskQueue = nextQueue();
  const worker = await createReleaseWorker(env, bundle, worlds, { taskQueue });
  await worker.runUntil(async () => {
    const handle = await startRelease(env.client, spec, { requestedBy: 'alice', taskQueue });
    const report = await handle.result();
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.failure).toMatchObject({ service: 'audit-log', reason: 'rolled back: smoke tests failed: User login' });
    const s = byName(report);
    expect(s['audit-log']).toMatchObject({ outcome: 'ROLLED_BACK', ran: expect.stringContaining('SMOKE: Smoke tests failed') });
    expect(s['audit-log']!.undone).toMatch(/^rollout undone \(back on v0\.9\.0\), migrations rolled back, smoke suite on the old version passed — automatic \(smoke-failed\)/);
    expect(s['user-management']!.outcome).toBe('ROLLED_BACK');
    expect(s['user-management']!.undone).toMatch(/rollout undone \(back on v0\.9\.0\), migrations rolled back.* — requested: release train-rollback-all rolled back: audit-log failed/);
    expect(worlds['user-management']!.ops()).toContain('rollback');
    expect(report.watch).toBeUndefined();
    await recordReleaseHistory(env, handle, 'release-rollback-all');
  });
});

test('halt: nothing more starts, what is deployed stays and is watched to the end', async () => {
  const { spec, worlds } = await releaseOf(
    'train-halt',
    [{ name: 'user-management' }, { name: 'audit-log', after: ['user-management'], fake: { smokeFails: true } }, { name: 'web', after: ['audit-log'] }],
    { onFailure: 'halt' },
  );
  const taskQueue = nextQueue();
  const worker = await createReleaseWorker(env, bundle, worlds, { taskQueue });
  await worker.runUntil(async () => {
    const report = await (await startRelease(env.client, spec, { requestedBy: 'alice', taskQueue })).result();
    expect(report.outcome).toBe('HALTED');
    const s = byName(report);
    expect(s['user-management']).toMatchObject({ outcome: 'SUCCEEDED', undone: 'nothing (it stayed)' });
    expect(s['audit-log']!.outcome).toBe('ROLLED_BACK');
    expect(s['web']).toMatchObject({ stage: 'skipped', ran: 'nothing: not started', note: 'not started: the train stopped after a failure (onFailure: halt)' });
    expect(worlds['user-management']!.ops()).not.toContain('rollback');
    expect(report.watch?.outcome).toBe('completed');
  });
});

test('continue, with an approval gate: independent services still start (once approved), dependents of the failed one are skipped', async () => {
  const { spec, worlds } = await releaseOf(
    'train-continue',
    [
      { name: 'user-management' },
      { name: 'audit-log', after: ['user-management'], fake: { smokeFails: true } },
      { name: 'billing', after: ['user-management'], approval: 'required' },
      { name: 'web', after: ['audit-log'] },
    ],
    { onFailure: 'continue' },
  );
  const taskQueue = nextQueue();
  const worker = await createReleaseWorker(env, bundle, worlds, { taskQueue });
  await worker.runUntil(async () => {
    const handle = await startRelease(env.client, spec, { requestedBy: 'alice', taskQueue });
    const waiting = await waitForRelease(env, handle, (st) => st.services.find((x) => x.name === 'audit-log')!.stage === 'rolled-back');
    expect(waiting.awaitingApproval).toEqual(['billing']);
    expect(waiting.services.find((x) => x.name === 'web')!.stage).toBe('skipped');
    await expect(handle.executeUpdate(approveUpdate, { args: [{ service: 'web', requestedBy: 'carol' }] })).rejects.toThrow();
    expect(await handle.executeUpdate(approveUpdate, { args: [{ requestedBy: 'carol' }] })).toEqual({ accepted: true, message: 'accepted: billing starts now' });
    const report = await handle.result();
    expect(report.outcome).toBe('PARTIAL');
    const s = byName(report);
    expect(s['billing']!.outcome).toBe('SUCCEEDED');
    expect(s['user-management']!.outcome).toBe('SUCCEEDED');
    expect(s['web']!.note).toBe('not started: it depends on audit-log, which did not succeed');
    expect(report.timeline.some((e) => e.title === 'billing: Approved' && e.detail === 'by carol')).toBe(true);
  });
});

test('a service failing in its watch window after the next one started: the next one is rolled back mid-rollout', async () => {
  const { spec, worlds } = await releaseOf('train-fails-in-watch', [
    {
      name: 'user-management',
      fake: { ruleValue: (rule) => (rule.name === 'HighErrorRate' ? 0.5 : rule.op === '<' ? 10 : 0) },
      patch: { watch: { duration: '1h', reviewAfter: '0s', escalation: { pageAfter: '1m', rollbackAfter: '3m' } } },
    },
    // Three steps with a 10-minute health window each: still rolling out when user-management rolls back.
    { name: 'audit-log', after: ['user-management'], patch: { kubernetes: { deployment: 'audit-log', container: 'app', stepPods: 1, stepWindow: '10m' } } },
  ]);
  const taskQueue = nextQueue();
  const worker = await createReleaseWorker(env, bundle, worlds, { taskQueue });
  await worker.runUntil(async () => {
    const handle = await startRelease(env.client, spec, { requestedBy: 'alice', taskQueue });
    const report = await handle.result();
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.failure?.service).toBe('user-management');
    expect(report.failure?.reason).toMatch(/^rolled back: HighErrorRate firing/);
    const s = byName(report);
    expect(s['user-management']!.undone).toMatch(/automatic \(alert\)/);
    expect(s['audit-log']!.outcome).toBe('ROLLED_BACK');
    expect(s['audit-log']!.undone).toMatch(/requested: release train-fails-in-watch rolled back: user-management failed/);
    // audit-log was interrupted in its rollout: it never reached its watch window.
    expect(s['audit-log']!.ran).not.toContain('WATCH');
    expect(worlds['audit-log']!.completedSteps.length).toBeLessThan(3);
    await recordReleaseHistory(env, handle, 'release-child-fails-in-watch');
  });
});

test('a worker restart in the middle of the train: the new worker picks the release up where it was', async () => {
  const { spec, worlds } = await releaseOf('train-restart', [{ name: 'user-management' }, { name: 'audit-log', after: ['user-management'] }]);
  const taskQueue = nextQueue();
  const first = await createReleaseWorker(env, bundle, worlds, { taskQueue, cached: false });
  const handle = await first.runUntil(async () => {
    const h = await startRelease(env.client, spec, { requestedBy: 'alice', taskQueue });
    await waitForRelease(env, h, (st) => st.phase === 'WATCH');
    return h;
  });
  const second = await createReleaseWorker(env, bundle, worlds, { taskQueue, cached: false });
  await second.runUntil(async () => {
    const report = await handle.result();
    expect(report.outcome).toBe('SUCCEEDED');
    expect(report.watch?.outcome).toBe('completed');
    // Each service was deployed once: the restart started nothing twice.
    expect(report.timeline.filter((e) => e.source === 'release' && /Deployment started/.test(e.title)).length).toBe(2);
    await recordReleaseHistory(env, handle, 'release-worker-restart');
  });
});
