/**
 * The deployment's state: everything the workflow knows, as plain JSON (no Map, Set or class
 * instances), so continue-as-new can carry it whole in `DeploymentInput.carried`.
 */
import type { DeploymentOutcome, DeploymentReport, Phase, RollbackTarget, RollbackTrigger, WatchRecord } from '../model';
import type { AlertState } from './messages';
import type { TimelineState } from './timeline';
import { emptyTimeline } from './timeline';

export type { RollbackTrigger };

/** What the rollback procedure has to undo, registered after each forward step succeeds. */
export type Compensation = 'rollout' | 'migrations';

/** A rollback request the deployment accepted: what triggered it, why, by whom, when (the message is `RollbackRequest` in messages.ts). */
export interface AcceptedRollback {
  reason: string;
  requestedBy: string;
  trigger: RollbackTrigger;
  at: string;
}

/** The phase results the report shows, kept in state under the report's own names and types. */
export type PhaseResults = Pick<
  DeploymentReport,
  'backup' | 'migrations' | 'pods' | 'logScan' | 'smoke' | 'baseline' | 'comparison' | 'traffic' | 'availability' | 'issues' | 'rollback' | 'healthWindows' | 'monitoring'
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
  /** The Deployment as found before the rollout: what a rollback returns to. */
  rollbackTarget?: RollbackTarget;
  rollout: { step: number; steps: number; newReady: number; replicas: number; newPercent: number };
  compensations: Compensation[];
  rollbackRequest?: AcceptedRollback;
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

/** The state as runs before the rename carried it: the rollback target was called `target`. */
type CarriedBeforeRename = Omit<DeploymentState, 'rollbackTarget'> & { rollbackTarget?: RollbackTarget; target?: RollbackTarget };

/**
 * The state handed over by continue-as-new, in today's shape, counted as the next run: a state
 * carried by a run from before the rename still names the rollback target `target`.
 */
export function resumeCarried(carried: unknown): DeploymentState {
  const { target, ...rest } = carried as CarriedBeforeRename;
  const state: DeploymentState = rest.rollbackTarget === undefined && target !== undefined ? { ...rest, rollbackTarget: target } : rest;
  state.runs += 1;
  state.checksThisRun = 0;
  return state;
}
