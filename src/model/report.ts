/** The deployment report: every phase's result, the rollback and the watch window, as the seed's Deployment Report shows them. */
import type { AvailabilityStats } from './availability';
import type { DeploymentIdentity, TrafficSample } from './deployment';
import type { BackupResult, LogScanResult, MetricsComparison, MetricsSnapshot, MigrationResult, PodVerification, SmokeResult } from './results';
import type { MonitoringRecord } from './monitoring';
import type { DeploymentOutcome, Phase, TimelineEvent } from './timeline';

/** What started a rollback. */
export type RollbackTrigger = 'signal' | 'alert' | 'rollout-failed' | 'verify-failed' | 'smoke-failed' | 'metrics-regression' | 'logs';

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

export interface WatchRecord {
  startedAt: string;
  endsAt: string;
  endedAt?: string;
  outcome?: 'completed' | 'promoted' | 'rolled_back';
  /** Alerts that fired during the window, with when. */
  alertsFired: FiredAlert[];
  checks: number;
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
  /** The service's own monitoring as the deployment checked it (Hour 3); absent when no check ran. */
  monitoring?: MonitoringRecord;
}
