/**
 * Names and label values of shipwatch's own metrics, shared by the worker's registry, the shipped
 * alert rules and the dashboards' deployment annotations so a rename cannot break one silently.
 */

export const METRIC = {
  /** Counter: deployments that reached an end, by outcome (SUCCEEDED, ROLLED_BACK, FAILED, MANUAL_ACTION_REQUIRED). */
  deploymentsFinished: 'shipwatch_deployments_finished_total',
  /** Counter: deployments started (not counting continue-as-new hand-overs). */
  deploymentsStarted: 'shipwatch_deployments_started_total',
  /** Gauge: deployments by state: running (a workflow is in progress on this worker) or an end state. */
  deployments: 'shipwatch_deployments',
  /** Counter: rollbacks by trigger (signal, alert, rollout-failed, smoke-failed, …). */
  rollbacks: 'shipwatch_rollbacks_total',
  /** Counter: release events per service, the source of the dashboards' deployment annotations. */
  deploymentEvents: 'shipwatch_deployment_events_total',
  /** Counters: activity executions and failures by activity type. */
  activityExecutions: 'shipwatch_activity_executions_total',
  activityFailures: 'shipwatch_activity_failures_total',
  /** Histogram: activity durations by activity type, in seconds. */
  activityDuration: 'shipwatch_activity_duration_seconds',
  /** Gauges per deployment in its watch window: when the last check completed, and the check interval. */
  watchLastCheck: 'shipwatch_watch_last_check_timestamp_seconds',
  watchInterval: 'shipwatch_watch_interval_seconds',
  /** Gauge: 1 while the worker is running (polling its task queue). */
  workerRunning: 'shipwatch_worker_running',
} as const;

/** The release events drawn as annotations on every generated dashboard. */
export type DeploymentEvent = 'started' | 'finished' | 'rolled_back';
export const DEPLOYMENT_EVENTS: readonly DeploymentEvent[] = ['started', 'finished', 'rolled_back'];
