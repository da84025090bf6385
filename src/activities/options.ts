/**
 * One named options constant per kind of activity the deployment workflow runs: quick API calls,
 * watch-window checks, long heartbeating operations, the rollback procedure, notifications and
 * report writing. docs/workflow.md has the table; keep both in step.
 *
 * Pure module (no I/O): the workflow bundle imports it.
 */
import { ActivityCancellationType } from '@temporalio/common';
import type { ActivityOptions } from '@temporalio/common';
import { NON_RETRYABLE_TYPES } from './errors';

/** Read-only calls to the API server or Prometheus: readTarget, verifyPods, scanPodLogs, captureBaseline, compareMetrics. */
export const QUICK_CALL: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
};

/** How long one check may take (WATCH_CHECK). */
const WATCH_CHECK_MS = 30_000;

/**
 * One check of a watch or step health window (evaluateAlertRules, checkStepHealth): short, few
 * retries, so a flaky Prometheus delays the window by seconds, not by an interval; the next check
 * comes anyway.
 */
export const WATCH_CHECK: ActivityOptions = {
  startToCloseTimeout: WATCH_CHECK_MS,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
};

/**
 * A watch evaluator's evaluation that waits in the worker for its slot (evaluateWatchRulesAtSlot,
 * patch evaluator-evaluation-waits): scheduled when the slot before was read, so its time to
 * close is the wait (an interval at most) plus WATCH_CHECK's. It does not heartbeat (each
 * heartbeat is a call to the server, the cost this shape saves): a worker that dies with the wait
 * in it is noticed when that time runs out, and the retry evaluates at once — that slot late by an
 * interval and WATCH_CHECK's 30 s at most, well inside a window's silence limit.
 */
export function slotEvaluation(intervalMs: number): ActivityOptions {
  return { ...WATCH_CHECK, startToCloseTimeout: intervalMs + WATCH_CHECK_MS };
}

/**
 * Operations that take minutes and heartbeat their progress: backupDatabase, runMigrations,
 * rolloutStep, runSmokeSuite. A dead worker is noticed within the heartbeat timeout and the
 * retry resumes from the last heartbeat. The workflow raises startToCloseTimeout from the spec
 * (progress deadline, migration timeout) per call. WAIT_CANCELLATION_COMPLETED: a rollback must
 * not start while a cancelled rollout step is still patching the Deployment.
 */
export const LONG_RUNNING: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 3,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
};

/**
 * The rollback procedure's long steps (rollbackDeployment, rollbackMigrations, the smoke suite on
 * the old version): run in a non-cancellable scope and tried harder than the forward path, since
 * giving up means paging a person.
 */
export const ROLLBACK_STEP: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
};

/** Slack/pager/webhook deliveries. A notification that cannot be sent never fails a deployment. */
export const NOTIFICATION: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
};

/** Writing the Markdown and JSON report to the report directory. */
export const REPORT_WRITE: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
};

/** Extra time on top of a spec's own deadline, so Kubernetes reports the deadline before Temporal does. */
export const DEADLINE_MARGIN_MS = 2 * 60_000;
