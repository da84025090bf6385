/**
 * The one-active-deployment rule on the time-skipping server: a second deploy of the same service
 * is refused with a message naming the active release. (Worker restarts mid-rollout are in
 * real-time.test.ts: they need real heartbeats.)
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createFakeDeps } from '../helpers/fakes';
import { bundleWorkflows, createDeploymentEnv, createWorker } from './harness';
import { testSpec } from './fixtures/spec';
import { DeploymentAlreadyActiveError, startDeployment } from '../../src/deployments';

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  [env, bundle] = await Promise.all([createDeploymentEnv(), bundleWorkflows()]);
});
afterAll(async () => env?.teardown());

test('a second deploy of the same service is refused, naming the active release; a new one starts after it closes', async () => {
  const taskQueue = 'second';
  const world = createFakeDeps({ blockRolloutAtPods: 3 });
  const spec = await testSpec({ service: 'second-svc', watch: { duration: '10m' }, kubernetes: { stepPods: 0 } });
  const worker = await createWorker(env, bundle, world, taskQueue);
  await worker.runUntil(async () => {
    const first = await startDeployment(env.client, spec, { requestedBy: 'alice', taskQueue });
    await world.blocked;
    const second = await startDeployment(env.client, { ...spec, release: 'v1.0.1', image: 'ghcr.io/org/user-management:v1.0.1' }, { requestedBy: 'bob', taskQueue }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(second).toBeInstanceOf(DeploymentAlreadyActiveError);
    const message = (second as Error).message;
    expect(message).toContain('v1.0.0');
    expect(message).toContain('phase ROLLOUT');
    expect(message).toContain('--supersede');
    expect(message).toContain('shipwatch rollback');
    // Supersede is refused while the active one is still rolling out.
    const superseded = await startDeployment(env.client, spec, { requestedBy: 'bob', taskQueue, supersede: true }).catch((err: Error) => err);
    expect((superseded as Error).message).toContain('cannot be superseded while in ROLLOUT');
    world.release();
    expect((await first.result()).outcome).toBe('SUCCEEDED');
    const third = await startDeployment(env.client, spec, { requestedBy: 'bob', taskQueue });
    expect(third.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
    await third.terminate('test over');
  });
});
