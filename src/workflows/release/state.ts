/**
 * The release's state and the small rules that change it: the initial state, the stage a
 * deployment's outcome puts its service in, why a deployment failed, the spec each child receives,
 * and the release events (a timeline of the release's own decisions).
 */
import type { DeploymentOutcome, DeploymentReport, EventStatus } from '../../model';
import type { DeploySpec } from '../../spec/types';
import { deploymentWorkflowId } from '../messages';
import type { ReleaseSpec, ReleaseState, ServiceStage } from './types';

export function initialReleaseState(spec: ReleaseSpec, run: { releaseId: string; requestedBy: string; startedAt: string }): ReleaseState {
  return {
    ...run,
    name: spec.name,
    phase: 'DEPLOYING',
    outcome: 'IN_PROGRESS',
    services: spec.services.map((s) => ({
      name: s.name,
      after: s.after,
      workflowId: deploymentWorkflowId(s.spec.namespace, s.spec.service),
      release: s.spec.release,
      stage: 'pending',
    })),
    events: [],
    nextSeq: 1,
    nextStart: 1,
  };
}

export function stageOfOutcome(outcome: DeploymentOutcome): ServiceStage {
  switch (outcome) {
    case 'SUCCEEDED':
      return 'succeeded';
    case 'ROLLED_BACK':
      return 'rolled-back';
    case 'MANUAL_ACTION_REQUIRED':
      return 'manual-action';
    case 'FAILED':
      return 'failed';
    case 'IN_PROGRESS':
      return 'deploying';
  }
}

/** The sentence a deployment's report gives for how it ended badly. */
export function failureReason(report: DeploymentReport): string {
  if (report.rollback.required && report.rollback.reason) return `rolled back: ${report.rollback.reason}`;
  return report.issues[report.issues.length - 1] ?? `ended ${report.outcome}`;
}

/**
 * The deploy spec a service's deployment runs with. Watched together, its own window is opened
 * wide (the shared window plus the train's timeout): it keeps evaluating its alert rules while the
 * rest of the train rolls out, and the release ends all the windows at once by promoting them.
 */
export function childSpec(spec: DeploySpec, release: Pick<ReleaseSpec, 'watch'>): DeploySpec {
  if (release.watch.mode !== 'together') return spec;
  return { ...spec, watch: { ...spec.watch, durationMs: release.watch.durationMs + release.watch.trainTimeoutMs } };
}

export interface EventInput {
  at: string;
  status: EventStatus;
  title: string;
  detail?: string | undefined;
  service?: string | undefined;
}

export function addEvent(state: ReleaseState, e: EventInput): void {
  state.events.push({
    seq: state.nextSeq++,
    at: e.at,
    status: e.status,
    title: e.title,
    ...(e.detail ? { detail: e.detail } : {}),
    ...(e.service ? { service: e.service } : {}),
  });
}
