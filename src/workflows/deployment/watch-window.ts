/**
 * The watch window (the seed's first 24 hours): every interval the alert rules are evaluated with
 * Prometheus `for` semantics and the escalation policy (page after 5 minutes of firing, roll back
 * after 15), until the window ends, a person promotes the release, or a rollback is requested.
 * The run hands over to a new one (continue-as-new, carrying the state) when its budget is spent.
 */
import { allHandlersFinished, condition, continueAsNew, isCancellation, workflowInfo } from '@temporalio/workflow';
import { WATCH_CHECK } from '../../activities/options';
import type { RuleEvaluation } from '../../activities/types';
import { formatDuration, formatMetric } from '../../format';
import type { DeploymentReport } from '../../model';
import { evaluateAlerts, initialAlertStates } from '../alert-evaluator';
import type { AlertAction } from '../alert-evaluator';
import type { DeploymentInput } from '../messages';
import type { DeploymentContext } from './context';
import { messageOf } from './failures';
import { runBudgetSpent } from './run-budget';

export async function watchWindow(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  ctx.enter('WATCH');
  if (!state.watch) openWindow(ctx);
  const watch = state.watch!;
  const over = () => state.rollbackRequest !== undefined || watch.outcome !== undefined;
  for (;;) {
    if (over()) return;
    if (Date.now() >= Date.parse(watch.endsAt)) {
      watch.outcome = 'completed';
      return;
    }
    if (spec.metrics && spec.watch.rules.length) await watchCheck(ctx);
    if (over()) return;
    const info = workflowInfo();
    if (runBudgetSpent({ checksThisRun: state.checksThisRun, historyLength: info.historyLength, continueAsNewSuggested: info.continueAsNewSuggested })) {
      await condition(allHandlersFinished);
      if (over()) return;
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
  ctx.record('started', `Watch window started (${formatDuration(durationMs)})`, `checks every ${formatDuration(spec.watch.intervalMs)}, auto-rollback ${spec.watch.autoRollback ? 'on' : 'off'}`, 'watch-started');
}

/** One check: the rules evaluated (rules that could not be are on the timeline, never a pass), then each resulting action applied. */
async function watchCheck(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  const watch = state.watch!;
  let evaluations: RuleEvaluation[];
  try {
    evaluations = await ctx.runActivity('evaluateAlertRules', { prometheusUrl: spec.metrics!.prometheusUrl, rules: spec.watch.rules }, { options: WATCH_CHECK, summary: `Watch check ${watch.checks + 1}` });
  } catch (err) {
    if (isCancellation(err)) throw err;
    ctx.record('warning', 'Alert rules could not be evaluated', messageOf(err), `eval-failed:${Math.floor(watch.checks / 60)}`);
    evaluations = [];
  }
  watch.checks++;
  state.checksThisRun++;
  const result = evaluateAlerts(state.alerts, spec.watch.rules, evaluations, Date.now(), spec.watch, { holdRollback: state.paused });
  state.alerts = result.alerts;
  for (const action of result.actions) await applyAlertAction(ctx, action);
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
