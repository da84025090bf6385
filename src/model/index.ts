/**
 * The deployment data model: phases and outcomes, the timeline, what each phase found, the
 * rollback and watch records, the report and the status answer. Shared by the workflow, the
 * activities, the CLI and the report renderer; plain JSON types and pure functions only.
 */
export type { Phase, DeploymentOutcome, EventStatus, ActivityEvent, TimelineEvent } from './timeline';
export type { DeploymentIdentity, DeploymentRef, RollbackTarget, TrafficSample } from './deployment';
export type { AvailabilityStats } from './availability';
export { mergeAvailability, MAX_FAILED_PROBES } from './availability';
export type { DedupParts } from './dedup';
export { dedupKey } from './dedup';
export type {
  BackupResult,
  MigrationResult,
  PodCheck,
  PodVerification,
  LogScanResult,
  SmokeStepResult,
  SmokeResult,
  MetricOutcome,
  MetricValue,
  MetricsSnapshot,
  MetricsComparisonRow,
  MetricsComparison,
} from './results';
export type { RollbackTrigger, RollbackRecord, FiredAlert, Sight, HealthWindowRecord, WatchRecord, DeploymentReport } from './report';
export type { AlertState, RolloutProgressStatus, WatchStatus, DeploymentStatus } from './status';
export { breaches } from './status';
export type {
  MonitoringCheckName,
  MonitoringCheckStatus,
  MonitoringCheckResult,
  MonitoringPolicy,
  LogPipelineRef,
  ErrorTrackingRef,
  MonitoringSettings,
  MonitoringRecord,
  MonitoringVerdict,
} from './monitoring';
export { MONITORING_CHECKS, DEFAULT_MONITORING_POLICY, MONITORING_CHECKLIST, monitoringVerdict, checklistState } from './monitoring';
