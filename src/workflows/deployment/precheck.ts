/**
 * Pre-deployment verification (the seed's `pre-deploy-check.sh`): the approved plan is recorded,
 * the cluster answers and the Deployment is found healthy, rollback readiness is verified and the
 * metrics baseline is captured. Nothing changes here; any failure ends the deployment FAILED.
 */
import { patched } from '@temporalio/workflow';
import { QUICK_CALL, WATCH_CHECK } from '../../activities/options';
import type { OnCallAssignment, RuleEvaluation } from '../../activities/types';
import { formatDuration, releaseOfImage } from '../../format';
import type { MetricsSnapshot, RollbackTarget } from '../../model';
import { ON_CALL_EVENT_KEY, onCallEvent, pagesToText } from '../../report/on-call';
import type { DeploySpec, ResolvedAlertRule } from '../../spec/types';
import type { DeploymentContext } from './context';
import { DeploymentFailed, messageOf } from './failures';

/**
 * The pre-deploy check as the seed means it (behind a patch: histories from before replay without):
 * `change.required` refuses to start without a plan, every rule and metric query runs once, and a
 * baseline without data follows `metrics.missingBaseline`.
 */
export const STRICT_PRECHECK_PATCH = 'strict-precheck';

/** Who is on call is resolved and recorded when the deployment starts (behind a patch: older histories have no such activity). */
export const ON_CALL_PATCH = 'on-call';

export async function precheck(ctx: DeploymentContext): Promise<void> {
  const { spec, state, ref } = ctx;
  ctx.enter('PRECHECK');
  ctx.record('started', 'Deployment started', `${spec.service} ${spec.release} (${spec.image}) by ${state.requestedBy}`, 'deployment-started');
  const strict = patched(STRICT_PRECHECK_PATCH);
  if (strict) requireApprovedPlan(ctx);
  recordApprovedPlan(ctx);
  if (patched(ON_CALL_PATCH)) await recordOnCall(ctx);
  let found: RollbackTarget;
  try {
    found = await ctx.runActivity('readTarget', ref, { options: QUICK_CALL, summary: `Pre-deploy check: read deployment/${ref.deployment}` });
  } catch (err) {
    throw new DeploymentFailed(`pre-deploy check failed: cannot read deployment/${ref.deployment} in ${ref.namespace}: ${messageOf(err)}`);
  }
  state.rollbackTarget = found;
  state.rollout.replicas = found.replicas;
  ctx.record('ok', 'Cluster reachable, target found', `deployment/${found.deployment}: ${found.readyReplicas}/${found.replicas} ready, revision ${found.revision}, ${found.image}`, 'target');
  if (!found.healthy) {
    throw new DeploymentFailed(`pre-deploy check failed: deployment/${found.deployment} is not healthy: ${found.problems.join('; ') || 'unknown reason'}`);
  }
  if (!found.revisions.includes(found.revision) || found.revision < 1) {
    throw new DeploymentFailed(`rollback readiness failed: revision ${found.revision} of deployment/${found.deployment} is not in its ReplicaSet history, so there is nothing to roll back to`);
  }
  state.rollback.readiness = rollbackReadiness(found, spec);
  const schemaStays = spec.migrations !== undefined && !spec.migrations.rollbackCommand;
  if (schemaStays) state.issues.push('no migration rollback target: a rollback leaves the new schema in place');
  ctx.record(schemaStays ? 'warning' : 'ok', 'Rollback readiness', state.rollback.readiness, 'readiness');
  await captureBaseline(ctx, strict);
  if (strict) await tryRuleQueries(ctx);
  await ctx.notify({
    kind: 'started',
    severity: 'info',
    title: `Deployment started: ${spec.service} ${spec.release}`,
    text: `${spec.service} ${releaseOfImage(found.image)} → ${spec.release} in ${spec.namespace}, by ${state.requestedBy}${spec.change ? ` (${spec.change.reference})` : ''}`,
  });
}

/** "Verified: revision 4 (v0.9.0) to return to; migrations roll back with: …", the report's rollback readiness line. */
export function rollbackReadiness(found: RollbackTarget, spec: DeploySpec): string {
  const migrationNote = spec.migrations
    ? spec.migrations.rollbackCommand
      ? `; migrations roll back with: ${spec.migrations.rollbackCommand.join(' ')} (image ${found.image})`
      : '; migrations are NOT rolled back (no migrations.rollbackCommand in the spec)'
    : '';
  return `Verified: revision ${found.revision} (${releaseOfImage(found.image)}) to return to${migrationNote}`;
}

