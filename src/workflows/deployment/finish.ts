/**
 * How a deployment ends. `forwardPathStopped` turns what stopped the forward path into an outcome
 * or a rollback request; `finish` runs (non-cancellable) the rollback when one is requested, closes
 * the watch window of a deployment that succeeded, enters DONE, schedules the post-deployment
 * review and writes the final report. A FAILED deployment fails the workflow with the report in
 * the failure's details; every other outcome returns the report.
 */
import { ApplicationFailure, CancellationScope, ParentClosePolicy, isCancellation, patched, setCurrentDetails, startChild, upsertSearchAttributes } from '@temporalio/workflow';
import type { DeploymentReport } from '../../model';
import { searchAttributes } from '../messages';
import { reviewReminderWorkflow } from '../review-reminder';
import type { DeploymentContext } from './context';
import { DEPLOYMENT_FAILED, DEPLOYMENT_ROLLED_BACK, DeploymentFailed, MANUAL_ACTION_REQUIRED, RollbackNeeded, messageOf } from './failures';
import { rollBack } from './rollback';

/** What stopped the forward path or the watch: a failure ends FAILED, anything to undo is a rollback request. */
export async function forwardPathStopped(ctx: DeploymentContext, err: unknown): Promise<void> {
  const { spec, state } = ctx;
  if (err instanceof DeploymentFailed) {
    state.outcome = 'FAILED';
    state.issues.push(err.reason);
    ctx.record('failed', 'Deployment failed', err.reason, 'deployment-failed');
    await CancellationScope.nonCancellable(async () => {
      await ctx.notify({ kind: 'failed', severity: 'critical', title: `Deployment failed: ${spec.service} ${spec.release}`, text: `${err.reason}. ${state.compensations.includes('rollout') ? `${spec.release} stays live: roll back with \`shipwatch rollback\` if needed.` : 'Nothing was rolled out.'}` });
    });
  } else if (err instanceof RollbackNeeded) {
    ctx.requestRollback(err.trigger, err.reason, 'shipwatch');
  } else if (isCancellation(err)) {
    // A cancelled deployment (Web UI, `temporal workflow cancel`) is rolled back, never left half-done.
    ctx.requestRollback('signal', 'deployment cancelled', 'temporal cancellation');
  } else {
    throw err;
  }
}

export function finish(ctx: DeploymentContext): Promise<DeploymentReport> {
  const { spec, state } = ctx;
  return CancellationScope.nonCancellable(async () => {
    if (state.rollbackRequest && state.outcome === 'IN_PROGRESS') await rollBack(ctx);
    await Promise.all(ctx.unfinished);
    if (state.outcome === 'IN_PROGRESS') closeWatch(ctx);
    state.finishedAt = new Date().toISOString();
    ctx.enter('DONE');
    upsertSearchAttributes([{ key: searchAttributes.outcome, value: state.outcome }]);
    await scheduleReviewReminder(ctx);
    await ctx.writeReport('Final report written');
    setCurrentDetails(`${spec.service} ${spec.release}: ${state.outcome}${state.rollback.reason ? ` (${state.rollback.reason})` : ''}`);
    ctx.flushTimelineMemo();
    if (state.outcome === 'FAILED') {
      throw ApplicationFailure.create({ type: DEPLOYMENT_FAILED, message: state.issues[state.issues.length - 1] ?? 'deployment failed', nonRetryable: true, details: [ctx.report()] });
    }
    // Rolled back or waiting for a person: Temporal's own status (the Web UI's list) says it did not succeed.
    if ((state.outcome === 'ROLLED_BACK' || state.outcome === 'MANUAL_ACTION_REQUIRED') && patched(UNSUCCESSFUL_FAILS_PATCH)) {
      const type = state.outcome === 'ROLLED_BACK' ? DEPLOYMENT_ROLLED_BACK : MANUAL_ACTION_REQUIRED;
      const message = `${state.outcome}: ${spec.service} ${spec.release}: ${state.rollback.reason ?? 'rolled back'}${state.outcome === 'MANUAL_ACTION_REQUIRED' ? `; failed steps: ${(state.rollback.failedSteps ?? []).join('; ')}` : ''}`;
      throw ApplicationFailure.create({ type, message, nonRetryable: true, details: [ctx.report()] });
    }
    return ctx.report();
  });
}

/** Rolled-back and manual-action deployments end failed (new command): histories from before replay without. */
export const UNSUCCESSFUL_FAILS_PATCH = 'unsuccessful-outcome-fails';

/** Nothing went wrong: the watch window ended (its time, or a promote) and the deployment succeeded. */
function closeWatch(ctx: DeploymentContext): void {
  const { state } = ctx;
  state.outcome = 'SUCCEEDED';
  const watch = state.watch!;
  watch.endedAt = new Date().toISOString();
  ctx.record('ok', watch.outcome === 'promoted' ? `Watch window ended early: promoted by ${watch.promotedBy ?? 'unknown'}` : 'Watch window completed', `${watch.checks} checks, ${watch.alertsFired.length} alert(s) fired`, 'watch-ended');
}

/** Starts the post-deployment review reminder as an abandoned child: this deployment closes now. */
async function scheduleReviewReminder(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  if (spec.watch.reviewAfterMs <= 0 || state.reviewReminder) return;
  const at = new Date(Date.parse(state.startedAt) + spec.watch.reviewAfterMs).toISOString();
  const workflowId = `${state.deploymentId}-review-${state.firstRunId}`;
  try {
    await startChild(reviewReminderWorkflow, {
      workflowId,
      args: [{ deploymentId: state.deploymentId, runId: state.firstRunId, service: spec.service, namespace: spec.namespace, release: spec.release, outcome: state.outcome, at, channels: spec.notifications }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `Post-deployment review reminder: ${spec.service} ${spec.release}`,
    });
    state.reviewReminder = { workflowId, at };
    ctx.record('info', 'Post-deployment review scheduled', `reminder at ${at}`, 'review-scheduled');
  } catch (err) {
    ctx.record('warning', 'Post-deployment review reminder not scheduled', messageOf(err), 'review-scheduled');
  }
}
