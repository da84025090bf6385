/**
 * The watch window (the seed's first 24 hours): every interval the alert rules are evaluated with
 * Prometheus `for` semantics and the escalation policy (page after 5 minutes of firing, roll back
 * after 15), until the window ends, a person promotes the release, or a rollback is requested.
 * The run hands over to a new one (continue-as-new, carrying the state) when its budget is spent.
 */
import { allHandlersFinished, condition, continueAsNew, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { WATCH_CHECK } from '../../activities/options';
import type { RuleEvaluation } from '../../activities/types';
import { formatDuration, formatMetric } from '../../format';
import type { DeploymentReport } from '../../model';
import { evaluateAlerts, initialAlertStates } from '../alert-evaluator';
import type { AlertAction } from '../alert-evaluator';
import type { DeploymentInput } from '../messages';
import type { DeploymentContext } from './context';
import { DeploymentFailed, messageOf } from './failures';
import { blindAtEnd, blindReason, closeSight, initialSight, observeCheck, sightPolicy, watchedSentence } from '../sight';
import type { SightAction } from '../sight';
import { runBudgetSpent } from './run-budget';
import { continuedShortRun, fedWatch } from '../evaluator-window';
import { watchElapsed } from '../report';

/** Blind-watch pages and `watch.onBlind` (new commands): histories from before them replay without. */
export const BLIND_WATCH_PATCH = 'blind-watch';
/**
 * The watch told by the watch evaluator (../evaluator.ts) instead of one check per interval in
 * this workflow: windows opened (or continued as new) before it keep their own checks.
 */
export const WATCH_EVALUATOR_PATCH = 'watch-evaluator';
/** A paused deployment holds a rollback/fail `watch.onBlind` as it holds the alert auto-rollback. */
export const BLIND_HOLD_PATCH = 'blind-hold-paused';

/** What the evaluator-fed watch (../evaluator-window.ts) applies with this module's actions. */
export const WINDOW_ACTIONS = { applyAlertAction, applySightAction, windowEnds, checkFailed } as const;
export type WindowActions = typeof WINDOW_ACTIONS;

export async function watchWindow(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  // A run a short-runs window continued into: its phase and patches are carried, not asked again (no commands).
  const continued = continuedShortRun(state);
  if (continued) ctx.resume('WATCH');
  else ctx.enter('WATCH');
  if (!state.watch) openWindow(ctx);
  const watch = state.watch!;
  if (continued || (spec.metrics && spec.watch.rules.length && ctx.input.watchMode !== 'per-window' && patched(WATCH_EVALUATOR_PATCH))) return fedWatch(ctx, WINDOW_ACTIONS);
  const over = () => state.rollbackRequest !== undefined || watch.outcome !== undefined;
  for (;;) {
    if (over()) return;
    if (Date.now() >= Date.parse(watch.endsAt)) {
      await windowEnds(ctx);
      return;
    }
    if (spec.metrics && spec.watch.rules.length) await watchCheck(ctx);
    if (over()) return;
    const info = workflowInfo();
    if (runBudgetSpent({ checksThisRun: state.checksThisRun, historyLength: info.historyLength, continueAsNewSuggested: info.continueAsNewSuggested })) {
      await condition(allHandlersFinished);
      if (over()) return;
      ctx.flushTimelineMemo();
      return continueAsNew<(input: DeploymentInput) => Promise<DeploymentReport>>({ ...ctx.input, carried: state });
    }
    const seen = ctx.wakeUps;
    const left = Date.parse(watch.endsAt) - Date.now();
    await condition(() => ctx.wakeUps !== seen, Math.min(spec.watch.intervalMs, Math.max(left, 1)));
  }
}

function openWindow(ctx: DeploymentContext): void {
  const { spec, state } = ctx;
  const start = Date.now();
  const durationMs = spec.watch.durationMs + ctx.extendedBeforeWatchMs;
  state.watch = { startedAt: new Date(start).toISOString(), endsAt: new Date(start + durationMs).toISOString(), alertsFired: [], checks: 0 };
  state.alerts = initialAlertStates(spec.watch.rules);
  const unwatched = !spec.metrics ? 'the spec has no metrics (no Prometheus to evaluate alert rules against)' : spec.watch.rules.length === 0 ? 'the spec has no alert rules' : undefined;
  state.watch.sight = { ...initialSight(), ...(unwatched ? { unwatched } : {}) };
  if (unwatched) {
    ctx.record('warning', `Watch window started (${formatDuration(durationMs)}): nothing is watched`, `${unwatched}; the window only waits for promote or rollback`, 'watch-started');
    state.issues.push(`nothing watched after the rollout: ${unwatched}`);
    return;
  }
  ctx.record('started', `Watch window started (${formatDuration(durationMs)})`, `${spec.watch.rules.length} alert rule(s) every ${formatDuration(spec.watch.intervalMs)}, auto-rollback ${spec.watch.autoRollback ? 'on' : 'off'}, blind after ${formatDuration(sightPolicy(spec.watch).blindAfterMs)} → ${sightPolicy(spec.watch).onBlind}`, 'watch-started');
}

/** The window's time is up: the blind time is counted, and a window blind long enough applies `watch.onBlind`. */
async function windowEnds(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  const watch = state.watch!;
  if (watch.sight) {
    watch.sight = closeSight(watch.sight, Date.now());
    if (blindAtEnd(watch.sight, sightPolicy(spec.watch)) && patched(BLIND_WATCH_PATCH)) {
      const sentence = watchedSentence(watch.sight, { elapsedMs: watchElapsed(watch, Date.now()), nowMs: Date.now() });
      await applyOnBlind(ctx, { why: `the watch window ended blind: ${sentence}`, about: 'blind:end' });
      if (state.rollbackRequest) return;
    }
  }
  watch.outcome = 'completed';
}

/**
 * One check: the rules evaluated (rules that could not be are on the timeline and count as blind,
 * never a pass), then each resulting action applied: the alert evaluator's and the blind watch's.
 */
async function watchCheck(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  const watch = state.watch!;
  let evaluations: RuleEvaluation[];
  let failure: { error: string } | undefined;
  try {
    evaluations = await ctx.runActivity('evaluateAlertRules', { prometheusUrl: spec.metrics!.prometheusUrl, rules: spec.watch.rules }, { options: WATCH_CHECK, summary: `Watch check ${watch.checks + 1}` });
  } catch (err) {
    if (isCancellation(err)) throw err;
    checkFailed(ctx, messageOf(err));
    evaluations = [];
    failure = { error: messageOf(err) };
  }
  watch.checks++;
  state.checksThisRun++;
  const result = evaluateAlerts(state.alerts, evaluations, { rules: spec.watch.rules, nowMs: Date.now(), policy: spec.watch, holdRollback: state.paused });
  state.alerts = result.alerts;
  for (const action of result.actions) await applyAlertAction(ctx, action);
  if (!watch.sight) return;
  const hold = state.paused && patched(BLIND_HOLD_PATCH);
  const seen = observeCheck(watch.sight, { nowMs: Date.now(), reason: blindReason(failure ?? evaluations, spec.watch.rules), hold }, sightPolicy(spec.watch));
  watch.sight = seen.sight;
  for (const action of seen.actions) await applySightAction(ctx, action);
}

/** An evaluation that failed as a whole: on the timeline (once an hour or so), and the check is blind. */
function checkFailed(ctx: DeploymentContext, error: string): void {
  ctx.record('warning', 'Alert rules could not be evaluated', error, `eval-failed:${Math.floor(ctx.state.watch!.checks / 60)}`);
}

/** The timeline entry, page or `watch.onBlind` a blind watch calls for. */
async function applySightAction(ctx: DeploymentContext, action: SightAction): Promise<void> {
  const { spec } = ctx;
  switch (action.kind) {
    case 'blind-started':
      ctx.record('warning', 'Watch blind: alert rules not evaluated', action.reason, `blind:${ctx.state.watch!.checks}`);
      return;
    case 'sight-restored':
      ctx.record('info', `Watch restored after ${formatDuration(action.blindForMs)} blind`, action.reason, `sight:${ctx.state.watch!.checks}`);
      return;
    case 'blind-page':
      if (!patched(BLIND_WATCH_PATCH)) return;
      ctx.record('warning', `Paged on-call: watch blind for ${formatDuration(action.blindForMs)}`, action.reason, `blind-page:${action.since}`);
      await ctx.notify({
        kind: 'paged',
        severity: 'critical',
        about: `blind:${action.since}`,
        title: `Watch blind: ${spec.service} ${spec.release}`,
        text: `The alert rules of ${spec.service} ${spec.release} have not been evaluated for ${formatDuration(action.blindForMs)}: ${action.reason}. Nothing is catching a bad release meanwhile. After ${formatDuration(spec.watch.rollbackAfterMs)} blind: ${sightPolicy(spec.watch).onBlind}.`,
      });
      return;
    case 'on-blind-held':
      ctx.record('warning', `watch.onBlind (${sightPolicy(spec.watch).onBlind}) held: deployment paused`, `${action.reason}; blind for ${formatDuration(action.blindForMs)}. Resume and the next check applies it, or run \`shipwatch rollback\`.`, `blind-held:${action.since}`);
      return;
    case 'on-blind':
      if (!patched(BLIND_WATCH_PATCH)) return;
      await applyOnBlind(ctx, { why: `alert rules not evaluated for ${formatDuration(action.blindForMs)}: ${action.reason}`, about: `blind-escalation:${action.since}` });
      return;
  }
}

/** `watch.onBlind`: page again (a person decides), roll back, or end the deployment FAILED. */
async function applyOnBlind(ctx: DeploymentContext, blind: { why: string; about: string }): Promise<void> {
  const { spec, state } = ctx;
  ctx.state.issues.push(`blind watch: ${blind.why}`);
  switch (sightPolicy(spec.watch).onBlind) {
    case 'page':
      ctx.record('warning', 'Decision needed: the watch is blind', blind.why, blind.about);
      await ctx.notify({
        kind: 'paged',
        severity: 'critical',
        about: blind.about,
        title: `Decision needed, watch blind: ${spec.service} ${spec.release}`,
        text: `${blind.why}. The release is live and unverified: fix the metrics (Prometheus, the rules' queries) or run \`shipwatch rollback\`.`,
      });
      return;
    case 'rollback':
      ctx.requestRollback('blind-watch', blind.why, 'shipwatch (watch.onBlind: rollback)');
      return;
    case 'fail':
      state.watch!.endedAt = new Date().toISOString();
      state.watch!.outcome = 'blind';
      throw new DeploymentFailed(`${blind.why} (watch.onBlind: fail; the release stays live, unverified)`);
  }
}

/** An alert's value in its rule's unit ("21.6%", "640ms"), as the runbook and the report show it. */
function valueText(ctx: DeploymentContext, rule: string, value: number | null): string {
  if (value === null) return 'n/a';
  return formatMetric(value, ctx.spec.watch.rules.find((r) => r.name === rule)?.unit ?? 'none');
}

/** The timeline entry, page or rollback request an action of the alert evaluator calls for. */
async function applyAlertAction(ctx: DeploymentContext, action: AlertAction): Promise<void> {
  const { spec, state } = ctx;
  const alert = state.alerts.find((a) => a.rule === action.rule);
  const since = alert?.firingSince ?? alert?.activeSince ?? '';
  switch (action.kind) {
    case 'pending':
      ctx.record('warning', `Alert pending: ${action.rule}`, `value ${valueText(ctx, action.rule, action.value)}`, `pending:${action.rule}:${since}`);
      return;
    case 'fired':
      state.watch!.alertsFired.push({ rule: action.rule, severity: action.severity, firedAt: since, value: action.value });
      ctx.record(action.severity === 'critical' ? 'failed' : 'warning', `Alert firing: ${action.rule} (${action.severity})`, `value ${valueText(ctx, action.rule, action.value)}`, `fired:${action.rule}:${since}`);
      return;
    case 'cleared':
      ctx.record('info', action.wasFiring ? `Alert resolved: ${action.rule}` : `Alert cleared before its for: ${action.rule}`, undefined);
      return;
    case 'unknown':
      ctx.record('warning', `No value for ${action.rule} (${action.outcome})`, action.error, `unknown:${action.rule}:${action.outcome}:${Math.floor(state.watch!.checks / 120)}`);
      return;
    case 'page': {
      const firing = formatDuration(action.firingForMs);
      ctx.record('warning', `Paged on-call: ${action.rule} firing for ${firing}`, undefined, `page:${action.rule}:${since}`);
      const next = spec.watch.autoRollback ? `Auto-rollback after ${formatDuration(spec.watch.rollbackAfterMs)} of firing.` : 'Auto-rollback is off: roll back with `shipwatch rollback` if needed.';
      await ctx.notify({
        kind: 'paged',
        severity: 'critical',
        about: `firing:${action.rule}:${since}`,
        title: `${action.rule} firing on ${spec.service} ${spec.release}`,
        text: `${action.rule} has been firing for ${firing} (value ${valueText(ctx, action.rule, action.value)}). ${next}`,
      });
      return;
    }
    case 'decide':
      if (action.why === 'paused') {
        ctx.record('warning', `Auto-rollback held: ${action.rule} firing, deployment paused`, undefined, `held:${action.rule}:${since}`);
        return;
      }
      ctx.record('warning', `Decision needed: ${action.rule} firing for ${formatDuration(action.firingForMs)}, auto-rollback off`, undefined, `decide:${action.rule}:${since}`);
      await ctx.notify({
        kind: 'paged',
        severity: 'critical',
        about: `decision:${action.rule}:${since}`,
        title: `Decision needed: ${spec.service} ${spec.release}`,
        text: `${action.rule} has been firing for ${formatDuration(action.firingForMs)}. Auto-rollback is off: run \`shipwatch rollback\` or \`shipwatch promote\`.`,
      });
      return;
    case 'rollback':
      ctx.requestRollback('alert', `${action.rule} firing for ${formatDuration(action.firingForMs)} (value ${valueText(ctx, action.rule, action.value)})`, 'shipwatch (escalation policy)');
      return;
  }
}