function recordApprovedPlan(ctx: DeploymentContext): void {
  const { change } = ctx.spec;
  if (change) {
    ctx.record('ok', 'Approved plan recorded', `${change.reference}${change.approvedBy ? ` approved by ${change.approvedBy}` : ''}${change.url ? ` (${change.url})` : ''}`, 'change');
  } else {
    ctx.record('warning', 'No approved plan referenced', 'the spec has no change.reference');
    ctx.state.issues.push('no approved plan (change.reference) in the spec');
  }
}

/**
 * Who is on call for the spec's rotation at the deployment's start, on the timeline (one event,
 * key `on-call`); nobody resolved is a warning (and an issue when a rotation was named), never a
 * failure: the deployment can go on, and the report says plainly that nobody was assigned.
 */
async function recordOnCall(ctx: DeploymentContext): Promise<void> {
  const { onCall, notifications } = ctx.spec;
  const pagesTo = pagesToText(notifications.pager?.webhook, onCall?.webhook !== undefined);
  let assignment: OnCallAssignment | undefined;
  let error: string | undefined;
  if (onCall) {
    try {
      const input = { rotation: onCall.rotation, ...(onCall.schedule ? { schedule: onCall.schedule } : {}), at: ctx.state.startedAt };
      assignment = await ctx.runActivity('resolveOnCall', input, { options: QUICK_CALL, summary: `Pre-deploy check: who is on call (${onCall.rotation})` });
    } catch (err) {
      error = messageOf(err);
    }
  }
  const event = onCallEvent({ ...(onCall ? { rotation: onCall.rotation } : {}), ...(assignment ? { assignment } : {}), ...(error ? { error } : {}), pagesTo });
  ctx.record(event.status, event.title, event.detail, ON_CALL_EVENT_KEY);
  // A rotation named but nobody resolved is an issue; no rotation at all is the report's recommendation line only.
  if (onCall && event.status !== 'ok') ctx.state.issues.push(`${event.title}: ${event.detail}`);
}

/** `change.required: true` and no plan reference: refused before anything is touched (the loader refuses it too; a workflow started another way is checked here). */
function requireApprovedPlan(ctx: DeploymentContext): void {
  const { change } = ctx.spec;
  if (change?.required && !change.reference?.trim()) {
    throw new DeploymentFailed('pre-deploy check failed: change.required is true but no approved plan is referenced; set change.reference to the approved plan (e.g. REL-2025-11-15)');
  }
}

/**
 * The pre-deploy metrics the METRICS phase compares against. A baseline that cannot be read stops
 * the deployment; a query with no data follows `metrics.missingBaseline` (strict precheck): `fail`
 * names the query and how to fix it, `skip` says on the timeline which comparisons will not run.
 */
