/**
 * A traced workflow evicted in the middle of a task does not stop the worker.
 *
 * When a workflow task runs past the isolate execution limit (5 s), the SDK interrupts it and evicts
 * the run. With the tracing interceptors in the bundle, the interrupted task leaves the SDK's
 * RunWorkflow span pending; its continuation ran while the run was being disposed, ended the span
 * outside any workflow ("Workflow uninitialized"), and that rejection, which no run owns, stopped the
 * workflow worker thread and with it the whole worker (seen in the 1,000-window bench); or it ran
 * inside the next run's first task, and the phase spans read that run's half-made state and failed
 * its task (seen here). The interceptor module (src/tracing/workflow-interceptors.ts) now acts only
 * for its own live run, and the SDK's spans ending outside any run are dropped.
 */
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../src/observability';
import { createLocalEnv } from '../helpers/temporal';
import { answerAtOnce, spinOnSignal, spinSignal } from './fixtures/eviction-workflows';

jest.setTimeout(120_000);

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createLocalEnv();
});
afterAll(async () => {
  await env?.teardown();
});

test('a traced run evicted mid-task leaves the worker running', async () => {
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./fixtures/eviction-workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: quiet,
  });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'eviction',
    workflowBundle,
    sinks: {
      exporter: { export: { fn: () => undefined } },
      shipwatchMetrics: { running: { fn: () => undefined }, started: { fn: () => undefined }, finished: { fn: () => undefined } },
    },
  });
  let failure: unknown;
  const running = worker.run().catch((err: unknown) => {
    failure = err;
  });
  try {
    const spinning = await env.client.workflow.start(spinOnSignal, { taskQueue: 'eviction', workflowId: 'spin-evicted' });
    await spinning.signal(spinSignal, 50_000_000_000);
    // The interrupted task is recorded as failed: the run was evicted.
    const deadline = Date.now() + 60_000;
    let failedTasks = 0;
    while (failedTasks === 0 && failure === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const history = await spinning.fetchHistory();
      failedTasks = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
    }
    expect(failedTasks).toBeGreaterThan(0);
    await spinning.terminate('the test saw the eviction');
    // The worker still runs workflows.
    const after = await env.client.workflow.start(answerAtOnce, { taskQueue: 'eviction', workflowId: 'after-eviction', args: ['still here'], workflowExecutionTimeout: '30s' });
    expect(await after.result()).toBe('answered still here');
    // ... and the evicted run's leftovers did not act in the next run's task (they failed it before).
    const afterHistory = await after.fetchHistory();
    expect((afterHistory.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
    expect(failure).toBeUndefined();
    expect(worker.getState()).toBe('RUNNING');
  } finally {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  }
});
