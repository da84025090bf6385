/**
 * The contract between the deployment workflow and the outside world: the ports (one per outside
 * system) that real adapters and test fakes implement, and the requests they take. What they
 * return that the deployment keeps (phase results, timeline events) is the data model in
 * src/model. Plain JSON only: these values travel through workflow history. Over 300 lines on
 * purpose: one file per contract, so an adapter's author reads every port and request in one place.
 */
import type {
  ActivityEvent,
  AvailabilityStats,
  BackupResult,
  DeploymentRef,
  DeploymentReport,
  LogScanResult,
  MetricOutcome,
  MetricsComparison,
  MetricsSnapshot,
  MigrationResult,
  MonitoringCheckResult,
  MonitoringSettings,
  PodVerification,
  RollbackTarget,
  SmokeResult,
  TrafficSample,
} from '../model';
import type { AlertQuery, DeploySpec, ResolvedEntryPoint, ResolvedMetricCheck, SecretRef } from '../spec/types';
import type { SmokeSuite } from '../spec/schema';

/**
 * The deployment data model moved to src/model; re-exported here until every importer reads it
 * from there (the lead deletes this block at the end of issue 10).
 */

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

export interface RolloutStepInput extends DeploymentRef {
  image: string;
  release: string;
  /** Hold once this many pods run the new image and are ready; >= replicas means finish the rollout. */
  targetNewPods: number;
  progressDeadlineMs: number;
  /** Manifest text to server-side apply instead of setting the image. */
  manifest?: string;
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

export interface RollbackInput extends DeploymentRef {
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

export interface VerifyPodsInput extends DeploymentRef {
  image: string;
  maxRestarts: number;
}

export interface LogScanInput extends DeploymentRef {
  image: string;
  patterns: string[];
}

export interface MigrationJobInput {
  namespace: string;
  /** Deterministic, so a retried activity finds the Job it already created; unique per deployment. */
  jobName: string;
  /** The deployment's first run ID: labelled on the Job, checked before an existing Job is adopted. */
  runId?: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  timeoutMs: number;
}

export interface KubernetesPort {
  readTarget(ref: DeploymentRef): Promise<RollbackTarget>;
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

export interface SmokePort {
  run(input: SmokeInput, ctx: ProgressContext): Promise<SmokeResult>;
}

// ---------------------------------------------------------------- Metrics

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
  /**
   * `atMs`: the instant the rules are evaluated at (the watch evaluator's slot); by default
   * Prometheus's own now. Asks for one instant give one answer: the same query for the same instant
   * (several evaluators' shares of one fleet) is sent once. `planKey`: who asks (the workflow's
   * ID); an adapter may keep how it asked that asker's last rules, and ask the same way while they
   * are the same.
   */
  evaluateRules(input: { prometheusUrl: string; rules: AlertQuery[]; atMs?: number; planKey?: string }): Promise<RuleEvaluation[]>;
}

// ---------------------------------------------------------------- Availability probe

export interface ProbeHandle {
  /** Stops probing and returns what was measured. */
  stop(): Promise<AvailabilityStats>;
}

/** The availability probe: which URL to call while pods change, and how often. */
export interface HealthProbe {
  url: string;
  intervalMs: number;
}

export interface AvailabilityProbePort {
  start(input: HealthProbe & { signal?: AbortSignal }): ProbeHandle;
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
  /**
   * The pager's dedup key (src/model/dedup.ts): per deployment run, kind of page and what it is
   * about. Absent only in notifications scheduled by runs from before it existed.
   */
  dedupKey?: string;
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

// ---------------------------------------------------------------- Public entry point

export interface EntryPointInput {
  entryPoint: ResolvedEntryPoint;
  release: string;
}

/**
 * The entry point as checked: `passed` when the cluster's route sends host + path to the Service
 * and the health step through it answered as the new release; `failed` naming what was found;
 * `not_run` when the route could not be read (the API unreachable), never `passed`.
 */
export interface EntryPointResult {
  status: 'passed' | 'failed' | 'not_run';
  /** What the cluster has: the object and where it routes host + path. */
  found: string;
  /** The request through the entry point and its answer, when it was sent. */
  request?: string;
  /** One sentence: why it passed, failed or did not run. */
  detail: string;
}

export interface EntryPointPort {
  check(input: EntryPointInput, signal: AbortSignal): Promise<EntryPointResult>;
}

// ---------------------------------------------------------------- Uptime probe

export interface UptimeInput {
  prometheusUrl: string;
  /** The probe's job and instance labels (src/monitoring/uptime.ts). */
  job: string;
  url: string;
  /** ISO time the new release was in place: only a probe result after it counts. */
  since: string;
  /** How long to wait for a probe result after `since`. */
  waitMs: number;
}

/** Same shape as the entry point's: passed, failed naming what was found, or not run (never passed). */
export type UptimeResult = EntryPointResult;

export interface UptimePort {
  check(input: UptimeInput, signal: AbortSignal): Promise<UptimeResult>;
}

// ---------------------------------------------------------------- On-call

/** Who is on call for a rotation at a moment (the deployment's start). */
export interface OnCallInput {
  rotation: string;
  /** The rotation's schedule (env:NAME or file:PATH); absent when the spec names only a paging webhook. */
  schedule?: SecretRef;
  /** ISO time the shift must cover. */
  at: string;
}

/** The on-call engineer as the schedule names them, or why nobody was resolved. */
export interface OnCallAssignment {
  rotation: string;
  resolved: boolean;
  engineer?: string;
  contact?: string;
  /** The shift that covers the moment, when the schedule is a list of shifts. */
  shift?: { from: string; to: string };
  /** Why no engineer was resolved (no schedule, unreadable, no shift covers the moment). */
  reason?: string;
}

export interface OnCallPort {
  /** Never throws for what the schedule says or lacks: an unresolved assignment says why. */
  resolve(input: OnCallInput): Promise<OnCallAssignment>;
}

// ---------------------------------------------------------------- The service's own monitoring

/** What every monitoring check reads: the spec (service, selector, rules, image of the new release) and its monitoring settings. */
export interface MonitoringCheckInput {
  spec: DeploySpec;
  settings: MonitoringSettings;
}

/**
 * Hour 3's monitoring checks, one call each. A check never throws for what it finds: a failure is a
 * `failed` result naming what is wrong, and a check that could not look is `not_run` saying why.
 */
export interface MonitoringPort {
  /** The new release's pods are Prometheus targets and `up{<selector>}` is 1. */
  scrape(input: MonitoringCheckInput): Promise<MonitoringCheckResult>;
  /** The spec's rules are installed where Prometheus evaluates them (applied as a PrometheusRule, or in /api/v1/rules). */
  alertsConfigured(input: MonitoringCheckInput): Promise<MonitoringCheckResult>;
  /** Each rule evaluated once now: its value and whether it would fire. */
  alertsTested(input: MonitoringCheckInput): Promise<MonitoringCheckResult>;
  /** The new pods' logs are readable, and the log pipeline's config is in the cluster. */
  logging(input: MonitoringCheckInput): Promise<MonitoringCheckResult>;
  /** The new pods carry the error tracker's DSN, and a test event reaches the tracker. */
  errorTracking(input: MonitoringCheckInput): Promise<MonitoringCheckResult>;
  /** The generated dashboard is a valid Grafana model and every panel's query returns data. */
  dashboards(input: MonitoringCheckInput): Promise<MonitoringCheckResult>;
}

// ---------------------------------------------------------------- Report

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
  monitoring: MonitoringPort;
  /** Default: the real resolver (./on-call.ts), which reads only what the spec's schedule reference names. */
  onCall?: OnCallPort;
  /** Absent: an entry point in the spec is reported not run (nothing can read the cluster's routes). */
  entryPoint?: EntryPointPort;
  /** Default: the real checker (./uptime.ts), which only reads the Prometheus the spec names. */
  uptime?: UptimePort;
}
