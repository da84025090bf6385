/**
 * The contract between the deployment workflow and the outside world: the data each activity
 * takes and returns, and the ports (one per outside system) that real adapters and test fakes
 * implement. Plain JSON only: these values travel through workflow history.
 */
import type { ResolvedAlertRule, ResolvedMetricCheck, SecretRef } from '../spec/types';
import type { SmokeSuite } from '../spec/schema';

/** The phases of a deployment, in the order the workflow runs them. */
export type Phase =
  | 'PRECHECK'
  | 'BACKUP'
  | 'MIGRATE'
  | 'ROLLOUT'
  | 'VERIFY_PODS'
  | 'SMOKE'
  | 'METRICS'
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

/**
 * What a port gets from the activity that calls it: a way to heartbeat progress, the cancellation
 * signal, and the details of the last heartbeat when a retried activity resumes.
 */
export interface ProgressContext {
  heartbeat(details?: unknown): void;
  signal: AbortSignal;
  resumeFrom?: unknown;
}

// ---------------------------------------------------------------- Kubernetes

export interface TargetRef {
  namespace: string;
  deployment: string;
  container: string;
}

/** The target as found before anything changes: recorded as the rollback target. */
export interface TargetState extends TargetRef {
  image: string;
  /** Every container's image, by container name. */
  images: Record<string, string>;
  /** The Deployment's current revision (deployment.kubernetes.io/revision). */
  revision: number;
  /** Revisions present in ReplicaSet history, ascending. */
  revisions: number[];
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  updatedReplicas: number;
  healthy: boolean;
  /** Why it is not healthy, one sentence each. */
  problems: string[];
}

export interface RolloutStepInput extends TargetRef {
  image: string;
  release: string;
  /** Hold once this many pods run the new image and are ready; >= replicas means finish the rollout. */
  targetNewPods: number;
  progressDeadlineMs: number;
  /** Manifest text to server-side apply instead of setting the image. */
  manifest?: string;
}

export interface TrafficSample {
  at: string;
  newPods: number;
  oldPods: number;
  /** Share of ready pods on the new version, 0-100 (pods share traffic evenly behind a Service). */
  newPercent: number;
}

export interface RolloutProgress {
  newReady: number;
  oldReady: number;
  replicas: number;
  revision: number;
  /** True when every pod runs the new image and no old pod is left. */
  complete: boolean;
  events: ActivityEvent[];
  traffic: TrafficSample[];
  availability?: AvailabilityStats;
}

export interface RollbackInput extends TargetRef {
  /** Revision recorded before the rollout started. */
  toRevision: number;
  /** The image that revision runs, verified after the undo. */
  expectedImage: string;
  progressDeadlineMs: number;
}

export interface RollbackResult {
  revision: number;
  image: string;
  durationMs: number;
  events: ActivityEvent[];
  traffic: TrafficSample[];
  availability?: AvailabilityStats;
}

export interface VerifyPodsInput extends TargetRef {
  image: string;
  maxRestarts: number;
}

export interface PodCheck {
  name: string;
  image: string;
  ready: boolean;
  phase: string;
  restarts: number;
  /** Why this pod is wrong; absent when it is fine. */
  problem?: string;
}

export interface PodVerification {
  ok: boolean;
  expected: number;
  pods: PodCheck[];
  summary: string;
}

export interface LogScanInput extends TargetRef {
  image: string;
  patterns: string[];
}

export interface LogScanResult {
  podsScanned: number;
  errorLines: { pod: string; line: string }[];
}

export interface MigrationJobInput {
  namespace: string;
  /** Deterministic, so a retried activity finds the Job it already created. */
  jobName: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  timeoutMs: number;
}

export interface MigrationResult {
  jobName: string;
  succeeded: boolean;
  /** Migrations the Job reported applied, e.g. ["0001_initial", "0002_roles"]. */
  applied: string[];
  durationMs: number;
  logTail: string;
}

export interface KubernetesPort {
  readTarget(target: TargetRef): Promise<TargetState>;
  rolloutStep(input: RolloutStepInput, ctx: ProgressContext): Promise<RolloutProgress>;
  rollback(input: RollbackInput, ctx: ProgressContext): Promise<RollbackResult>;
  verifyPods(input: VerifyPodsInput): Promise<PodVerification>;
  scanLogs(input: LogScanInput): Promise<LogScanResult>;
  runMigrationJob(input: MigrationJobInput, ctx: ProgressContext): Promise<MigrationResult>;
}

// ---------------------------------------------------------------- Database backup

export interface BackupInput {
  service: string;
  release: string;
  namespace: string;
  databaseUrl: SecretRef;
  store: string;
  mode: 'local' | 'pod';
  pod?: string;
}

export interface BackupResult {
  location: string;
  sizeBytes: number;
  sha256: string;
  durationMs: number;
  /** Entries `pg_restore --list` found: the dump is readable. */
  tocEntries: number;
}

export interface DatabasePort {
  backup(input: BackupInput, ctx: ProgressContext): Promise<BackupResult>;
}

// ---------------------------------------------------------------- Smoke suite

export interface SmokeInput {
  suite: SmokeSuite;
  baseUrl: string;
  secrets: Record<string, SecretRef>;
  /** Which version is being checked, for the report: the new release, or the old one after a rollback. */
  release: string;
}

export interface SmokeStepResult {
  name: string;
  ok: boolean;
  status?: number;
  latencyMs: number;
  /** The seed's wording: "200 OK", "SUCCESS (JWT token received)", or what went wrong. */
  detail: string;
  expected?: string;
  actual?: string;
}

