/**
 * The watch window fed by the watch evaluator (./evaluator.ts): the window registers with the
 * evaluator of its Prometheus, then sleeps until its end, a message, a report, or the next instant
 * at which the alert evaluator or the blind-watch rules act on unchanged values. No per-check
 * events: a quiet hour is a heartbeat or two. Each report is applied as a check with the same
 * modules as before (./alert-evaluator.ts, ./sight.ts) and the same actions (./deployment/
 * watch-window.ts). An evaluator that stops reporting makes the window blind (and the window
 * registers again, starting a new evaluator if the old one is gone): never a silent pass.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { WatchActivities } from '../activities/alert-watch';
import type { RuleEvaluation } from '../activities/types';
import type { DeploymentReport, DeploymentStatus } from '../model';
import type { DeploySpec } from '../spec/types';
import { evaluateAlerts } from './alert-evaluator';
import type { DeploymentContext } from './deployment/context';
import { messageOf } from './deployment/failures';
import { HISTORY_BUDGET } from './deployment/run-budget';
import type { WindowActions } from './deployment/watch-window';
import { watchEvaluatorWorkflow } from './evaluator';
import { HEARTBEAT_MS, evaluatorWorkflowId, registerWatchSignal, unregisterWatchSignal, windowEvaluatorId } from './evaluator-messages';
import type { WatchRegistration, WatchReport } from './evaluator-messages';
import { signature } from './evaluator-plan';
import { alertDecisionAt } from './evaluator-schedule';
import type { DeploymentInput } from './messages';
import { blindReason, observeCheck, sightDecisionAt, sightDue, sightPolicy } from './sight';
import type { DeploymentState } from './state';

/** The watch in a run of its own (new commands: a continue-as-new right after registering). */
export const WATCH_FRESH_RUN_PATCH = 'watch-fresh-run';
/** A rollback from a fed window starts beside the window's unregister signal, not after it (new command order). */
export const ROLLBACK_BESIDE_GOODBYE_PATCH = 'rollback-beside-unregister';
/**
 * A window's runs kept short (patch `watch-short-runs`, asked once, when the window opens, and
 * carried in its feed): a run continues as new once it holds WATCH_RUN_EVENTS events, and a run it
 * continues into neither upserts the phase again nor asks patch `watch-evaluator` (the search
 * attributes and the memo carry over). A worker that evicted a window replays its whole run on the
 * next message — a rollback, a report — at 3–5 ms a workflow task on this box: with 1,000 windows
 * open, a rollback of one whose run held a whole quiet day (36 heartbeats, 233 events) took 153 ms
 * at the median, of a new one 45 (docs/benchmarks.md, Session 19).
 */
export const WATCH_SHORT_RUNS_PATCH = 'watch-short-runs';
/**
 * A window's run continues as new at this many events: the run's start (5) and 12 heartbeats
 * (6 each, one per 40 min: 8 h). Each continue-as-new adds the next run's start, 5 events: 0.6 a
 * window-hour on the 9 of the heartbeats.
 */
export const WATCH_RUN_EVENTS = 77;

/** Signal-with-start of the evaluator: a few quick tries (then the child fallback). */
const { startWatchEvaluator } = proxyActivities<WatchActivities>({ startToCloseTimeout: '30 seconds', retry: { initialInterval: '1 second', maximumInterval: '5 seconds', maximumAttempts: 3 } });

/** The window's side of the evaluator feed: plain JSON in the deployment state, carried across continue-as-new. */
export interface WatchFeed {
  evaluatorId: string;
  /** When the window last heard from its evaluator (a report, or its registration). */
  lastHeardMs: number;
  /** Signature of the last evaluation applied ('' none yet, 'silent' after the evaluator fell silent). */
  lastSig: string;
  /** The last evaluations (what time-driven rounds judge); empty when the last evaluation failed. */
  evaluations: RuleEvaluation[];
  failure?: string;
  /** The time of the last round (a report applied or a time-driven decision). */
  lastRoundMs: number;
  /** The last report's slot time and check count (what `status` projects the checks from). */
  lastReport?: { atMs: number; checks: number };
  /** Patch watch-short-runs, asked when the window opened: its runs continue as new at WATCH_RUN_EVENTS. */
  shortRuns?: boolean;
}

type FedState = DeploymentState & { watchFeed?: WatchFeed };

/** How long after a missing heartbeat the window calls its evaluator silent. */
export function silenceAfterMs(intervalMs: number): number {
  return HEARTBEAT_MS + 2 * intervalMs + 60_000;
}

