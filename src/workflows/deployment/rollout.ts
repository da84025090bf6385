/**
 * Step 3: the stepped rollout (the seed's Hour 2: one pod at a time, 33% → 67% → 100%). Each step
 * patches the Deployment and waits for its pods (the availability probe runs meanwhile), then holds
 * for its health window: the alert rules and a health check every interval, a bad step rolling
 * back at once. Pause holds the rollout before its next step.
 */
import { condition, isCancellation, patched } from '@temporalio/workflow';
import { DEADLINE_MARGIN_MS, LONG_RUNNING, WATCH_CHECK } from '../../activities/options';
import type { RolloutProgress, RuleEvaluation } from '../../activities/types';
import type { HealthWindowRecord } from '../../model';
import { formatDuration } from '../../format';
import { evaluateAlerts, firingCritical, initialAlertStates } from '../alert-evaluator';
import { planRollout } from '../rollout-plan';
import { blindReason, closeSight, initialSight, observeCheck, sightPolicy } from '../sight';
import type { Sight, SightAction } from '../sight';
import type { RolloutStepPlan } from '../rollout-plan';
import type { DeploymentContext } from './context';
import { DeploymentFailed, RollbackNeeded, messageOf } from './failures';
import { splitOf } from './traffic';

export async function rollout(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  const target = state.rollbackTarget!;
  ctx.enter('ROLLOUT');
  const steps = planRollout(target.replicas, spec.kubernetes.stepPods);
  state.rollout.steps = steps.length;
  state.compensations.push('rollout');
  ctx.recordTraffic([], { newPods: 0, oldPods: target.replicas, newPercent: 0 });
  // Blindness across the health windows: a Prometheus down for the whole rollout pages like a blind watch.
  const across: { sight: Sight } = { sight: initialSight() };
  for (const step of steps) {
    if (state.paused) {
      ctx.record('info', `Rollout held before step ${step.index} (paused)`, undefined, `held:${step.index}`);
      await condition(() => !state.paused);
    }
    await rolloutStep(ctx, step, steps.length);
    await stepHealthWindow(ctx, step.index, across);
  }
  ctx.record('ok', `All pods running ${spec.release}`, undefined, 'rollout-complete');
}

