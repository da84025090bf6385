/**
 * Activity inbound interceptor: counts every activity attempt and failure by activity type, and
 * turns the deployment activities' results into release events and watch-check timestamps.
 */
import { CancelledFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import type { ShipwatchMetrics } from './metrics';

/** Activity names of the deployment workflow whose results the metrics read (src/activities/index.ts). */
export const WATCHED_ACTIVITIES = {
  watchCheck: 'evaluateAlertRules',
  rolloutStep: 'rolloutStep',
  rollback: 'rollbackDeployment',
} as const;

function errorName(err: unknown): string {
  if (err instanceof CancelledFailure) return 'Cancelled';
  if (err instanceof Error) return err.name || 'Error';
  return 'Unknown';
}

export function activityMetricsInterceptor(metrics: ShipwatchMetrics): ActivityInterceptorsFactory {
  return (ctx) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        const { activityType } = ctx.info;
        const workflowId = ctx.info.workflowExecution?.workflowId;
        const started = process.hrtime.bigint();
        const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
        let result: unknown;
        try {
          result = await next(input);
        } catch (err) {
          metrics.activityAttempt(activityType, seconds(), errorName(err));
          throw err;
        }
        metrics.activityAttempt(activityType, seconds());
        if (workflowId) {
          if (activityType === WATCHED_ACTIVITIES.watchCheck) metrics.watchCheckCompleted(workflowId);
          else if (activityType === WATCHED_ACTIVITIES.rolloutStep && (result as { complete?: unknown } | undefined)?.complete === true) {
            metrics.deploymentEvent(workflowId, 'finished');
          } else if (activityType === WATCHED_ACTIVITIES.rollback) metrics.deploymentEvent(workflowId, 'rolled_back');
        }
        return result;
      },
    };
    return { inbound };
  };
}
