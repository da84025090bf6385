/**
 * What each phase of a deployment found: the backup, the migrations, the pods, the logs, the smoke
 * suite and the metrics against their baseline. Activities return them, the workflow keeps them,
 * the report shows them.
 */
import type { ResolvedMetricCheck } from '../spec/types';

export interface BackupResult {
  location: string;
  sizeBytes: number;
  sha256: string;
  durationMs: number;
  /** Entries `pg_restore --list` found: the dump is readable. */
  tocEntries: number;
}

export interface MigrationResult {
  jobName: string;
  succeeded: boolean;
  /** Migrations the Job reported applied, e.g. ["0001_initial", "0002_roles"]. */
  applied: string[];
  /** The migration that failed, when the Job's log names it. */
  failed?: string;
  /** The Job was stopped by a rollback while it ran: it may have applied part of its migrations. */
  stopped?: boolean;
  /** Why the Job did not succeed ("job/… failed (BackoffLimitExceeded)", "did not finish within 600s"). */
  reason?: string;
  durationMs: number;
  logTail: string;
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

export interface LogScanResult {
  podsScanned: number;
  errorLines: { pod: string; line: string }[];
  /** Pods whose log was not readable yet (a container's log appears after it starts): how long the scan waited for each. */
  waited?: { pod: string; ms: number; why: string }[];
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
  /** The baseline looked again this long for queries with no data yet (new pods not scraped yet); absent: it did not wait. */
  waitedMs?: number;
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