/** One step: new pods up to the step's count, ready; a failed step or a failed probe rolls back. */
async function rolloutStep(ctx: DeploymentContext, step: RolloutStepPlan, of: number): Promise<void> {
  const { spec, state } = ctx;
  state.rollout.step = step.index;
  ctx.record('started', `Rollout step ${step.index}/${of}: ${step.targetNewPods} pod(s) on ${spec.release} (${step.percent}%)`, undefined, `step-started:${step.index}`);
  let progress: RolloutProgress;
  try {
    progress = await ctx.runActivity(
      'rolloutStep',
      {
        step: {
          ...ctx.ref,
          image: spec.image,
          release: spec.release,
          targetNewPods: step.targetNewPods,
          progressDeadlineMs: spec.kubernetes.progressDeadlineMs,
          ...(spec.kubernetes.manifest ? { manifest: spec.kubernetes.manifest } : {}),
        },
        probe: ctx.probe,
      },
      { options: { ...LONG_RUNNING, startToCloseTimeout: spec.kubernetes.progressDeadlineMs + DEADLINE_MARGIN_MS }, summary: `Rollout step ${step.index}/${of}: ${step.percent}% on ${spec.release}` },
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw new RollbackNeeded('rollout-failed', `rollout step ${step.index} failed: ${messageOf(err)}`);
  }
  ctx.timeline.addAll('ROLLOUT', progress.events);
  state.rollout.newReady = progress.newReady;
  ctx.addAvailability(progress.availability);
  ctx.recordTraffic(progress.traffic, splitOf(progress.newReady, progress.oldReady, progress.replicas));
  ctx.record('ok', `Step ${step.index} deployed: ${progress.newReady}/${progress.replicas} pods on ${spec.release}`, undefined, `step:${step.index}`);
  if (progress.availability && progress.availability.failures > 0) {
    throw new RollbackNeeded('rollout-failed', `availability probe failed ${progress.availability.failures} of ${progress.availability.probes} times during step ${step.index}`);
  }
}

/**
 * The health window after a step: alert rules + health check each interval; a bad step rolls back
 * at once. Checks whose rules could not be evaluated are on the timeline and counted (the window's
 * record says in how many checks the rules were evaluated), never a silent pass.
 */
async function stepHealthWindow(ctx: DeploymentContext, index: number, across: { sight: Sight }): Promise<void> {
  const { spec, state } = ctx;
  const windowMs = spec.kubernetes.stepWindowMs;
  if (windowMs <= 0) return;
  const endsAt = Date.now() + windowMs;
  ctx.record('started', `Health window for step ${index} (${formatDuration(windowMs)})`, spec.metrics ? undefined : 'health checks only: the spec has no metrics, so no alert rule is evaluated', `window-started:${index}`);
  let alerts = initialAlertStates(spec.watch.rules);
  let sight = initialSight();
  for (;;) {
    const [health, evaluations] = await Promise.all([checkStepHealth(ctx, index), evaluateStepAlerts(ctx, index)]);
    if ('error' in health) {
      throw new RollbackNeeded('rollout-failed', `health check failed in the window of step ${index}: ${health.error}`);
    }
    ctx.addAvailability(health.availability);
    if (!health.target.healthy) {
      throw new RollbackNeeded('rollout-failed', `step ${index} is not healthy: ${health.target.problems.join('; ')}`);
    }
    if (health.availability.failures > 0) {
      throw new RollbackNeeded('rollout-failed', `health endpoint failed ${health.availability.failures} of ${health.availability.probes} probes after step ${index}`);
    }
    if (spec.metrics && spec.watch.rules.length) {
      const check = { nowMs: Date.now(), reason: blindReason(evaluations, spec.watch.rules) };
      const seen = observeCheck(sight, check, sightPolicy(spec.watch));
      sight = seen.sight;
      for (const action of seen.actions) {
        if (action.kind === 'blind-started') ctx.record('warning', `Alert rules not evaluated in the window of step ${index}`, action.reason, `step-blind:${index}:${sight.checks}`);
        if (action.kind === 'sight-restored') ctx.record('info', `Alert rules evaluated again in the window of step ${index}`, `after ${formatDuration(action.blindForMs)}`, `step-sight:${index}:${sight.checks}`);
      }
      const streak = observeCheck(across.sight, check, sightPolicy(spec.watch));
      across.sight = streak.sight;
      for (const action of streak.actions) {
        try {
          await rolloutBlind(ctx, index, action);
        } catch (err) {
          recordHealthWindow(ctx, index, sight);
          throw err;
        }
      }
    }
    if (!('error' in evaluations)) {
      const result = evaluateAlerts(alerts, evaluations, { rules: spec.watch.rules, nowMs: Date.now(), policy: spec.watch, holdRollback: true });
      alerts = result.alerts;
      for (const action of result.actions) {
        if (action.kind === 'pending' || action.kind === 'fired') {
          ctx.record('warning', `Alert ${action.kind === 'pending' ? 'pending' : 'firing'} in the window of step ${index}: ${action.rule} (${action.severity})`, `value ${action.value ?? 'n/a'}`, `step-${action.kind}:${index}:${action.rule}`);
        }
      }
      const bad = firingCritical(alerts);
      if (bad.length) {
        recordHealthWindow(ctx, index, sight);
        throw new RollbackNeeded('alert', `${bad.map((a) => a.rule).join(', ')} firing in the health window of step ${index}`);
      }
    }
    const left = endsAt - Date.now();
    if (left <= 0) break;
    await condition(() => state.rollbackRequest !== undefined, Math.min(spec.watch.intervalMs, left));
  }
  const record = recordHealthWindow(ctx, index, sight);
  const rulesNote = !spec.metrics || !spec.watch.rules.length ? 'no alert rules evaluated (none in the spec)' : `alert rules evaluated in ${record.evaluated} of ${record.checks} checks${record.blindMs > 0 ? `; blind ${formatDuration(record.blindMs)}: ${record.reasons.join('; ')}` : ''}`;
  const blind = spec.metrics !== undefined && spec.watch.rules.length > 0 && record.evaluated < record.checks;
  if (blind) state.issues.push(`health window of step ${index} partly blind: ${rulesNote}`);
  ctx.record(blind ? 'warning' : 'ok', `Health check passed - step ${index}`, `${state.rollout.newReady} pod(s) on ${spec.release}; ${rulesNote}`, `window:${index}`);
}

/** Blind pages and `watch.onBlind` across the rollout's health windows (new commands: behind a patch). */
export const STEP_BLIND_PATCH = 'step-blind-page';

/**
 * What a blind streak across the health windows calls for, with the watch window's thresholds: a
 * page after `blindAfter` (the rollout goes on with health checks only), then `watch.onBlind` after
 * `rollbackAfter` — roll back, fail the deployment (what is rolled out stays), or page for a decision.
 */
async function rolloutBlind(ctx: DeploymentContext, index: number, action: SightAction): Promise<void> {
  const { spec } = ctx;
  if (action.kind !== 'blind-page' && action.kind !== 'on-blind') return;
  if (!patched(STEP_BLIND_PATCH)) return;
  const why = `alert rules not evaluated for ${formatDuration(action.blindForMs)} during the rollout (step ${index}): ${action.reason}`;
  const onBlind = sightPolicy(spec.watch).onBlind;
  if (action.kind === 'blind-page') {
    ctx.record('warning', `Paged on-call: rollout blind for ${formatDuration(action.blindForMs)}`, action.reason, `rollout-blind-page:${action.since}`);
    await ctx.notify({
      kind: 'paged',
      severity: 'critical',
      about: `rollout-blind:${action.since}`,
      title: `Rollout blind: ${spec.service} ${spec.release}`,
      text: `${why}. The rollout goes on with health checks only; nothing evaluates the alert rules meanwhile. After ${formatDuration(spec.watch.rollbackAfterMs)} blind: ${onBlind}.`,
    });
    return;
  }
  ctx.state.issues.push(`blind rollout: ${why}`);
  if (onBlind === 'rollback') throw new RollbackNeeded('blind-watch', `${why} (watch.onBlind: rollback)`);
  if (onBlind === 'fail') throw new DeploymentFailed(`${why} (watch.onBlind: fail; what is rolled out stays live, unverified)`);
  ctx.record('warning', 'Decision needed: the rollout is blind', why, `rollout-blind-decide:${action.since}`);
  await ctx.notify({
    kind: 'paged',
    severity: 'critical',
    about: `rollout-blind-decide:${action.since}`,
    title: `Decision needed, rollout blind: ${spec.service} ${spec.release}`,
    text: `${why}. The rollout goes on with health checks only: fix the metrics (Prometheus, the rules' queries), \`shipwatch pause\` it, or \`shipwatch rollback\`.`,
  });
}

/** The window's counts, kept for the report (replacing an earlier record of the same step). */
function recordHealthWindow(ctx: DeploymentContext, step: number, sight: Sight): HealthWindowRecord {
  const closed = closeSight(sight, Date.now());
  const record: HealthWindowRecord = { step, checks: closed.checks, evaluated: closed.evaluated, blindMs: closed.blindMs, reasons: closed.reasons };
  ctx.state.healthWindows = [...(ctx.state.healthWindows ?? []).filter((h) => h.step !== step), record];
  return record;
}

/** The Deployment's state and a probe burst; a check that could not run is an error the window rolls back on. */
function checkStepHealth(ctx: DeploymentContext, index: number) {
  return ctx.runActivity('checkStepHealth', { target: ctx.ref, probe: ctx.probe }, { options: WATCH_CHECK, summary: `Health check, step ${index}` }).catch((err: unknown) => {
    if (isCancellation(err)) throw err;
    return { error: messageOf(err) };
  });
}

/** The alert rules once; `{ error }` when they could not be evaluated (counted as a blind check; the health check still decides). */
async function evaluateStepAlerts(ctx: DeploymentContext, index: number): Promise<RuleEvaluation[] | { error: string }> {
  const { metrics, watch } = ctx.spec;
  if (!metrics) return [];
  return ctx.runActivity('evaluateAlertRules', { prometheusUrl: metrics.prometheusUrl, rules: watch.rules }, { options: WATCH_CHECK, summary: `Alert rules, step ${index}` }).catch((err: unknown) => {
    if (isCancellation(err)) throw err;
    return { error: messageOf(err) };
  });
}
