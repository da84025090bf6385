/**
 * The release train on the time-skipping server: the order (a service starts once what it comes
 * after is rolled out), independent branches in parallel, one shared watch window that ends every
 * deployment's window at once, and a rollback of the whole release from a client call.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startRelease } from '../../src/releases';
import { releaseStatusQuery, releaseTimelineQuery, rollbackUpdate } from '../../src/workflows/release/messages';
import { reportQuery } from '../../src/workflows/messages';
import { bundleWorkflows } from './harness';
import { createReleaseEnv, createReleaseWorker, nextQueue, recordReleaseHistory, releaseOf } from './release-harness';

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

test('in order, independent branches in parallel, one shared watch window, every deployment promoted at its end', async () => {
  const { spec, worlds } = await releaseOf('train-order', [
    { name: 'user-management' },
    { name: 'audit-log', after: ['user-management'] },
    { name: 'billing', after: ['user-management'] },
  ]);
  const taskQueue = nextQueue();
  const worker = await createReleaseWorker(env, bundle, worlds, { taskQueue });
  await worker.runUntil(async () => {
    const handle = await startRelease(env.client, spec, { requestedBy: 'alice', taskQueue });
    const report = await handle.result();
    expect(report.outcome).toBe('SUCCEEDED');
    const status = await handle.query(releaseStatusQuery);
    const [um, audit, billing] = ['user-management', 'audit-log', 'billing'].map((n) => status.services.find((s) => s.name === n)!);
    // The branches start together, once user-management is in its watch window, not before.
    expect(Date.parse(audit!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(um!.watchingAt!));
    expect(audit!.startedAt).toBe(billing!.startedAt);
    expect([um!.startedSeq, audit!.startedSeq, billing!.startedSeq]).toEqual([1, 2, 3]);
    // One shared window after the last service, then every deployment was promoted by the release.
    expect(report.watch?.outcome).toBe('completed');
    expect(Date.parse(report.watch!.startedAt)).toBeGreaterThanOrEqual(Math.max(Date.parse(audit!.watchingAt!), Date.parse(billing!.watchingAt!)));
    expect(Date.parse(report.watch!.endedAt!) - Date.parse(report.watch!.startedAt)).toBeGreaterThanOrEqual(30 * 60_000);
    for (const s of report.services) {
      expect(s.outcome).toBe('SUCCEEDED');
      expect(s.ran).toContain('PRECHECK → BACKUP → MIGRATE → ROLLOUT');
      expect(s.undone).toBe('nothing (it stayed)');
      const child = await env.client.workflow.getHandle(s.workflowId).query(reportQuery);
      expect(child.watch?.outcome).toBe('promoted');
      expect(child.timeline.find((e) => e.key === 'promoted')?.detail).toContain('release train-order (shared watch window completed)');
    }
    // The merged timeline holds the release's events and every service's.
    expect(new Set(report.timeline.map((e) => e.source))).toEqual(new Set(['release', 'user-management', 'audit-log', 'billing']));
    const own = await handle.query(releaseTimelineQuery);
    expect(own.map((e) => e.title)).toContain('Shared watch window completed');
    await recordReleaseHistory(env, handle, 'release-together-success');
  });
});

test('a rollback of the release from a client rolls every deployment back, latest first, and waits for each', async () => {
  const { spec, worlds } = await releaseOf('train-client-rollback', [{ name: 'user-management' }, { name: 'audit-log', after: ['user-management'] }]);
  const taskQueue = nextQueue();
  const worker = await createReleaseWorker(env, bundle, worlds, { taskQueue });
  await worker.runUntil(async () => {
    const handle = await startRelease(env.client, spec, { requestedBy: 'alice', taskQueue });
    // Wait (in workflow time) until both are in the shared watch window.
    for (let i = 0; i < 100; i++) {
      const status = await handle.query(releaseStatusQuery);
      if (status.phase === 'WATCH') break;
      await env.sleep('10s');
    }
    const answer = await handle.executeUpdate(rollbackUpdate, { args: [{ reason: 'billing errors after the release', requestedBy: 'bob' }] });
    expect(answer).toEqual({ accepted: true, message: 'accepted: rolling back release train-client-rollback (audit-log, then user-management)' });
    const report = await handle.result();
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.rollbackRequest).toMatchObject({ requestedBy: 'bob', reason: 'billing errors after the release' });
    for (const s of report.services) {
      expect(s.outcome).toBe('ROLLED_BACK');
      expect(s.undone).toMatch(/^rollout undone \(back on v0\.9\.0\), migrations rolled back, smoke suite on the old version passed — requested: release train-client-rollback rolled back/);
    }
    // Reverse order: audit-log's rollback finished before user-management's was requested.
    const titles = report.timeline.filter((e) => e.source === 'release').map((e) => e.title);
    expect(titles.indexOf('audit-log: Deployment ended ROLLED_BACK')).toBeLessThan(titles.indexOf('user-management: Rollback requested'));
    expect(titles.indexOf('audit-log: Rollback requested')).toBeLessThan(titles.indexOf('user-management: Rollback requested'));
    // A second request is refused with the reason.
    await expect(handle.executeUpdate(rollbackUpdate, { args: [{ reason: 'again' }] })).rejects.toThrow();
    await recordReleaseHistory(env, handle, 'release-client-rollback');
  });
});
