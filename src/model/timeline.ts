/**
 * The phases of a deployment, how it ends, and the timeline that records what happened: the
 * single source the status line, the report, the CLI and the Web UI read.
 */

/** The phases of a deployment, in the order the workflow runs them. */
export type Phase =
  | 'PRECHECK'
  | 'BACKUP'
  | 'MIGRATE'
  | 'ROLLOUT'
  | 'VERIFY_PODS'
  | 'SMOKE'
  | 'METRICS'
  | 'MONITORING'
  | 'REPORT'
  | 'WATCH'
  | 'ROLLBACK'
  | 'DONE';

/** How a deployment ended (or that it has not yet). */
export type DeploymentOutcome = 'IN_PROGRESS' | 'SUCCEEDED' | 'ROLLED_BACK' | 'FAILED' | 'MANUAL_ACTION_REQUIRED';

export type EventStatus = 'started' | 'ok' | 'failed' | 'warning' | 'info';

/** An event as an activity reports it; the workflow adds phase and sequence number. */
export interface ActivityEvent {
  /** ISO time the thing happened (the activity's clock). */
  at: string;
  status: EventStatus;
  title: string;
  detail?: string;
  /** Stable identity ("pod-ready:user-management-abc"), so a retried activity never duplicates it. */
  key?: string;
}

/** One line of the timeline: the single source of the report, the CLI and the UI. */
export interface TimelineEvent extends ActivityEvent {
  seq: number;
  phase: Phase;
}
