/**
 * The release train: several services' `deploymentWorkflow`s run as children (each under its own
 * `deploy-<namespace>-<service>` ID, so the one-active-deployment rule holds and each keeps its
 * timeline, report and Web UI page), started in the order of the release's graph with independent
 * branches in parallel. A failure applies the release's policy; `rollback-all` (or a rollback
 * request on the release) signals rollback to every open deployment, latest first, waiting for
 * each. Decisions live in ./release/plan.ts; this file holds the handlers and the waiting. It is
 * slightly over 300 lines because the handlers and the train's waiting share one scope, as in
 * deployment.ts before its split; splitting it into rooms like ./deployment is the next step.
 */
import { condition, proxyActivities, setHandler, startChild, upsertSearchAttributes, workflowInfo, ParentClosePolicy } from '@temporalio/workflow';
import type { ChildWorkflowHandle } from '@temporalio/workflow';
import type { DeploymentReport } from '../model';
import type { ReleaseActivities } from '../releases';
import type { deploymentWorkflow } from './deployment';
import { promoteSignal, searchAttributes } from './messages';
import type { CommandAnswer, RollbackAnswer, RollbackRequest } from './messages';
import { approveSignal, approveUpdate, releaseReportQuery, releaseSearchAttributes, releaseStatusQuery, releaseTimelineQuery, rollbackSignal, rollbackUpdate } from './release/messages';
import type { ApproveRequest } from './release/messages';
import { approvalTarget, failureRollsBackAll, isEnded, releaseOutcome, rollbackOrder, startable, toSkip } from './release/plan';
import { buildReleaseReport } from './release/report';
import type { ReleaseReport } from './release/report';
import { addEvent, childSpec, failureReason, initialReleaseState, stageOfOutcome } from './release/state';
import type { EventInput } from './release/state';
import type { ReleaseInput, ReleaseServiceSpec, ReleaseState, ServiceRecord } from './release/types';

const { deploymentPhase } = proxyActivities<ReleaseActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3, maximumInterval: '5 seconds' } });
const { writeReleaseReport } = proxyActivities<ReleaseActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5 } });

type Child = ChildWorkflowHandle<typeof deploymentWorkflow>;

