/**
 * Signal-with-start of the watch evaluator (src/workflows/evaluator.ts), for a window entering its
 * watch: the registration is delivered, and the evaluator started first if none runs. An activity,
 * because only a client can start a workflow that is nobody's child (the worker's own client:
 * `Context.current().client`). A new evaluator starts on `evaluatorTaskQueue` when the worker names
 * one (the shipwatch worker polls it with a worker of its own), else on the window's queue. One
 * already running stays on the queue it started on: a window only signals it.
 */
import { Context } from '@temporalio/activity';
import { registerWatchSignal } from '../workflows/evaluator-messages';
import type { EvaluatorInput, WatchRegistration } from '../workflows/evaluator-messages';

export interface StartEvaluatorInput {
  evaluatorId: string;
  prometheusUrl: string;
  intervalMs: number;
  registration: WatchRegistration;
  /** Shown in the Web UI's list. */
  summary: string;
}

/** The evaluators' task queue beside a deployments' queue. */
export function evaluatorTaskQueue(deploymentQueue: string): string {
  return `${deploymentQueue}-evaluators`;
}

export function createWatchActivities(options: { evaluatorTaskQueue?: string } = {}) {
  return {
    async startWatchEvaluator(input: StartEvaluatorInput): Promise<{ runId: string }> {
      const ctx = Context.current();
      const args: EvaluatorInput = { prometheusUrl: input.prometheusUrl, intervalMs: input.intervalMs };
      const handle = await ctx.client.workflow.signalWithStart('watchEvaluatorWorkflow', {
        workflowId: input.evaluatorId,
        taskQueue: options.evaluatorTaskQueue ?? ctx.info.taskQueue,
        args: [args],
        signal: registerWatchSignal,
        signalArgs: [input.registration],
        staticSummary: input.summary,
      });
      return { runId: handle.signaledRunId };
    },
  };
}

export type WatchActivities = ReturnType<typeof createWatchActivities>;