export interface SmokeResult {
  suite: string;
  release: string;
  passed: boolean;
  steps: SmokeStepResult[];
  averageMs: number;
  p95Ms: number;
}

export interface SmokePort {
  run(input: SmokeInput, ctx: ProgressContext): Promise<SmokeResult>;
}

// ---------------------------------------------------------------- Metrics

/** Why a value is missing: never a silent pass. */
export type MetricOutcome = 'ok' | 'no-data' | 'unreachable' | 'error';

export interface MetricValue {
  name: string;
  value: number | null;
  outcome: MetricOutcome;
  error?: string;
}

export interface MetricsSnapshot {
  takenAt: string;
  values: MetricValue[];
}

export interface MetricsComparisonRow {
  name: string;
  unit: ResolvedMetricCheck['unit'];
  before: number | null;
  after: number | null;
  /** after - before, when both exist. */
  delta: number | null;
  ok: boolean;
  outcome: MetricOutcome;
  /** "Avg Response Time: 95ms → 98ms (+3ms)" */
  text: string;
  reason?: string;
}

export interface MetricsComparison {
  ok: boolean;
  rows: MetricsComparisonRow[];
  after: MetricsSnapshot;
}

export interface RuleEvaluation {
  rule: string;
  value: number | null;
  breaching: boolean;
  outcome: MetricOutcome;
  error?: string;
}

export interface MetricsPort {
  snapshot(input: { prometheusUrl: string; checks: ResolvedMetricCheck[] }): Promise<MetricsSnapshot>;
  compare(input: {
    prometheusUrl: string;
    checks: ResolvedMetricCheck[];
    baseline: MetricsSnapshot;
  }): Promise<MetricsComparison>;
  evaluateRules(input: { prometheusUrl: string; rules: ResolvedAlertRule[] }): Promise<RuleEvaluation[]>;
}

// ---------------------------------------------------------------- Availability probe

export interface AvailabilityStats {
  probes: number;
  failures: number;
  /** The first few failures, for the report. */
  failed: { at: string; error: string }[];
  averageMs: number;
  p95Ms: number;
}

export interface ProbeHandle {
  /** Stops probing and returns what was measured. */
  stop(): Promise<AvailabilityStats>;
}

export interface AvailabilityProbePort {
  start(input: { url: string; intervalMs: number; signal?: AbortSignal }): ProbeHandle;
}

// ---------------------------------------------------------------- Notifications

export type NotificationKind =
  | 'started'
  | 'completed'
  | 'rolled_back'
  | 'failed'
  | 'paged'
  | 'manual_action'
  | 'review_reminder';

export interface Notification {
  kind: NotificationKind;
  service: string;
  namespace: string;
  release: string;
  deploymentId: string;
  title: string;
  text: string;
  severity: 'info' | 'warning' | 'critical';
}

export interface NotificationChannels {
  slack?: { webhook: SecretRef; channel?: string };
  pager?: { webhook: SecretRef };
  webhook?: { url: SecretRef };
}

export interface DeliveryResult {
  channel: 'slack' | 'pager' | 'webhook';
  delivered: boolean;
  error?: string;
}

export interface NotifyPort {
  send(notification: Notification, channels: NotificationChannels): Promise<DeliveryResult[]>;
}

// ---------------------------------------------------------------- Report

export interface RollbackRecord {
  required: boolean;
  /** Rollback readiness as checked before the rollout ("Verified: revision 4 (v0.9.0) …"). */
  readiness: string;
  reason?: string;
  requestedBy?: string;
  trigger?: 'signal' | 'alert' | 'rollout-failed' | 'verify-failed' | 'smoke-failed' | 'metrics-regression' | 'logs';
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  succeeded?: boolean;
  migrationsRolledBack?: boolean;
  smokeAfterRollback?: SmokeResult;
  failedSteps?: string[];
}

export interface WatchRecord {
  startedAt: string;
  endsAt: string;
  endedAt?: string;
  outcome?: 'completed' | 'promoted' | 'rolled_back';
  /** Alerts that fired during the window, with when. */
  alertsFired: { rule: string; severity: string; firedAt: string; value: number | null }[];
  checks: number;
}

/** Everything the deployment report shows, built by the workflow from its state. */
export interface DeploymentReport {
  deploymentId: string;
  service: string;
  namespace: string;
  release: string;
  image: string;
  previousRelease?: string;
  previousImage?: string;
  change?: { reference: string; approvedBy?: string; url?: string };
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  outcome: DeploymentOutcome;
  phase: Phase;
  timeline: TimelineEvent[];
  backup?: BackupResult;
  migrations?: MigrationResult;
  pods?: PodVerification;
  logScan?: LogScanResult;
  smoke?: SmokeResult;
  baseline?: MetricsSnapshot;
  comparison?: MetricsComparison;
  traffic: TrafficSample[];
  availability?: AvailabilityStats;
  issues: string[];
  rollback: RollbackRecord;
  watch?: WatchRecord;
}

export interface ReportPort {
  /** Writes the report (Markdown and JSON) and returns where. */
  write(report: DeploymentReport, dir: string): Promise<{ markdownPath: string; jsonPath: string }>;
}

/** Everything activities are built from: real adapters in the worker, fakes in workflow tests. */
export interface ActivityDeps {
  kubernetes: KubernetesPort;
  database: DatabasePort;
  smoke: SmokePort;
  metrics: MetricsPort;
  probe: AvailabilityProbePort;
  notify: NotifyPort;
  reports: ReportPort;
}