/** A run a short-runs window continued into (see WATCH_SHORT_RUNS_PATCH): its state is in WATCH with a feed that says so. */
export function continuedShortRun(state: DeploymentState): boolean {
  return state.phase === 'WATCH' && (state as FedState).watchFeed?.shortRuns === true;
}

export async function fedWatch(ctx: DeploymentContext, actions: WindowActions): Promise<void> {
  const { spec } = ctx;
  const state = ctx.state as FedState;
  const watch = state.watch!;
  let freshRun = false;
  const over = () => state.rollbackRequest !== undefined || watch.outcome !== undefined;
  if (!state.watchFeed) {
    const of = { prometheusUrl: spec.metrics!.prometheusUrl, intervalMs: spec.watch.intervalMs };
    // Windows opened before shards keep the single evaluator their history names.
    const evaluatorId = patched('evaluator-shards') ? windowEvaluatorId({ ...of, workflowId: workflowInfo().workflowId }) : evaluatorWorkflowId(of);
    state.watchFeed = { evaluatorId, lastHeardMs: Date.now(), lastSig: '', evaluations: [], lastRoundMs: Date.now() };
    ctx.watchReports.length = 0;
    await registerWindow(ctx, state.watchFeed);
    // The watch starts a run of its own (continue-as-new, carrying the state): a window's run then
    // holds the watch's few events, not the whole deployment's, so a worker that evicted it replays
    // it in a moment (a status query, a report). Windows opened before keep their run.
    freshRun = patched(WATCH_FRESH_RUN_PATCH);
    if (patched(WATCH_SHORT_RUNS_PATCH)) state.watchFeed.shortRuns = true;
  }
  const feed = state.watchFeed;
  let continuing = false;
  let woken = false;
  /** The window's time is up: it asks for one last report, so its end says what the evaluator saw up to it. */
  let closing: { askedAt: number; deadline: number } | undefined;
  try {
    for (;;) {
      if (over()) return;
      if (Date.now() < Date.parse(watch.endsAt)) closing = undefined;
      else if (!closing) {
        closing = { askedAt: Date.now(), deadline: Date.now() + 2 * spec.watch.intervalMs + 60_000 };
        await registerWindow(ctx, feed);
      }
      for (let report = ctx.watchReports.shift(); report; report = ctx.watchReports.shift()) {
        if (report.window !== state.firstRunId) continue;
        await applyReport(ctx, { feed, report, actions });
        if (over()) return;
      }
      if (closing && (feed.lastHeardMs >= closing.askedAt || Date.now() >= closing.deadline)) {
        if (feed.lastHeardMs < closing.askedAt) await evaluatorSilent(ctx, feed, actions, { registerAgain: false });
        if (over()) return;
        await actions.windowEnds(ctx);
        return;
      }
      const dueAt = nextDecision(ctx, feed);
      if (woken || (dueAt !== undefined && dueAt <= Date.now())) {
        await decisionRound(ctx, feed, actions);
        if (over()) return;
      }
      if (Date.now() >= feed.lastHeardMs + silenceAfterMs(spec.watch.intervalMs)) {
        await evaluatorSilent(ctx, feed, actions, { registerAgain: true });
        if (over()) return;
      }
      const info = workflowInfo();
      // A closing window finishes in its run (what it waits for is not carried).
      const shortRunFull = feed.shortRuns === true && !closing && info.historyLength >= WATCH_RUN_EVENTS;
      if (freshRun || shortRunFull || info.historyLength >= HISTORY_BUDGET || info.continueAsNewSuggested) {
        await condition(allHandlersFinished);
        if (over() || ctx.watchReports.length) continue;
        continuing = true;
        ctx.flushTimelineMemo();
        // Short runs hand the memo over as it is now (the timeline's chunks with it): left to the
        // server, the next run got the memo the deployment started with, and wrote the timeline
        // again in its first workflow task (3 events a run). Without options, continueAsNew's own.
        const options = feed.shortRuns ? { memo: workflowInfo().memo ?? {} } : {};
        return await makeContinueAsNewFunc<(input: DeploymentInput) => Promise<DeploymentReport>>(options)({ ...ctx.input, carried: state });
      }
      const seen = ctx.wakeUps;
      const next = nextDecision(ctx, feed);
      const until = Math.min(closing ? closing.deadline : Date.parse(watch.endsAt), next ?? Infinity, feed.lastHeardMs + silenceAfterMs(spec.watch.intervalMs));
      await condition(() => ctx.wakeUps !== seen || ctx.watchReports.length > 0, Math.max(until - Date.now(), 1));
      woken = ctx.wakeUps !== seen;
    }
  } finally {
    if (!continuing) {
      const goodbye = CancellationScope.nonCancellable(() => unregisterWindow(ctx, feed));
      // A rollback does not wait for the evaluator to hear of it: the signal and the rollback's
      // first command leave in one workflow task, not two (a round trip, 80–120 ms at 1,000
      // windows, docs/benchmarks.md). Rollbacks of windows from before wait, as they did.
      if (state.rollbackRequest && patched(ROLLBACK_BESIDE_GOODBYE_PATCH)) ctx.unfinished.push(goodbye);
      else await goodbye;
    }
  }
}

