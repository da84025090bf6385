/**
 * An approval gate across a worker restart, on the time-skipping server: the release waits for
 * `approve` with audit-log gated; the worker stops and a new one (no workflow cache: every task
 * replays the whole history) takes over; a status query and then the `approve` update go to the
 * new worker, which must see the same gate the old one left.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startRelease } from '../../src/releases';
import { approveUpdate, releaseStatusQuery } from '../../src/workflows/release/messages';
import { bundleWorkflows, createDeploymentEnv } from './harness';
import { createReleaseWorker, nextQueue, recordReleaseHistory, registerReleaseSearchAttributes, releaseOf, waitForRelease } from './release-harness';

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  [env, bundle] = await Promise.all([createDeploymentEnv(), bundleWorkflows()]);
  await registerReleaseSearchAttributes(env);
});
afterAll(async () => env?.teardown());

test('an approve sent right after a worker restart opens the gate the old worker left', async () => {
  const { spec, worlds } = await releaseOf('train-approve-restart', [{ name: 'user-management' }, { name: 'audit-log', after: ['user-management'], approval: 'required' }]);
  const taskQueue = nextQueue();
  const first = await createReleaseWorker(env, bundle, worlds, { taskQueue, cached: false });
  const handle = await first.runUntil(async () => {
    const h = await startRelease(env.client, spec, { requestedBy: 'alice', taskQueue });
    await waitForRelease(env, h, (st) => st.awaitingApproval.includes('audit-log'));
    return h;
  });
  const second = await createReleaseWorker(env, bundle, worlds, { taskQueue, cached: false });
  await second.runUntil(async () => {
    const status = await handle.query(releaseStatusQuery);
    expect(status.awaitingApproval).toEqual(['audit-log']);
    // The new worker may apply the update before the events the query already saw (user-management
    // reached its watch window): then audit-log is approved ahead of its gate and starts at once.
    const answer = await handle.executeUpdate(approveUpdate, { args: [{ requestedBy: 'carol' }] });
    expect(answer.accepted).toBe(true);
    expect(answer.message).toMatch(/^accepted: audit-log (starts now|approved; it starts as soon as user-management is rolled out)$/);
    const report = await handle.result();
    expect(report.outcome).toBe('SUCCEEDED');
    expect(report.timeline.some((e) => e.title === 'audit-log: Approved' && e.detail === 'by carol')).toBe(true);
    await recordReleaseHistory(env, handle, 'release-approve-after-restart');
  });
});
