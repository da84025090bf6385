/**
 * The scenarios that hinge on an activity learning of a cancellation or a worker going away — a
 * rollback requested mid-step, a worker stopped mid-rollout — run on the real dev server in real
 * time with short windows: they depend on heartbeats and worker shutdown as in production, which
 * the time-skipping server does not reproduce (its clock jumps over heartbeat timeouts). So does
 * the watch evaluator's evaluation waiting in the worker for its slot, which waits in real time.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createFakeDeps } from '../helpers/fakes';
import { createLocalEnv } from '../helpers/temporal';
import { bundleWorkflows, createWorker, registerSearchAttributes, settledReport } from './harness';
import { testSpec } from './fixtures/spec';
import { startDeployment } from '../../src/deployments';
import { deploymentWorkflowId, rollbackUpdate, statusQuery } from '../../src/workflows/messages';
import { windowEvaluatorId } from '../../src/workflows/evaluator-messages';
import type { DeploymentReport } from '../../src/model';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  [env, bundle] = await Promise.all([createLocalEnv(), bundleWorkflows()]);
  await registerSearchAttributes(env);
});
afterAll(async () => env?.teardown());

test('rollback update during the rollout cancels the running step and rolls back', async () => {
  const taskQueue = 'rollback-mid-step';
  const world = createFakeDeps({ blockRolloutAtPods: 2 });
  const spec = await testSpec({ service: 'mid-step-svc', kubernetes: { stepWindow: '1s' }, watch: { duration: '5s', interval: '1s' } });
  const worker = await createWorker(env, bundle, world, taskQueue);
  const report: DeploymentReport = await worker.runUntil(async () => {
    const handle = await startDeployment(env.client, spec, { requestedBy: 'alice', taskQueue });
    await world.blocked;
    const status = await handle.query(statusQuery);
    expect(status).toMatchObject({ phase: 'ROLLOUT', rollout: { step: 2, steps: 3 }, trafficNewPercent: 33 });
    const answer = await handle.executeUpdate(rollbackUpdate, { args: [{ reason: 'wrong build', requestedBy: 'dave' }] });
    expect(answer.accepted).toBe(true);
    return settledReport(handle);
  });
  expect(report.outcome).toBe('ROLLED_BACK');
  expect(report.rollback).toMatchObject({ trigger: 'signal', requestedBy: 'dave', reason: 'wrong build', succeeded: true });
  expect(world.completedSteps).toEqual([1]);
  expect(world.ops().filter((o) => o === 'smoke')).toHaveLength(1); // only on the old version
});

test('a worker stopped mid-rollout and a new one started: the deployment completes without repeating finished steps', async () => {
  const taskQueue = 'restart';
  const world = createFakeDeps({ blockRolloutAtPods: 2 });
  const spec = await testSpec({ service: 'restart-svc', kubernetes: { stepWindow: '1s' }, watch: { duration: '5s', interval: '1s' } });
  const worker1 = await createWorker(env, bundle, world, taskQueue);
  const run1 = worker1.run();
  const handle = await startDeployment(env.client, spec, { requestedBy: 'alice', taskQueue });
  await world.blocked;
  worker1.shutdown();
  await run1;
  expect(world.completedSteps).toEqual([1]);

  world.release();
  const worker2 = await createWorker(env, bundle, world, taskQueue);
  const report: DeploymentReport = await worker2.runUntil(settledReport(handle));
  expect(report.outcome).toBe('SUCCEEDED');
  // Each finished step exactly once; only the interrupted step ran again.
  expect(world.completedSteps).toEqual([1, 2, 3]);
  const stepCalls = world.calls.filter((c) => c.op === 'rolloutStep').map((c) => (c.input as { targetNewPods: number }).targetNewPods);
  expect(stepCalls.filter((n) => n === 1)).toHaveLength(1);
  expect(stepCalls.filter((n) => n === 3)).toHaveLength(1);
  expect(stepCalls.filter((n) => n === 2).length).toBeGreaterThanOrEqual(2);
  expect(world.ops().filter((o) => o === 'backup')).toHaveLength(1);
  expect(world.ops().filter((o) => o === 'runMigrationJob')).toHaveLength(1);
});

describe('a rollback requested while the migration Job runs', () => {
  const run = async (name: string, migrations: Record<string, unknown>) => {
    const taskQueue = `rollback-mid-migration-${name}`;
    const world = createFakeDeps({ blockMigration: true });
    const spec = await testSpec({ service: `${name}-svc`, migrations, kubernetes: { stepWindow: '1s' }, watch: { duration: '5s', interval: '1s' } });
    const worker = await createWorker(env, bundle, world, taskQueue);
    const report: DeploymentReport = await worker.runUntil(async () => {
      const handle = await startDeployment(env.client, spec, { requestedBy: 'alice', taskQueue });
      await world.blocked;
      expect((await handle.query(statusQuery)).phase).toBe('MIGRATE');
      const answer = await handle.executeUpdate(rollbackUpdate, { args: [{ reason: 'wrong schema change', requestedBy: 'dave' }] });
      expect(answer.accepted).toBe(true);
      return settledReport(handle);
    });
    return { report, world };
  };

  test('stops the Job (none left), then runs the migration rollback', async () => {
    const { report, world } = await run('mig-rb', { command: ['migrate'], rollbackCommand: ['migrate', 'users', '0002'] });
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(world.stoppedJobs).toEqual([report.migrations!.jobName]);
    expect(report.migrations).toMatchObject({ succeeded: false, stopped: true });
    expect(report.timeline.map((e) => e.title)).toEqual(expect.arrayContaining([`Migration job stopped: ${report.migrations!.jobName}`, 'Migrations rolled back']));
    expect(report.rollback.migrationsRolledBack).toBe(true);
    expect(world.ops()).not.toContain('rolloutStep');
  });

  test('without a rollback command: the Job is stopped and the report and the page say the schema may be ahead and what to run', async () => {
    const { report, world } = await run('mig-norb', { command: ['migrate'], rollbackCommand: undefined });
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(world.stoppedJobs).toHaveLength(1);
    const note = report.timeline.find((e) => e.title === 'Schema may be ahead of the old version')!;
    expect(note.detail).toContain('shipwatch restore --backup /backups/mig-norb-svc-v1.0.0.dump --to env:DATABASE_URL --yes');
    expect(world.notifications.find((n) => n.kind === 'rolled_back')!.text).toContain('The schema may be ahead of v0.9.0');
  });
});

test('the watch evaluator schedules each evaluation a slot ahead and the activity waits in the worker for its slot (patch evaluator-evaluation-waits): answers at their slot, no timer per slot', async () => {
  const taskQueue = 'evaluation-waits';
  const world = createFakeDeps();
  const spec = await testSpec({ service: 'waits-svc', kubernetes: { stepWindow: '1s' }, watch: { duration: '8s', interval: '1s' } });
  const worker = await createWorker(env, bundle, world, taskQueue);
  const evaluatorId = windowEvaluatorId({ prometheusUrl: spec.metrics!.prometheusUrl, intervalMs: 1_000, workflowId: deploymentWorkflowId(spec.namespace, spec.service) });
  const { report, events } = await worker.runUntil(async () => {
    const handle = await startDeployment(env.client, spec, { requestedBy: 'alice', taskQueue });
    const report = await settledReport(handle);
    // The evaluator closes once its only window has left.
    await env.client.workflow.getHandle(evaluatorId).result();
    return { report, events: (await env.client.workflow.getHandle(evaluatorId).fetchHistory()).events ?? [] };
  });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(report.watch!.checks).toBeGreaterThanOrEqual(4);
  const time = (e: (typeof events)[number]) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
  const evaluations = events.flatMap((e) => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name !== 'evaluateWatchRulesAtSlot') return [];
    const { atMs } = JSON.parse(Buffer.from(scheduled.input!.payloads![0]!.data!).toString()) as { atMs: number };
    const completed = events.find((c) => String(c.activityTaskCompletedEventAttributes?.scheduledEventId) === String(e.eventId));
    return [{ scheduledAt: time(e), atMs, completedAt: completed ? time(completed) : undefined }];
  });
  expect(evaluations.length).toBeGreaterThanOrEqual(4);
  // Each after the first scheduled when the slot before was read, most of an interval ahead; each answered at its slot, not before.
  for (const ev of evaluations.slice(1)) expect(ev.atMs - ev.scheduledAt).toBeGreaterThan(300);
  for (const ev of evaluations.filter((e) => e.completedAt !== undefined)) expect(ev.completedAt!).toBeGreaterThanOrEqual(ev.atMs);
  // No timer a slot: the only timers an evaluator may start are a heartbeat's (each window's every 40 min, so seldom due here).
  expect(events.filter((e) => e.timerStartedEventAttributes).length).toBeLessThanOrEqual(1);
  const asked = world.calls.filter((c) => c.op === 'evaluateRules' && (c.input as { planKey?: string }).planKey === evaluatorId);
  expect(asked.length).toBe(evaluations.filter((e) => e.completedAt !== undefined).length);
});
