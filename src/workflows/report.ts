/**
 * Builds the `report` and `status` query answers from the deployment's state: plain data for the
 * CLI, the Web UI and the report renderer (src/report/render.ts), never Markdown.
 */
import { releaseOfImage } from '../format';
import type { AvailabilityStats, DeploymentReport } from '../model';
import type { DeploySpec } from '../spec/types';
import type { DeploymentStatus } from './messages';
import { watchedSentence } from './sight';
import type { DeploymentState, PhaseResults } from './state';

const PHASE_RESULTS = [
  'backup',
  'migrations',
  'pods',
  'logScan',
  'smoke',
  'baseline',
  'comparison',
  'traffic',
  'availability',
  'issues',
  'rollback',
  'healthWindows',
  'monitoring',
] as const satisfies readonly (keyof PhaseResults)[];

/** The phase results present in state, under the report's names (absent ones stay absent). */
function phaseResults(state: DeploymentState): PhaseResults {
  const results: Partial<Record<keyof PhaseResults, unknown>> = {};
  for (const key of PHASE_RESULTS) if (state[key] !== undefined) results[key] = state[key];
  return results as PhaseResults;
}

/** Which deployment: the service, where, which release and image, and the release it replaces. */
function identity(state: DeploymentState, spec: DeploySpec): Pick<DeploymentStatus, 'deploymentId' | 'service' | 'namespace' | 'release' | 'image' | 'previousRelease'> {
  return {
    deploymentId: state.deploymentId,
    service: spec.service,
    namespace: spec.namespace,
    release: spec.release,
    image: spec.image,
    ...(state.rollbackTarget ? { previousRelease: releaseOfImage(state.rollbackTarget.image) } : {}),
  };
}

export function buildReport(state: DeploymentState, spec: DeploySpec): DeploymentReport {
  const finishedAt = state.finishedAt;
  const { promotedBy: _promotedBy, ...watch } = state.watch ?? ({} as NonNullable<DeploymentState['watch']>);
  return {
    ...identity(state, spec),
    ...(state.rollbackTarget ? { previousImage: state.rollbackTarget.image } : {}),
    ...(spec.change ? { change: spec.change } : {}),
    ...(spec.database ? { databaseRef: spec.database.url } : {}),
    startedAt: state.startedAt,
    ...(finishedAt ? { finishedAt, durationMs: Date.parse(finishedAt) - Date.parse(state.startedAt) } : {}),
    outcome: state.outcome,
    phase: state.phase,
    timeline: state.timeline.events,
    ...phaseResults(state),
    ...(state.watch ? { watch: withWatched(watch, Date.now()) } : {}),
    ...(state.reviewReminder ? { reviewAt: state.reviewReminder.at } : {}),
  };
}

/** The watch record with its "watched …" sentence. */
function withWatched(watch: NonNullable<DeploymentReport['watch']>, nowMs: number): NonNullable<DeploymentReport['watch']> {
  if (!watch.sight) return watch;
  return { ...watch, watched: watchedSentence(watch.sight, { elapsedMs: watchElapsed(watch, nowMs), nowMs }) };
}

/**
 * How much of the watch window has passed at `nowMs`, up to its planned end (a window that waited
 * past it for the last evaluation's report was still that long).
 */
export function watchElapsed(watch: NonNullable<DeploymentReport['watch']>, nowMs: number): number {
  const end = Math.min(watch.endedAt ? Date.parse(watch.endedAt) : nowMs, Date.parse(watch.endsAt));
  return Math.max(0, end - Date.parse(watch.startedAt));
}

export function buildStatus(state: DeploymentState, spec: DeploySpec, nowMs: number): DeploymentStatus {
  const last = state.timeline.events[state.timeline.events.length - 1];
  return {
    ...identity(state, spec),
    phase: state.phase,
    outcome: state.outcome,
    paused: state.paused,
    startedAt: state.startedAt,
    rollout: {
      step: state.rollout.step,
      steps: state.rollout.steps,
      newReady: state.rollout.newReady,
      replicas: state.rollout.replicas,
    },
    trafficNewPercent: state.rollout.newPercent,
    alerts: state.alerts.filter((a) => a.state !== 'inactive'),
    ...(state.watch
      ? {
          watch: {
            startedAt: state.watch.startedAt,
            endsAt: state.watch.endsAt,
            timeLeftMs: state.watch.endedAt ? 0 : Math.max(0, Date.parse(state.watch.endsAt) - nowMs),
            checks: state.watch.checks,
            ...(state.watch.sight ? { watched: watchedSentence(state.watch.sight, { elapsedMs: watchElapsed(state.watch, nowMs), nowMs }) } : {}),
          },
        }
      : {}),
    ...(last ? { lastEvent: last } : {}),
  };
}

/** "zero downtime (412 probes)" or "3 of 412 probes failed" — the report's availability sentence. */
export function availabilitySentence(stats: AvailabilityStats | undefined): string {
  if (!stats || stats.probes === 0) return 'availability not measured';
  if (stats.failures === 0) return `zero downtime (${stats.probes} probes, none failed)`;
  return `${stats.failures} of ${stats.probes} probes failed`;
}
