/**
 * The workflow threads' two settings (src/workflow-threads.ts) on a real dev server: with stack
 * traces off the `__stack_trace` query says so instead of answering, and with deadlock detection
 * off a workflow task that computes past the SDK's timeout completes instead of failing. Each case
 * runs beside the SDK's own behaviour, so a change in either shows here.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { workerClass } from '../../src/workflow-threads';
import type { WorkflowThreadSettings } from '../../src/workflow-threads';
import { eventually } from '../helpers/cluster';
import { createLocalEnv } from '../helpers/temporal';
import { quietLogger } from './harness';
import { goSignal, spins, waitsForGo } from './fixtures/thread-probes';

jest.setTimeout(120_000);

/** Hundreds of milliseconds of computing without a yield: far past the 50 ms timeout the detection cases set. */
const SPIN = 300_000_000;

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  [env, workflowBundle] = await Promise.all([
    createLocalEnv(),
    bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/thread-probes'), logger: quietLogger() }),
  ]);
});
afterAll(async () => env?.teardown());

let queue = 0;
async function withWorker<T>(settings: WorkflowThreadSettings, run: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `threads-${++queue}`;
  // The SDK's timeout on a call into a workflow, shortened from 5 s (the SDK reads it from the options, though its type leaves it out).
  const timeout = { isolateExecutionTimeout: '50ms' };
  const worker = await workerClass(settings).create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    ...timeout,
  });
  return worker.runUntil(run(taskQueue));
}

describe.each([{ stackTraces: true }, { stackTraces: false }])('stack traces $stackTraces', ({ stackTraces }) => {
  test(`the __stack_trace query ${stackTraces ? 'answers' : 'fails'}, and the workflow runs to its end`, async () => {
    await withWorker({ stackTraces, deadlockDetection: true }, async (taskQueue) => {
      const handle = await env.client.workflow.start(waitsForGo, { taskQueue, workflowId: `stack-${taskQueue}` });
      const asked = handle.query<string>('__stack_trace');
      if (stackTraces) expect(await asked).toContain('waitsForGo');
      else await expect(asked).rejects.toThrow('Workflow stack traces are not enabled on this worker');
      await handle.signal(goSignal);
      expect(await handle.result()).toBe('went');
    });
  });
});

test('deadlock detection on: a task computing past the timeout fails, timed out', async () => {
  await withWorker({ stackTraces: true, deadlockDetection: true }, async (taskQueue) => {
    const handle = await env.client.workflow.start(spins, { taskQueue, workflowId: `spin-${taskQueue}`, args: [SPIN] });
    const failure = await eventually(
      'the spinning workflow task to fail',
      async () => {
        const history = await handle.fetchHistory();
        const failed = history.events?.find(
          (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        );
        return failed?.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
      },
      20_000,
    );
    await handle.terminate('test over');
    expect(failure).toBe('Script execution timed out after 50ms');
  });
});

test('deadlock detection off, stack traces off: the same task completes', async () => {
  await withWorker({ stackTraces: false, deadlockDetection: false }, async (taskQueue) => {
    const result = await env.client.workflow.execute(spins, {
      taskQueue,
      workflowId: `spin-${taskQueue}`,
      args: [SPIN],
    });
    expect(typeof result).toBe('number');
  });
});
