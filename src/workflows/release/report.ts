/**
 * The release report and the release timeline, built from plain data: the release's state, its
 * own events and each service's deployment report (a child's result, or its report/timeline
 * queried by the CLI). Per service it says what ran and what was undone, and links its report.
 */
import type { DeploymentReport, EventStatus, Phase, TimelineEvent } from '../../model';
import type { FailurePolicy, ReleaseEvent, ReleaseOutcome, ReleaseState, ServiceRecord, ServiceStage, WatchMode } from './types';

export interface MergedEvent {
  at: string;
  status: EventStatus;
  title: string;
  detail?: string;
  /** "release", or the service the event comes from. */
  source: string;
  phase?: Phase;
}

export interface ServiceSummary {
  name: string;
  workflowId: string;
  release: string;
  after: string[];
  stage: ServiceStage;
  outcome?: ServiceRecord['outcome'];
  /** The phases its deployment went through, with how the last one ended. */
  ran: string;
  /** What was undone, or why nothing was. */
  undone: string;
  note?: string;
  /** `shipwatch report <workflowId>`, and its files when the deployment wrote them. */
  report: { command: string; markdownPath?: string; jsonPath?: string };
}

export interface ReleaseReport {
  releaseId: string;
  name: string;
  requestedBy: string;
  outcome: ReleaseOutcome;
  onFailure: FailurePolicy;
  watchMode: WatchMode;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  failure?: ReleaseState['failure'];
  rollbackRequest?: ReleaseState['rollbackRequest'];
  watch?: ReleaseState['watch'];
  services: ServiceSummary[];
  timeline: MergedEvent[];
}

/**
 * The release's events and each service's, in time order (ties: release first, then by source).
 * Each source keeps its own order: sources are merged, never re-sorted inside. A deployment's pod
 * events carry Kubernetes' second-precision times (23:25:44.000) while its other events carry
 * milliseconds, so a sort by time alone put a rollback's new pods before the failed smoke suite
 * that caused the rollback.
 */
export function mergeTimelines(own: ReleaseEvent[], children: { service: string; events: TimelineEvent[] }[]): MergedEvent[] {
  const sources: MergedEvent[][] = [
    own.map((e) => ({ at: e.at, status: e.status, title: e.service ? `${e.service}: ${e.title}` : e.title, ...(e.detail ? { detail: e.detail } : {}), source: 'release' })),
    ...children.map((child) =>
      child.events.map((e) => ({ at: e.at, status: e.status, title: e.title, ...(e.detail ? { detail: e.detail } : {}), source: child.service, phase: e.phase })),
    ),
  ];
  const next = sources.map(() => 0);
  const merged: MergedEvent[] = [];
  for (;;) {
    let pick = -1;
    sources.forEach((events, i) => {
      const head = events[next[i]!];
      if (head && (pick < 0 || head.at < sources[pick]![next[pick]!]!.at)) pick = i;
    });
    if (pick < 0) return merged;
    merged.push(sources[pick]![next[pick]!++]!);
  }
}

/** "PRECHECK → BACKUP → MIGRATE → ROLLOUT → … (SMOKE failed)". */
export function whatRan(report: DeploymentReport | undefined, record: Pick<ServiceRecord, 'stage' | 'note'>): string {
  if (!report) {
    if (record.stage === 'skipped' || record.stage === 'pending' || record.stage === 'awaiting-approval') return 'nothing: not started';
    if (record.stage === 'failed') return `nothing recorded: ${record.note ?? 'it did not start'}`;
    return 'in progress';
  }
  const phases: Phase[] = [];
  for (const e of report.timeline) if (e.phase !== 'DONE' && e.phase !== 'ROLLBACK' && !phases.includes(e.phase)) phases.push(e.phase);
  const failed = report.timeline.find((e) => e.status === 'failed' && e.phase !== 'ROLLBACK');
  const end = failed ? ` (${failed.phase}: ${failed.title})` : report.outcome === 'SUCCEEDED' ? ` (watch ${report.watch?.outcome ?? 'ended'})` : '';
  return `${phases.join(' → ')}${end}`;
}

/** What the rollback of this service undid, or why nothing was undone. */
export function whatWasUndone(report: DeploymentReport | undefined, record: Pick<ServiceRecord, 'stage' | 'rollbackRequested' | 'note'>): string {
  if (!report) return record.stage === 'failed' ? 'nothing to undo: nothing was rolled out' : 'nothing: not started';
  const r = report.rollback;
  if (report.outcome === 'FAILED') return 'nothing to undo: it failed before rolling anything out';
  if (!r.required) {
    return record.rollbackRequested ? `not undone: it ended ${report.outcome} before the rollback reached it` : 'nothing (it stayed)';
  }
  const done = [
    report.timeline.some((e) => e.key === 'rollback-undo') ? `rollout undone (back on ${report.previousRelease ?? 'the previous revision'})` : 'no rollout to undo',
    ...(r.migrationsRolledBack ? ['migrations rolled back'] : []),
    ...(r.smokeAfterRollback ? [`smoke suite on the old version ${r.smokeAfterRollback.passed ? 'passed' : 'FAILED'}`] : []),
  ];
  const why = `${r.trigger === 'signal' ? 'requested' : `automatic (${r.trigger ?? 'unknown'})`}: ${r.reason ?? 'no reason given'}`;
  const failedSteps = r.failedSteps?.length ? `; FAILED steps: ${r.failedSteps.join('; ')}` : '';
  return `${done.join(', ')} — ${why}${failedSteps}`;
}

export function summarizeService(record: ServiceRecord, report: DeploymentReport | undefined): ServiceSummary {
  return {
    name: record.name,
    workflowId: record.workflowId,
    release: record.release,
    after: record.after,
    stage: record.stage,
    ...(record.outcome ? { outcome: record.outcome } : {}),
    ran: whatRan(report, record),
    undone: whatWasUndone(report, record),
    ...(record.note ? { note: record.note } : {}),
    report: { command: `shipwatch report ${record.workflowId}`, ...(record.reportFiles ?? {}) },
  };
}

export function buildReleaseReport(
  state: ReleaseState,
  how: { onFailure: FailurePolicy; watchMode: WatchMode },
  children: Record<string, DeploymentReport | undefined>,
): ReleaseReport {
  const finished = state.finishedAt ? Date.parse(state.finishedAt) : undefined;
  return {
    releaseId: state.releaseId,
    name: state.name,
    requestedBy: state.requestedBy,
    outcome: state.outcome,
    onFailure: how.onFailure,
    watchMode: how.watchMode,
    startedAt: state.startedAt,
    ...(state.finishedAt ? { finishedAt: state.finishedAt, durationMs: finished! - Date.parse(state.startedAt) } : {}),
    ...(state.failure ? { failure: state.failure } : {}),
    ...(state.rollbackRequest ? { rollbackRequest: state.rollbackRequest } : {}),
    ...(state.watch ? { watch: state.watch } : {}),
    services: state.services.map((s) => summarizeService(s, children[s.name])),
    timeline: mergeTimelines(
      state.events,
      state.services.flatMap((s) => (children[s.name] ? [{ service: s.name, events: children[s.name]!.timeline }] : [])),
    ),
  };
}