/**
 * The status answer of a window fed by the evaluator: its checks go on between reports (the
 * evaluator evaluates every slot and reports only changes), so `watch.checks` counts the slots
 * since the last report — up to when the evaluator would be called silent, never beyond.
 */
export function withLiveChecks(status: DeploymentStatus, state: DeploymentState, spec: DeploySpec, nowMs: number): DeploymentStatus {
  const feed = (state as FedState).watchFeed;
  if (!status.watch || !feed?.lastReport || state.watch?.endedAt || state.watch?.outcome) return status;
  const until = Math.min(nowMs, feed.lastHeardMs + silenceAfterMs(spec.watch.intervalMs), Date.parse(state.watch!.endsAt));
  const since = Math.max(0, Math.floor((until - feed.lastReport.atMs) / spec.watch.intervalMs));
  return { ...status, watch: { ...status.watch, checks: Math.max(status.watch.checks, feed.lastReport.checks + since) } };
}

/** The next instant an unchanged evaluation calls for a decision (alert `for`, page, rollback; blind page, onBlind). */
function nextDecision(ctx: DeploymentContext, feed: WatchFeed): number | undefined {
  const { spec, state } = ctx;
  const round = { nowMs: feed.lastRoundMs, paused: state.paused };
  const times = [
    alertDecisionAt(state.alerts, { rules: spec.watch.rules, policy: spec.watch, ...round }),
    state.watch!.sight ? sightDecisionAt(state.watch!.sight, sightPolicy(spec.watch), round) : undefined,
  ].filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : undefined;
}

/** Checks the evaluator made without a change: counted (evaluated, or blind as the streak goes on). */
function countUnchanged(ctx: DeploymentContext, checks: number): void {
  const watch = ctx.state.watch!;
  watch.checks = Math.max(watch.checks, checks);
  const sight = watch.sight;
  if (!sight || checks <= sight.checks) return;
  watch.sight = { ...sight, checks, evaluated: sight.blind ? sight.evaluated : sight.evaluated + (checks - sight.checks) };
}

/** One report: a heartbeat (nothing changed) is counted; a change is a check, applied as the per-window loop applies one. */
async function applyReport(ctx: DeploymentContext, args: { feed: WatchFeed; report: WatchReport; actions: WindowActions }): Promise<void> {
  const { feed, report, actions } = args;
  feed.lastHeardMs = Date.now();
  feed.lastReport = { atMs: Date.parse(report.at), checks: report.checks };
  const sig = signature(report.result);
  if (sig === feed.lastSig) {
    countUnchanged(ctx, report.checks);
    if (Array.isArray(report.result)) feed.evaluations = report.result;
    return;
  }
  countUnchanged(ctx, report.checks - 1);
  feed.lastSig = sig;
  const failure = Array.isArray(report.result) ? undefined : report.result.error;
  feed.evaluations = Array.isArray(report.result) ? report.result : [];
  if (failure) {
    feed.failure = failure;
    actions.checkFailed(ctx, failure);
  } else delete feed.failure;
  await check(ctx, { feed, actions, reason: blindReason(failure !== undefined ? { error: failure } : feed.evaluations, ctx.spec.watch.rules) });
}

/** A check at now: the alert evaluator on the evaluations held, then the blind-watch rules with `reason`. */
async function check(ctx: DeploymentContext, args: { feed: WatchFeed; actions: WindowActions; reason: string | undefined }): Promise<void> {
  const { spec, state } = ctx;
  const { feed, actions } = args;
  const watch = state.watch!;
  watch.checks++;
  const nowMs = Date.now();
  feed.lastRoundMs = nowMs;
  const result = evaluateAlerts(state.alerts, feed.evaluations, { rules: spec.watch.rules, nowMs, policy: spec.watch, holdRollback: state.paused });
  state.alerts = result.alerts;
  for (const action of result.actions) await actions.applyAlertAction(ctx, action);
  if (!watch.sight) return;
  const seen = observeCheck(watch.sight, { nowMs, reason: args.reason, hold: state.paused }, sightPolicy(spec.watch));
  watch.sight = seen.sight;
  for (const action of seen.actions) await actions.applySightAction(ctx, action);
}

