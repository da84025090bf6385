/**
 * The release train's plain-JSON shapes: the resolved release spec the workflow receives, the
 * state it keeps (carried in history, so no Map/Set/class), and what it answers with.
 */
import type { DeploymentOutcome, EventStatus, Phase } from '../../model';
import type { DeploySpec } from '../../spec/types';

/** What a failure of one service does to the others. */
export type FailurePolicy = 'rollback-all' | 'halt' | 'continue';
/** `together`: one shared window after the last service; `per-service`: each its own, in order. */
export type WatchMode = 'together' | 'per-service';

export interface ReleaseServiceSpec {
  /** The service name (the deploy spec's `service`), used in `after`. */
  name: string;
  /** Services that must be rolled out first. */
  after: string[];
  /** Wait for `shipwatch release approve` before this service starts. */
  approval: 'required' | 'none';
  spec: DeploySpec;
}

export interface ReleaseSpec {
  name: string;
  services: ReleaseServiceSpec[];
  onFailure: FailurePolicy;
  watch: {
    mode: WatchMode;
    /** The shared window's length (together); unused per service (each spec has its own). */
    durationMs: number;
    /**
     * Together: the longest the rest of the train may take after a service entered its watch.
     * Each service's own window is set to this plus the shared window, so it is still open when
     * the release ends the watch of all of them at once.
     */
    trainTimeoutMs: number;
  };
  /** How often the release asks a rolling-out service for its phase (to know it reached WATCH). */
  statusIntervalMs: number;
  report: { dir: string };
}

export interface ReleaseInput {
  spec: ReleaseSpec;
  requestedBy: string;
}

/** Where one service of the train is. */
export type ServiceStage =
  | 'pending'
  | 'awaiting-approval'
  | 'deploying'
  | 'watching'
  | 'rolling-back'
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'manual-action'
  | 'skipped';

export type ReleaseOutcome = 'IN_PROGRESS' | 'SUCCEEDED' | 'ROLLED_BACK' | 'HALTED' | 'PARTIAL' | 'MANUAL_ACTION_REQUIRED';
export type ReleasePhase = 'DEPLOYING' | 'WATCH' | 'ROLLBACK' | 'DONE';

export interface ServiceRecord {
  name: string;
  after: string[];
  workflowId: string;
  release: string;
  stage: ServiceStage;
  /** Start order within the train (1, 2, …): a rollback of the release goes in reverse. */
  startedSeq?: number;
  runId?: string;
  startedAt?: string;
  watchingAt?: string;
  endedAt?: string;
  outcome?: DeploymentOutcome;
  /** The last phase the release saw the deployment in. */
  phase?: Phase;
  /** Why it failed, was skipped, or what the release did to it. */
  note?: string;
  /** The release asked this deployment to roll back. */
  rollbackRequested?: boolean;
  approvedBy?: string;
  /** Its deployment report (written by the deployment itself). */
  reportFiles?: { markdownPath?: string; jsonPath?: string };
}

export interface ReleaseEvent {
  seq: number;
  at: string;
  status: EventStatus;
  title: string;
  detail?: string;
  /** The service the event is about, if any. */
  service?: string;
}

export interface ReleaseState {
  releaseId: string;
  name: string;
  requestedBy: string;
  startedAt: string;
  finishedAt?: string;
  phase: ReleasePhase;
  outcome: ReleaseOutcome;
  services: ServiceRecord[];
  events: ReleaseEvent[];
  nextSeq: number;
  nextStart: number;
  /** The first failure, which applied the policy. */
  failure?: { service: string; reason: string; at: string };
  rollbackRequest?: { reason: string; requestedBy: string; at: string };
  watch?: { startedAt: string; endsAt: string; endedAt?: string; outcome?: 'completed' | 'cut-short' };
  reportFiles?: { markdownPath: string; jsonPath: string };
}