export async function releaseWorkflow(input: ReleaseInput): Promise<ReleaseReport> {
  const spec = input.spec;
  const info = workflowInfo();
  const state = initialReleaseState(spec, { releaseId: info.workflowId, requestedBy: input.requestedBy, startedAt: now() });
  /** Each finished deployment's report (its result): what ran and what was undone. */
  const reports: Record<string, DeploymentReport | undefined> = {};
  const handles: Record<string, Child> = {};
  let changes = 0;
  const changed = () => changes++;
  const record = (e: Omit<EventInput, 'at'>) => addEvent(state, { at: now(), ...e });
  const svc = (name: string) => state.services.find((s) => s.name === name)!;
  const specOf = (name: string) => spec.services.find((s) => s.name === name)!;
  const how = { onFailure: spec.onFailure, watchMode: spec.watch.mode };
  const report = () => buildReleaseReport(state, how, reports);

  setHandler(releaseStatusQuery, () => ({
    releaseId: state.releaseId,
    name: state.name,
    phase: state.phase,
    outcome: state.outcome,
    startedAt: state.startedAt,
    services: state.services,
    awaitingApproval: state.services.filter((s) => s.stage === 'awaiting-approval').map((s) => s.name),
    ...(state.failure ? { failure: state.failure } : {}),
    ...(state.rollbackRequest ? { rollbackRequest: state.rollbackRequest } : {}),
    ...(state.watch ? { watch: state.watch } : {}),
  }));
  setHandler(releaseTimelineQuery, (opts) => state.events.filter((e) => e.seq > (opts?.afterSeq ?? 0)));
  setHandler(releaseReportQuery, report);

  const rollbackRefusal = (): string | undefined =>
    state.outcome !== 'IN_PROGRESS'
      ? `too late: the release already ended ${state.outcome}`
      : state.rollbackRequest
        ? `a rollback of the release is already under way (requested by ${state.rollbackRequest.requestedBy}: ${state.rollbackRequest.reason})`
        : undefined;
  const requestRollback = (req: RollbackRequest) => {
    if (rollbackRefusal()) return;
    state.rollbackRequest = { reason: req.reason, requestedBy: req.requestedBy ?? 'unknown', at: now() };
    record({ status: 'warning', title: 'Rollback of the release requested', detail: `${req.reason} (by ${state.rollbackRequest.requestedBy})` });
    changed();
  };
  setHandler(rollbackSignal, requestRollback);
  setHandler(
    rollbackUpdate,
    (req): RollbackAnswer => {
      const open = rollbackOrder(state.services);
      requestRollback(req);
      return { accepted: true, message: `accepted: rolling back release ${spec.name}${open.length ? ` (${open.join(', then ')})` : ''}` };
    },
    { validator: (_req: RollbackRequest) => refuseWith(rollbackRefusal()) },
  );

  const approval = (req: ApproveRequest) =>
    approvalTarget({ services: state.services.map((s) => ({ ...s, approval: specOf(s.name).approval })), goingForward: state.outcome === 'IN_PROGRESS' && !state.rollbackRequest }, req);
  const approve = (req: ApproveRequest): CommandAnswer => {
    const decided = approval(req);
    if ('refusal' in decided) return { accepted: false, message: decided.refusal };
    const target = svc(decided.service);
    if (target.stage === 'awaiting-approval') target.stage = 'pending';
    target.approvedBy = req.requestedBy ?? 'unknown';
    record({ status: 'ok', title: 'Approved', detail: `by ${target.approvedBy}`, service: target.name });
    changed();
    const message =
      decided.waiting || !target.after.length
        ? `accepted: ${target.name} starts now`
        : `accepted: ${target.name} approved; it starts as soon as ${target.after.join(', ')} ${target.after.length > 1 ? 'are' : 'is'} rolled out`;
    return { accepted: true, message };
  };
  setHandler(approveSignal, (req) => void approve(req));
  setHandler(approveUpdate, approve, {
    validator: (req: ApproveRequest) => {
      const decided = approval(req);
      refuseWith('refusal' in decided ? decided.refusal : undefined);
    },
  });

  // ------------------------------------------------------------ one service's deployment
  const settle = (service: ServiceRecord, outcome: { report?: DeploymentReport; error?: string }) => {
    if (outcome.report) reports[service.name] = outcome.report;
    service.outcome = outcome.report?.outcome ?? 'FAILED';
    service.stage = stageOfOutcome(service.outcome);
    service.endedAt = now();
    const reason = outcome.report ? failureReason(outcome.report) : (outcome.error ?? 'unknown error');
    if (service.stage === 'succeeded') {
      record({ status: 'ok', title: 'Deployment succeeded', detail: outcome.report?.watch?.outcome ? `watch window ${outcome.report.watch.outcome}` : undefined, service: service.name });
    } else {
      if (service.stage === 'failed' && !outcome.report) service.note = reason;
      record({ status: 'failed', title: `Deployment ended ${service.outcome}`, detail: reason, service: service.name });
      if (!state.failure && !service.rollbackRequested && !state.rollbackRequest) {
        state.failure = { service: service.name, reason, at: now() };
        record({ status: 'failed', title: `Release failure: ${service.name}`, detail: `onFailure: ${spec.onFailure}` });
      }
    }
    changed();
  };

  const drive = async (service: ServiceRecord, serviceSpec: ReleaseServiceSpec) => {
    service.stage = 'deploying';
    service.startedSeq = state.nextStart++;
    service.startedAt = now();
    record({ status: 'started', title: `Deployment started (${service.release})`, detail: service.workflowId, service: service.name });
    let child: Child;
    try {
      child = await startChild<typeof deploymentWorkflow>('deploymentWorkflow', {
        workflowId: service.workflowId,
        args: [{ spec: childSpec(serviceSpec.spec, spec), requestedBy: `${input.requestedBy} (release ${spec.name})` }],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        staticSummary: `Deploy ${service.name} ${service.release} (release ${spec.name})`,
        typedSearchAttributes: [
          { key: searchAttributes.service, value: serviceSpec.spec.service },
          { key: searchAttributes.namespace, value: serviceSpec.spec.namespace },
          { key: searchAttributes.release, value: serviceSpec.spec.release },
          { key: searchAttributes.phase, value: 'PRECHECK' },
          { key: searchAttributes.outcome, value: 'IN_PROGRESS' },
          { key: releaseSearchAttributes.train, value: spec.name },
        ],
      });
    } catch (err) {
      settle(service, { error: `could not start its deployment: ${messageOf(err)}` });
      return;
    }
    handles[service.name] = child;
    service.runId = child.firstExecutionRunId;
    changed();
    let ended: { report?: DeploymentReport; error?: string } | undefined;
    const result = child.result().then(
      (r) => void (ended = { report: r }),
      (err: unknown) => void (ended = reportOf(err) ? { report: reportOf(err)! } : { error: messageOf(err) }),
    );
    // A deployment only returns after its watch window: its phase says when it is rolled out.
    while (!ended && service.stage === 'deploying') {
      await condition(() => ended !== undefined, spec.statusIntervalMs);
      if (ended || service.stage !== 'deploying') break;
      const seen = await deploymentPhase({ workflowId: service.workflowId }).catch((err: unknown) => ({ unknown: messageOf(err) }));
      if ('unknown' in seen) {
        record({ status: 'warning', title: 'Phase not known', detail: seen.unknown, service: service.name });
        continue;
      }
      service.phase = seen.phase;
      if (seen.phase === 'WATCH' && service.stage === 'deploying') {
        service.stage = 'watching';
        service.watchingAt = now();
        record({ status: 'ok', title: 'Rolled out, in its watch window', service: service.name });
        changed();
      }
    }
    await result;
    settle(service, ended!);
  };

  // ------------------------------------------------------------ rolling the release back
  const rollBackAll = async (why: string, by: string) => {
    state.phase = 'ROLLBACK';
    upsertSearchAttributes([{ key: searchAttributes.phase, value: 'ROLLBACK' }]);
    record({ status: 'started', title: 'Rolling back the release', detail: `${why}; open deployments, latest first: ${rollbackOrder(state.services).join(', ') || 'none'}` });
    skipWaiting(true);
    for (const done of state.services.filter((s) => s.stage === 'succeeded')) {
      done.note = 'not undone: its deployment had already ended SUCCEEDED (watch window over); deploy its previous release to undo it';
      record({ status: 'warning', title: 'Not rolled back: already ended', detail: done.note, service: done.name });
    }
    for (;;) {
      const name = rollbackOrder(state.services)[0];
      if (!name) break;
      const target = svc(name);
      await condition(() => handles[name] !== undefined || isEnded(target.stage));
      target.rollbackRequested = true;
      target.stage = 'rolling-back';
      record({ status: 'started', title: 'Rollback requested', detail: why, service: name });
      await handles[name]?.signal(rollbackSignal, { reason: `release ${spec.name} rolled back: ${why}`, requestedBy: by }).catch((err: unknown) => {
        record({ status: 'warning', title: 'Rollback signal not delivered', detail: messageOf(err), service: name });
      });
      await condition(() => isEnded(target.stage));
    }
    record({ status: 'ok', title: 'Release rollback finished' });
  };

  const skipWaiting = (rollingBack: boolean) => {
    for (const skip of toSkip({ services: state.services, mode: spec.watch.mode, policy: spec.onFailure, failed: state.failure !== undefined, rollingBack })) {
      const s = svc(skip.name);
      s.stage = 'skipped';
      s.note = skip.reason;
      record({ status: 'info', title: 'Skipped', detail: skip.reason, service: s.name });
    }
  };

  // ------------------------------------------------------------ the train
  upsertSearchAttributes([{ key: searchAttributes.phase, value: 'DEPLOYING' }, { key: releaseSearchAttributes.train, value: spec.name }, { key: releaseSearchAttributes.services, value: spec.services.map((s) => s.name) }]);
  record({ status: 'started', title: `Release ${spec.name} started`, detail: `${spec.services.length} services, onFailure ${spec.onFailure}, watch ${spec.watch.mode}, by ${input.requestedBy}` });
  const drivers: Promise<void>[] = [];
  let rolledBack = false;
  for (;;) {
    const rollbackWhy = state.rollbackRequest ? `requested by ${state.rollbackRequest.requestedBy}: ${state.rollbackRequest.reason}` : state.failure && failureRollsBackAll(spec.onFailure) ? `${state.failure.service} failed: ${state.failure.reason}` : undefined;
    if (rollbackWhy && !rolledBack) {
      rolledBack = true;
      await rollBackAll(rollbackWhy, state.rollbackRequest?.requestedBy ?? `release ${spec.name} (onFailure: rollback-all)`);
    }
    skipWaiting(rolledBack);
    for (const name of startable({ services: state.services, mode: spec.watch.mode, policy: spec.onFailure, failed: state.failure !== undefined, rollingBack: rolledBack })) {
      const s = svc(name);
      if (specOf(name).approval === 'required' && !s.approvedBy) {
        s.stage = 'awaiting-approval';
        record({ status: 'info', title: 'Waiting for approval', detail: `shipwatch release approve ${spec.name} --service ${name}`, service: name });
      } else drivers.push(drive(s, specOf(name)));
    }
    if (state.services.every((s) => isEnded(s.stage))) break;
    const seen = changes;
    const timeout = sharedWatchTimeout(state, spec.watch, rolledBack);
    if (timeout === 0) {
      endSharedWatch();
      continue;
    }
    if (timeout === undefined) await condition(() => changes !== seen);
    else await condition(() => changes !== seen, timeout);
  }
  await Promise.all(drivers);

  function endSharedWatch() {
    const watch = state.watch!;
    watch.endedAt = now();
    watch.outcome = 'completed';
    record({ status: 'ok', title: 'Shared watch window completed', detail: 'promoting every deployment still in its watch window' });
    for (const s of state.services.filter((x) => x.stage === 'watching')) {
      handles[s.name]!.signal(promoteSignal, { requestedBy: `release ${spec.name} (shared watch window completed)` }).catch((err: unknown) => {
        record({ status: 'warning', title: 'Promote signal not delivered', detail: messageOf(err), service: s.name });
      });
    }
    changed();
  }

  state.outcome = releaseOutcome(state.services, { policy: spec.onFailure, rolledBack });
  state.phase = 'DONE';
  state.finishedAt = now();
  if (state.watch && !state.watch.endedAt) {
    state.watch.endedAt = state.finishedAt;
    state.watch.outcome = 'cut-short';
  }
  record({ status: state.outcome === 'SUCCEEDED' ? 'ok' : 'failed', title: `Release ${state.outcome}` });
  upsertSearchAttributes([{ key: searchAttributes.phase, value: 'DONE' }, { key: searchAttributes.outcome, value: state.outcome }]);
  try {
    const written = await writeReleaseReport({ report: report(), dir: spec.report.dir, services: spec.services.map((s) => ({ name: s.name, dir: s.spec.report.dir })) });
    state.reportFiles = written.release;
    for (const s of state.services) if (written.services[s.name]) s.reportFiles = written.services[s.name];
    record({ status: 'ok', title: 'Release report written', detail: written.release.markdownPath });
  } catch (err) {
    record({ status: 'warning', title: 'Release report not written', detail: messageOf(err) });
  }
  return report();
}

