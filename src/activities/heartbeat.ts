/**
 * The heartbeat details of the Kubernetes activities, one union discriminated by `kind`: the
 * adapter writes them, Temporal keeps the last one, and a retried attempt gets it back as
 * `resumeFrom` through `readHeartbeat` (src/activities/index.ts), which accepts only these shapes.
 */

/** Where a rollout watch is: after its write, waiting for the new ReplicaSet, stepping, held, watching the controller, done. */
export type WatchPhase = 'applied' | 'creating-new-replicaset' | 'new-replicaset' | 'stepping' | 'held' | 'watching' | 'complete';

const WATCH_PHASES: readonly WatchPhase[] = ['applied', 'creating-new-replicaset', 'new-replicaset', 'stepping', 'held', 'watching', 'complete'];

/** Ready pods of the Deployment's template (`newReady`) and of its older ReplicaSets, at the last look (0 before the first). */
interface ReadyPods {
  phase: WatchPhase;
  newReady: number;
  oldReady: number;
}

/** One step of the stepped rollout (rolloutStep). */
export interface RolloutStepHeartbeat extends ReadyPods {
  kind: 'rollout-step';
  release: string;
  targetNewPods: number;
}

/** `rollout undo` to a recorded revision (rollbackDeployment). */
export interface RollbackHeartbeat extends ReadyPods {
  kind: 'rollback';
  toRevision: number;
}

/** The migration Job; `startedAt` is the first attempt's start, so the Job's timeout spans retries. */
export interface MigrationHeartbeat {
  kind: 'migration-job';
  jobName: string;
  startedAt: string;
  phase: 'created' | 'waiting';
  /** Active pods of the Job at the last look. */
  active: number;
}

export type ProgressHeartbeat = RolloutStepHeartbeat | RollbackHeartbeat | MigrationHeartbeat;

/** What a rollout watch says about itself in every heartbeat: which watch it is. */
export type WatchIdentity = Pick<RolloutStepHeartbeat, 'kind' | 'release' | 'targetNewPods'> | Pick<RollbackHeartbeat, 'kind' | 'toRevision'>;

type Fields = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function readyPods(d: Fields): ReadyPods | undefined {
  const phase = WATCH_PHASES.find((p) => p === d.phase);
  if (!phase || !isCount(d.newReady) || !isCount(d.oldReady)) return undefined;
  return { phase, newReady: d.newReady, oldReady: d.oldReady };
}

/**
 * The details of the previous attempt's last heartbeat as one of the union's shapes (unknown
 * fields dropped), or undefined for anything else. A migration heartbeat written before `kind`
 * existed (`{ jobName, startedAt, phase }`) is read as a migration-job one, so a Job in flight
 * across an upgrade keeps its timeout.
 */
export function readHeartbeat(details: unknown): ProgressHeartbeat | undefined {
  if (!details || typeof details !== 'object' || Array.isArray(details)) return undefined;
  const d = details as Fields;
  if (d.kind === 'rollout-step') {
    const ready = readyPods(d);
    if (!ready || !isString(d.release) || !isCount(d.targetNewPods)) return undefined;
    return { kind: 'rollout-step', release: d.release, targetNewPods: d.targetNewPods, ...ready };
  }
  if (d.kind === 'rollback') {
    const ready = readyPods(d);
    if (!ready || !isCount(d.toRevision)) return undefined;
    return { kind: 'rollback', toRevision: d.toRevision, ...ready };
  }
  if (d.kind === 'migration-job' || d.kind === undefined) {
    if (!isString(d.jobName) || !isString(d.startedAt) || Number.isNaN(Date.parse(d.startedAt))) return undefined;
    return { kind: 'migration-job', jobName: d.jobName, startedAt: d.startedAt, phase: d.phase === 'created' ? 'created' : 'waiting', active: isCount(d.active) ? d.active : 0 };
  }
  return undefined;
}
