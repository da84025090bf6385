/**
 * The deployment's state: everything the workflow knows, as plain JSON (no Map, Set or class
 * instances), so continue-as-new can carry it whole in `DeploymentInput.carried`.
 */
import type { DeploymentOutcome, DeploymentReport, Phase, RollbackRecord, TargetState, WatchRecord } from '../activities/types';
import type { AlertState } from './messages';
import type { TimelineState } from './timeline';
import { emptyTimeline } from './timeline';

export type RollbackTrigger = NonNullable<RollbackRecord['trigger']>;

/** What the rollback procedure has to undo, registered after each forward step succeeds. */
export type Compensation = 'rollout' | 'migrations';

export interface RollbackRequest {
  reason: string;
  requestedBy: string;
  trigger: RollbackTrigger;
  at: string;
}

/** The phase results the report shows, kept in state under the report's own names and types. */
export type PhaseResults = Pick<
  DeploymentReport,
  'backup' | 'migrations' | 'pods' | 'logScan' | 'smoke' | 'baseline' | 'comparison' | 'traffic' | 'availability' | 'issues' | 'rollback'
>;

export interface DeploymentState extends PhaseResults {
  deploymentId: string;
  /** The first run of this deployment (continue-as-new keeps it). */
  firstRunId: string;
  requestedBy: string;
  startedAt: string;
  finishedAt?: string;
  phase: Phase;
  outcome: DeploymentOutcome;
  paused: boolean;
  timeline: TimelineState;
  /** The Deployment as found before the rollout: the rollback target. */
  target?: TargetState;
  rollout: { step: number; steps: number; newReady: number; replicas: number; newPercent: number };
  compensations: Compensation[];
  rollbackRequest?: RollbackRequest;
  alerts: AlertState[];
  watch?: WatchRecord & { promotedBy?: string };
  /** Watch checks done by the current run; continue-as-new resets it. */
  checksThisRun: number;
  /** How many runs (continue-as-new hand-overs + 1) this deployment has had. */
  runs: number;
  reviewReminder?: { workflowId: string; at: string };
  reportFiles?: { markdownPath: string; jsonPath: string };
}

export function initialState(args: {
  deploymentId: string;
  firstRunId: string;
  requestedBy: string;
  startedAt: string;
  alerts: AlertState[];
}): DeploymentState {
  return {
    deploymentId: args.deploymentId,
    firstRunId: args.firstRunId,
    requestedBy: args.requestedBy,
    startedAt: args.startedAt,
    phase: 'PRECHECK',
    outcome: 'IN_PROGRESS',
    paused: false,
    timeline: emptyTimeline(),
    traffic: [],
    rollout: { step: 0, steps: 0, newReady: 0, replicas: 0, newPercent: 0 },
    compensations: [],
    issues: [],
    rollback: { required: false, readiness: 'not checked yet' },
    alerts: args.alerts,
    checksThisRun: 0,
    runs: 1,
  };
}

/** The tag of an image reference ("ghcr.io/org/app:v0.9.0" → "v0.9.0"), the release it runs. */
export function releaseOfImage(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1, at + 20);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : image;
}