/**
 * Watched together, the shared window opens once nothing is deploying or waiting to start and
 * something is watching; returns how long to wait (0: the window is over now), or undefined.
 */
function sharedWatchTimeout(state: ReleaseState, watch: ReleaseInput['spec']['watch'], rolledBack: boolean): number | undefined {
  if (watch.mode !== 'together' || rolledBack || state.watch?.endedAt) return undefined;
  const busy = state.services.some((s) => ['pending', 'awaiting-approval', 'deploying', 'rolling-back'].includes(s.stage));
  if (!state.watch) {
    if (busy || !state.services.some((s) => s.stage === 'watching')) return undefined;
    const start = Date.now();
    state.watch = { startedAt: new Date(start).toISOString(), endsAt: new Date(start + watch.durationMs).toISOString() };
    addEvent(state, { at: state.watch.startedAt, status: 'started', title: 'Shared watch window started', detail: `until ${state.watch.endsAt}, over ${state.services.filter((s) => s.stage === 'watching').map((s) => s.name).join(', ')}` });
    upsertSearchAttributes([{ key: searchAttributes.phase, value: 'WATCH' }]);
    state.phase = 'WATCH';
  }
  return Math.max(Date.parse(state.watch.endsAt) - Date.now(), 0);
}

function reportOf(err: unknown): DeploymentReport | undefined {
  const cause = (err as { cause?: { details?: unknown[] } }).cause;
  const first = cause?.details?.[0] as DeploymentReport | undefined;
  return first && typeof first === 'object' && 'outcome' in first ? first : undefined;
}

function refuseWith(reason: string | undefined): void {
  if (reason) throw new Error(reason);
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message && cause.message !== err.message ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

function now(): string {
  return new Date().toISOString();
}