/** Time passed with nothing new: the decisions unchanged values call for now (no check counted). */
async function decisionRound(ctx: DeploymentContext, feed: WatchFeed, actions: WindowActions): Promise<void> {
  const { spec, state } = ctx;
  const watch = state.watch!;
  const nowMs = Date.now();
  feed.lastRoundMs = nowMs;
  if (feed.lastSig !== '' && feed.lastSig !== 'silent' && !feed.failure) {
    const result = evaluateAlerts(state.alerts, feed.evaluations, { rules: spec.watch.rules, nowMs, policy: spec.watch, holdRollback: state.paused });
    state.alerts = result.alerts;
    for (const action of result.actions) if (action.kind !== 'unknown') await actions.applyAlertAction(ctx, action);
  }
  if (!watch.sight) return;
  const due = sightDue(watch.sight, { nowMs, hold: state.paused }, sightPolicy(spec.watch));
  watch.sight = due.sight;
  for (const action of due.actions) await actions.applySightAction(ctx, action);
}

/** No report for longer than a heartbeat: the window is blind from the first evaluation it missed, and registers again. */
async function evaluatorSilent(ctx: DeploymentContext, feed: WatchFeed, actions: WindowActions, how: { registerAgain: boolean }): Promise<void> {
  const { spec, state } = ctx;
  const watch = state.watch!;
  const missedFrom = feed.lastHeardMs + spec.watch.intervalMs;
  const reason = `the watch evaluator (${feed.evaluatorId}) has not reported since ${new Date(feed.lastHeardMs).toISOString()}`;
  feed.lastSig = 'silent';
  feed.evaluations = [];
  ctx.record('warning', 'Watch evaluator silent', `${reason}; the window counts as blind from ${new Date(missedFrom).toISOString()}`, `evaluator-silent:${feed.lastHeardMs}`);
  if (watch.sight) {
    const first = observeCheck(watch.sight, { nowMs: missedFrom, reason, hold: state.paused }, sightPolicy(spec.watch));
    watch.sight = first.sight;
    for (const action of first.actions) await actions.applySightAction(ctx, action);
  }
  feed.lastHeardMs = Date.now();
  await decisionRound(ctx, feed, actions);
  if (how.registerAgain) await registerWindow(ctx, feed);
}

/**
 * Signal-with-start: signal the evaluator; if it is not running, the `startWatchEvaluator`
 * activity signals-with-start it (a workflow of its own, nobody's child). A worker that does not
 * register that activity (an older harness) falls back to starting it as an abandoned child,
 * never cancelled with this deployment. A registration that fails is on the timeline and the
 * window stays blind until the evaluator is reached.
 */
async function registerWindow(ctx: DeploymentContext, feed: WatchFeed): Promise<void> {
  const { spec, state } = ctx;
  const registration: WatchRegistration = { workflowId: workflowInfo().workflowId, window: state.firstRunId, rules: spec.watch.rules };
  const evaluator = getExternalWorkflowHandle(feed.evaluatorId);
  const start = { prometheusUrl: spec.metrics!.prometheusUrl, intervalMs: spec.watch.intervalMs };
  const summary = `Watch evaluator: ${start.prometheusUrl} every ${start.intervalMs / 1000}s`;
  try {
    await CancellationScope.nonCancellable(async () => {
      try {
        await evaluator.signal(registerWatchSignal, registration);
        return;
      } catch (err) {
        if (isCancellation(err)) throw err;
      }
      try {
        await startWatchEvaluator({ evaluatorId: feed.evaluatorId, ...start, registration, summary });
        return;
      } catch (err) {
        if (isCancellation(err)) throw err;
      }
      try {
        await startChild(watchEvaluatorWorkflow, {
          workflowId: feed.evaluatorId,
          args: [{ ...start, initial: [registration] }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          cancellationType: ChildWorkflowCancellationType.ABANDON,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          staticSummary: summary,
        });
      } catch (err) {
        if (isCancellation(err)) throw err;
        await evaluator.signal(registerWatchSignal, registration);
      }
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    ctx.record('warning', 'Watch evaluator not reached', `${feed.evaluatorId}: ${messageOf(err)}; the window is blind until it reports`, `evaluator-unreached:${state.watch!.checks}`);
  }
}

/** The window closed: the evaluator stops evaluating for it (one it cannot reach has closed, or forgets it at the next report). */
async function unregisterWindow(ctx: DeploymentContext, feed: WatchFeed): Promise<void> {
  try {
    await getExternalWorkflowHandle(feed.evaluatorId).signal(unregisterWatchSignal, { workflowId: workflowInfo().workflowId });
  } catch (err) {
    if (isCancellation(err)) throw err;
  }
}
