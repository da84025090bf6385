/**
 * Two costs of the SDK's workflow threads that it has no setting for, each a worker setting here
 * (docs/benchmarks.md, Session 10, measured them; both on by default, as the SDK has them):
 *
 * - SHIPWATCH_WORKFLOW_STACK_TRACES=off: in every workflow thread the SDK installs a V8 promise hook
 *   that records a stack trace (an Error built, its frames formatted) for each promise a workflow
 *   creates, so that the `__stack_trace` query (the Web UI's "Stack Trace" tab) can say where a
 *   workflow waits (sdk-typescript issue #1587). Off, each thread starts with a small entry that
 *   marks the SDK's global handlers installed with the stack-trace formatting only: the hook is
 *   never installed, and a `__stack_trace` query fails with the SDK's own "Workflow stack traces
 *   are not enabled on this worker" instead of answering.
 * - SHIPWATCH_WORKFLOW_DEADLOCK_DETECTION=off: the SDK runs each call into a workflow's context with
 *   a timeout (isolateExecutionTimeout, 5 s), and Node starts and joins a watchdog thread for every
 *   such call, several per activation. Off, the calls run without one: a workflow task that never
 *   yields (a bug in workflow code) then blocks its thread, and every workflow on it, instead of
 *   failing its task with "Script execution timed out after 5000ms" (retried by the server).
 *
 * Either one off reaches into SDK modules that are not its public API (lib/workflow/*):
 * `assertThreadInternals` checks at start that they still have the shape used here, so an SDK
 * upgrade that changes them stops the worker with a message rather than breaking its threads.
 */
import { Worker as NodeWorker } from 'node:worker_threads';
import { Worker } from '@temporalio/worker';
import type { Logger } from '@temporalio/common';
import type { CompiledWorkerOptions } from '@temporalio/worker/lib/worker-options';
import type { WorkflowCreator } from '@temporalio/worker/lib/workflow/interface';
import { ThreadedVMWorkflowCreator, WorkerThreadClient } from '@temporalio/worker/lib/workflow/threaded-vm';
import { GlobalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';
import type { WorkflowBundleWithSourceMapAndFilename } from '@temporalio/worker/lib/workflow/workflow-worker-thread/input';

const VM_SHARED = require.resolve('@temporalio/worker/lib/workflow/vm-shared');
const SDK_THREAD = require.resolve('@temporalio/worker/lib/workflow/workflow-worker-thread');

export interface WorkflowThreadSettings {
  /** The SDK's promise hook, for the `__stack_trace` query (SHIPWATCH_WORKFLOW_STACK_TRACES). */
  stackTraces: boolean;
  /** The SDK's timeout on each call into a workflow's context (SHIPWATCH_WORKFLOW_DEADLOCK_DETECTION). */
  deadlockDetection: boolean;
}

/** What each workflow thread runs first: with stack traces off, the global handlers marked installed without the promise hook; then the SDK's thread. */
function threadEntry(stackTraces: boolean): string {
  const handlers = `const { globalHandlers } = require(${JSON.stringify(VM_SHARED)});
globalHandlers.overridePrepareStackTrace();
globalHandlers.installed = true;
`;
  return `${stackTraces ? '' : handlers}require(${JSON.stringify(SDK_THREAD)});\n`;
}

/** The SDK internals the threads rely on, checked once at start (an SDK upgrade may move them). */
function assertThreadInternals(): void {
  const handlers = new GlobalHandlers() as unknown as Record<string, unknown>;
  const checks: [string, boolean][] = [
    ['GlobalHandlers.overridePrepareStackTrace()', typeof handlers.overridePrepareStackTrace === 'function'],
    ['GlobalHandlers.installed', handlers.installed === false],
    ['GlobalHandlers.promiseHookInstalled', handlers.promiseHookInstalled === false],
    [
      'ThreadedVMWorkflowCreator/WorkerThreadClient',
      typeof ThreadedVMWorkflowCreator === 'function' && typeof WorkerThreadClient === 'function',
    ],
  ];
  const missing = checks.filter(([, ok]) => !ok).map(([name]) => name);
  if (missing.length > 0) {
    throw new Error(
      `SHIPWATCH_WORKFLOW_STACK_TRACES=off and SHIPWATCH_WORKFLOW_DEADLOCK_DETECTION=off rely on @temporalio/worker internals that this SDK version does not have (${missing.join(', ')}): set both to "on", or update src/workflow-threads.ts for this SDK.`,
    );
  }
}

/**
 * The SDK's Worker class for these settings: the SDK's own when both are on; otherwise a subclass
 * whose workflow threads are made as `ThreadedVMWorkflowCreator.create` makes them (the same pool,
 * messages and workflow creation), with the thread's first module and the calls' timeout changed.
 */
export function workerClass(settings: WorkflowThreadSettings): typeof Worker {
  if (settings.stackTraces && settings.deadlockDetection) return Worker;
  assertThreadInternals();
  const entry = threadEntry(settings.stackTraces);
  return class ShipwatchThreadsWorker extends Worker {
    protected static override async createWorkflowCreator(
      workflowBundle: WorkflowBundleWithSourceMapAndFilename,
      compiledOptions: CompiledWorkerOptions,
      logger: Logger,
    ): Promise<WorkflowCreator> {
      // Debug mode runs workflows in the calling thread, where neither setting applies.
      if (compiledOptions.debugMode) return super.createWorkflowCreator(workflowBundle, compiledOptions, logger);
      const clients = Array.from(
        { length: compiledOptions.workflowThreadPoolSize },
        () =>
          new WorkerThreadClient(
            new NodeWorker(entry, { eval: true }),
            logger,
            compiledOptions.patchActivationCallback,
          ),
      );
      await Promise.all(
        clients.map((client) =>
          client.send({
            type: 'init',
            workflowBundle,
            // Undefined: node:vm runs each call without a timeout, so without a watchdog thread.
            isolateExecutionTimeoutMs: (settings.deadlockDetection
              ? compiledOptions.isolateExecutionTimeoutMs
              : undefined) as number,
            reuseV8Context: compiledOptions.reuseV8Context ?? true,
            registeredActivityNames: new Set(compiledOptions.activities.keys()),
            hasPatchActivationCallback: compiledOptions.patchActivationCallback !== undefined,
          }),
        ),
      );
      return new ThreadedVMWorkflowCreator(clients);
    }
  };
}