async function captureBaseline(ctx: DeploymentContext, strict: boolean): Promise<void> {
  const { metrics } = ctx.spec;
  if (!metrics) {
    ctx.record('warning', 'No metrics baseline', 'the spec has no metrics: no baseline, no comparison, no alert rules evaluated', 'baseline');
    return;
  }
  let baseline: MetricsSnapshot;
  try {
    baseline = await ctx.runActivity('captureBaseline', { prometheusUrl: metrics.prometheusUrl, checks: metrics.checks }, { options: QUICK_CALL, summary: 'Pre-deploy check: capture the metrics baseline' });
  } catch (err) {
    throw new DeploymentFailed(`pre-deploy check failed: cannot capture the baseline metrics: ${messageOf(err)}`);
  }
  ctx.state.baseline = baseline;
  const missing = baseline.values.filter((v) => v.outcome !== 'ok');
  // The activity looked again for queries with no data (the series of pods Prometheus has not scraped yet).
  const waited = baseline.waitedMs !== undefined ? formatDuration(baseline.waitedMs) : undefined;
  const lookedAgain = waited ? ` after looking again for ${waited}` : '';
  if (strict && missing.length) {
    const queryOf = (name: string) => metrics.checks.find((c) => c.name === name)?.query ?? '?';
    const broken = missing.filter((m) => m.outcome !== 'no-data');
    if (broken.length) {
      throw new DeploymentFailed(`pre-deploy check failed: baseline query ${broken.map((m) => `${m.name} (${queryOf(m.name)}): ${m.outcome}${m.error ? `: ${m.error}` : ''}`).join('; ')}; fix the query or Prometheus (${metrics.prometheusUrl})`);
    }
    if (metrics.missingBaseline === 'fail') {
      throw new DeploymentFailed(
        `pre-deploy check failed: no baseline data for ${missing.map((m) => `${m.name} (query: ${queryOf(m.name)})`).join('; ')}${lookedAgain}; fix the query (its selector must match the running service's series), or set metrics.missingBaseline: skip to deploy without comparing it`,
      );
    }
    const skipped = `no baseline data for ${missing.map((m) => m.name).join(', ')}${lookedAgain}: not compared after the rollout (metrics.missingBaseline: skip)`;
    ctx.record('warning', 'Baseline metrics captured, some skipped', skipped, 'baseline');
    ctx.state.issues.push(skipped);
    return;
  }
  const detail = missing.length ? `no value for: ${missing.map((m) => `${m.name} (${m.outcome})`).join(', ')}${lookedAgain}` : `${baseline.values.length} metrics${waited ? `, after waiting ${waited} for series Prometheus had not scraped yet` : ''}`;
  ctx.record(missing.length ? 'warning' : 'ok', 'Baseline metrics captured', detail, 'baseline');
}

/**
 * Every alert rule's query, once, before anything changes: a query error or an unreachable
 * Prometheus fails the check (the watch would be blind); a rule with no data follows
 * `metrics.missingBaseline`.
 */
async function tryRuleQueries(ctx: DeploymentContext): Promise<void> {
  const { metrics, watch } = ctx.spec;
  if (!metrics || watch.rules.length === 0) return;
  let evaluations: RuleEvaluation[];
  try {
    evaluations = await ctx.runActivity('evaluateAlertRules', { prometheusUrl: metrics.prometheusUrl, rules: watch.rules }, { options: WATCH_CHECK, summary: 'Pre-deploy check: run every alert rule once' });
  } catch (err) {
    throw new DeploymentFailed(`pre-deploy check failed: the alert rules cannot be evaluated against ${metrics.prometheusUrl}: ${messageOf(err)}`);
  }
  const verdict = ruleQueryVerdict(watch.rules, evaluations, metrics.missingBaseline ?? 'fail');
  if (verdict.fail) throw new DeploymentFailed(`pre-deploy check failed: ${verdict.fail}`);
  ctx.record(verdict.skipped ? 'warning' : 'ok', 'Alert rules evaluated once', verdict.skipped ?? `${watch.rules.length} rules answered`, 'rules-tried');
  if (verdict.skipped) ctx.state.issues.push(verdict.skipped);
}

/** Pure: what one evaluation of every rule says about the pre-deploy check. */
export function ruleQueryVerdict(rules: readonly ResolvedAlertRule[], evaluations: readonly RuleEvaluation[], missing: 'fail' | 'skip'): { fail?: string; skipped?: string } {
  const result = (r: ResolvedAlertRule) => evaluations.find((e) => e.rule === r.name);
  const broken = rules.filter((r) => result(r) !== undefined && result(r)!.outcome !== 'ok' && result(r)!.outcome !== 'no-data');
  if (broken.length) {
    return { fail: `alert rule query failed: ${broken.map((r) => `${r.name} (${r.expr}): ${result(r)!.outcome}${result(r)!.error ? `: ${result(r)!.error}` : ''}`).join('; ')}; fix the query or Prometheus` };
  }
  const empty = rules.filter((r) => (result(r)?.outcome ?? 'no-data') === 'no-data');
  if (!empty.length) return {};
  if (missing === 'fail') {
    return { fail: `no data for alert rule ${empty.map((r) => `${r.name} (query: ${r.expr})`).join('; ')}; fix the query (its selector must match the service's series), or set metrics.missingBaseline: skip to deploy with the rule unwatched until it has data` };
  }
  return { skipped: `no data yet for alert rule ${empty.map((r) => r.name).join(', ')} (metrics.missingBaseline: skip): the watch is blind to it until it has data` };
}
