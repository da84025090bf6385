/** The deployment report: every phase's result, the rollback and the watch window, as the seed's Deployment Report shows them. */
import type { AvailabilityStats } from './availability';
import type { DeploymentIdentity, TrafficSample } from './deployment';
import type { BackupResult, LogScanResult, MetricsComparison, MetricsSnapshot, MigrationResult, PodVerification, SmokeResult } from './results';
import type { MonitoringRecord } from './monitoring';
import type { DeploymentOutcome, Phase, TimelineEvent } from './timeline';

/** What started a rollback. */
export type RollbackTrigger = 'signal' | 'alert' | 'rollout-failed' | 'verify-failed' | 'smoke-failed' | 'metrics-regression' | 'logs' | 'blind-watch' | 'monitoring';

export interface RollbackRecord {
  required: boolean;
  /** Rollback readiness as checked before the rollout ("Verified: revision 4 (v0.9.0) …"). */
  readiness: string;
  reason?: string;
  requestedBy?: string;
  trigger?: RollbackTrigger;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  succeeded?: boolean;
  migrationsRolledBack?: boolean;
  smokeAfterRollback?: SmokeResult;
  failedSteps?: string[];
}

/** An alert that fired during the watch window, with when. */
export interface FiredAlert {
  rule: string;
  severity: string;
  firedAt: string;
  value: number | null;
}

/**
 * How much of a window was actually watched (src/workflows/sight.ts): checks that evaluated every
 * alert rule, and the time they could not be evaluated, with why.
 */
export interface Sight {
  checks: number;
  /** Checks whose every rule was evaluated (a value read from Prometheus). */
  evaluated: number;
  /** Closed blind streaks, in ms (the open one is `blind`). */
  blindMs: number;
  /** The blind streak going on now. */
  blind?: { since: string; reason: string; paged: boolean; escalated: boolean };
  /** Why the window was blind (distinct reasons, the first five). */
  reasons: string[];
  /** `watch.onBlind` was applied during the window. */
  escalated?: boolean;
  /** Nothing can be watched (no metrics, no rules): said plainly. */
  unwatched?: string;
}

/** A rollout step's health window: how many checks ran and how many evaluated the alert rules. */
export interface HealthWindowRecord {
  step: number;
  checks: number;
  evaluated: number;
  blindMs: number;
  reasons: string[];
}

export interface WatchRecord {
  startedAt: string;
  endsAt: string;
  endedAt?: string;
  /** `blind`: ended by `watch.onBlind: fail`. */
  outcome?: 'completed' | 'promoted' | 'rolled_back' | 'blind';
  /** Alerts that fired during the window, with when. */
  alertsFired: FiredAlert[];
  checks: number;
  /** How much of the window was watched; absent in windows of runs from before it was counted. */
  sight?: Sight;
  /** The report's sentence for it: "watched 96% of 24h; blind 58 min: Prometheus unreachable". */
  watched?: string;
}

/**
 * The deployment's trace (OpenTelemetry, one trace per deployment): its ID and a link to the trace
 * backend, or why there is none. Added by the report writer, which runs inside the trace.
 */
export interface TraceRecord {
  traceId?: string;
  /** The trace in the backend's UI or API (SHIPWATCH_TRACE_URL with the ID in it). */
  url?: string;
  /** Why no trace is shown (tracing off, and how to turn it on). */
  off?: string;
}

/** Everything the deployment report shows, built by the workflow from its state. */
export interface DeploymentReport extends DeploymentIdentity {
  previousImage?: string;
  change?: { reference: string; approvedBy?: string; url?: string };
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  outcome: DeploymentOutcome;
  phase: Phase;
  timeline: TimelineEvent[];
  backup?: BackupResult;
  /** The spec's database reference (`env:NAME`/`file:PATH`, never the URL): where a restore goes. */
  databaseRef?: string;
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
  /** The rollout steps' health windows: checks run and checks that evaluated the alert rules. */
  healthWindows?: HealthWindowRecord[];
  /** When the post-deployment review reminder fires; absent when `watch.reviewAfter` is off or it was not scheduled. */
  reviewAt?: string;
  /** The service's own monitoring as the deployment checked it (Hour 3); absent when no check ran. */
  monitoring?: MonitoringRecord;
  /** The deployment's trace, as the report writer found it (absent in reports written before it existed). */
  trace?: TraceRecord;
}
