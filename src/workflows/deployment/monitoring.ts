/**
 * Hour 3 of the seed: the deployment verifies its own monitoring. In the pre-deploy check the
 * alert rules are configured (applied as a PrometheusRule, or compared with what Prometheus
 * evaluates) so go/no-go knows the rules that page a person are the spec's; after the metrics
 * comparison the rest run against the new release's pods (scrape, alerts tested, logging, error
 * tracking, dashboards). Each check is one activity and one line on the timeline; the spec's
 * per-check policy decides whether a failure blocks (fail before the rollout, roll back after it)
 * or warns. The activity commands are new, so they run only behind `patched('monitoring-phase')`:
 * histories recorded before it replay unchanged. Last, when the spec has `uptime`, the blackbox
 * probe of the public endpoint must report success for the new release (`patched('uptime-probe')`).
 */
import { isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/common';
import { QUICK_CALL } from '../../activities/options';
import type { MonitoringActivities, MonitoringCheckRequest } from '../../activities/monitoring-checks';
import type { UptimeResult } from '../../activities/types';
import { DEFAULT_MONITORING_POLICY, MONITORING_CHECKS, monitoringVerdict } from '../../model';
import type { EventStatus, MonitoringCheckName, MonitoringCheckResult, MonitoringPolicy, MonitoringRecord, MonitoringSettings, MonitoringVerdict } from '../../model';
import { CHECK_TITLE } from '../../monitoring/report';
import { UPTIME_EVENT_KEY, uptimeEvent } from '../../report/uptime';
import type { DeploySpec } from '../../spec/types';
import type { DeploymentContext } from './context';
import { DeploymentFailed, messageOf, RollbackNeeded } from './failures';

export const MONITORING_PATCH = 'monitoring-phase';

/** Where the checks run: the pre-deploy check decides go/no-go on the alert configuration; the rest need the new pods. */
export type MonitoringStage = 'precheck' | 'after-metrics';

export const STAGE_CHECKS: Record<MonitoringStage, MonitoringCheckName[]> = {
  precheck: ['alerts-configured'],
  'after-metrics': MONITORING_CHECKS.filter((c) => c !== 'alerts-configured'),
};

/** The spec's monitoring settings; specs resolved before the section existed get the defaults. */
export function settingsOf(spec: DeploySpec & { monitoring?: MonitoringSettings }): MonitoringSettings {
  return spec.monitoring ?? { policy: DEFAULT_MONITORING_POLICY };
}

/** How a result reads on the timeline: a failure that only warns is a warning; a check that could not run is a warning too. */
export function timelineStatus(result: MonitoringCheckResult, policy: MonitoringPolicy): EventStatus {
  if (result.status === 'passed') return 'ok';
  if (result.status === 'failed' && policy === 'block') return 'failed';
  return 'warning';
}

/** Merges a stage's results into the record so far, in the order of MONITORING_CHECKS (a re-run replaces). */
export function mergeRecord(previous: MonitoringRecord | undefined, results: MonitoringCheckResult[], checkedAt: string): MonitoringRecord {
  const byCheck = new Map<MonitoringCheckName, MonitoringCheckResult>();
  for (const r of previous?.checks ?? []) byCheck.set(r.check, r);
  for (const r of results) byCheck.set(r.check, r);
  return { checkedAt, checks: MONITORING_CHECKS.flatMap((c) => (byCheck.has(c) ? [byCheck.get(c)!] : [])) };
}

/** What the stage's verdict does: stop the deployment (fail before the rollout, roll back after it), or go on. */
export function monitoringStop(verdict: MonitoringVerdict, stage: MonitoringStage): { action: 'fail' | 'rollback'; reason: string } | undefined {
  if (verdict.blocking.length === 0) return undefined;
  const reason = `monitoring check${verdict.blocking.length > 1 ? 's' : ''} failed: ${verdict.blocking.map((c) => `${CHECK_TITLE[c.check]} (${c.status === 'not_run' ? 'could not run: ' : ''}${c.detail})`).join('; ')}`;
  return { action: stage === 'precheck' ? 'fail' : 'rollback', reason };
}

export interface MonitoringStageResult {
  record: MonitoringRecord;
  verdict: MonitoringVerdict;
}

/**
 * Runs one stage's checks, each on the timeline. Returns undefined when the patch is off (a
 * deployment started before this code: nothing runs, nothing is recorded). An activity that fails
 * outright is a check that could not run, said on the timeline.
 */
export async function runMonitoringStage(ctx: DeploymentContext, stage: MonitoringStage, previous?: MonitoringRecord): Promise<MonitoringStageResult | undefined> {
  if (!patched(MONITORING_PATCH)) return undefined;
  const settings = settingsOf(ctx.spec);
  const acts = proxyActivities<MonitoringActivities>(QUICK_CALL);
  const run = acts.runMonitoringCheck as unknown as { executeWithOptions(o: ActivityOptions, a: [MonitoringCheckRequest]): Promise<MonitoringCheckResult> };
  const results: MonitoringCheckResult[] = [];
  for (const check of STAGE_CHECKS[stage]) {
    let result: MonitoringCheckResult;
    try {
      result = await run.executeWithOptions({ ...QUICK_CALL, summary: `Monitoring: ${CHECK_TITLE[check]}` }, [{ check, spec: ctx.spec, settings }]);
    } catch (err) {
      result = { check, status: 'not_run', checked: CHECK_TITLE[check], found: [], detail: `the check itself failed: ${messageOf(err)}` };
    }
    results.push(result);
    const policy = settings.policy[check];
    const word = result.status === 'not_run' ? 'not run' : result.status;
    ctx.record(timelineStatus(result, policy), `Monitoring: ${CHECK_TITLE[check]} ${word}${result.status !== 'passed' ? ` (${policy})` : ''}`, result.detail, `monitoring:${check}`);
  }
  const record = mergeRecord(previous, results, new Date().toISOString());
  return { record, verdict: monitoringVerdict(results, settings.policy) };
}

/** In the pre-deploy check: the alert configuration decides go/no-go (a blocking failure ends the deployment FAILED). */
export async function monitoringPrecheck(ctx: DeploymentContext): Promise<void> {
  if (!ctx.spec.metrics || !patched(MONITORING_PATCH)) return;
  const stage = await runMonitoringStage(ctx, 'precheck', ctx.state.monitoring);
  if (!stage) return;
  ctx.state.monitoring = stage.record;
  const stop = monitoringStop(stage.verdict, 'precheck');
  if (stop) throw new DeploymentFailed(`pre-deploy check failed: ${stop.reason}`);
}

/** After the metrics comparison: the new release's monitoring; a blocking failure rolls back. */
export async function monitoring(ctx: DeploymentContext): Promise<void> {
  if (!patched(MONITORING_PATCH)) return;
  ctx.enter('MONITORING');
  if (!ctx.spec.metrics) {
    ctx.record('warning', 'Monitoring not checked', 'the spec has no metrics section: there is no Prometheus to check the monitoring against', 'monitoring');
    return;
  }
  const stage = await runMonitoringStage(ctx, 'after-metrics', ctx.state.monitoring);
  if (!stage) return;
  ctx.state.monitoring = stage.record;
  const stop = monitoringStop(stage.verdict, 'after-metrics');
  if (stop) throw new RollbackNeeded('monitoring', stop.reason);
  if (ctx.spec.uptime && patched(UPTIME_PATCH)) await checkUptime(ctx);
}

/** The uptime probe verified after the other checks (behind a patch: older histories have no such activity). */
export const UPTIME_PATCH = 'uptime-probe';

/** How long the check waits for a probe result newer than the new release: three probe intervals, at least 15 s, at most 5 min. */
export function uptimeWaitMs(intervalMs: number): number {
  return Math.min(Math.max(3 * intervalMs, 15_000), 5 * 60_000);
}

/**
 * The blackbox probe of the public endpoint reports success for the new release: a result newer
 * than the pods' verification. A failing probe rolls back (`uptime.onFailure: block`) or warns; a
 * check that could not run is a warning and an issue, never a pass.
 */
async function checkUptime(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  const uptime = spec.uptime!;
  const since = state.timeline.events.find((e) => e.key === 'pods')?.at ?? new Date().toISOString();
  const waitMs = uptimeWaitMs(uptime.intervalMs);
  let result: UptimeResult;
  try {
    result = await ctx.runActivity('checkUptime', { prometheusUrl: spec.metrics!.prometheusUrl, job: uptime.job, url: uptime.url, since, waitMs }, { options: { ...QUICK_CALL, startToCloseTimeout: waitMs + 60_000 }, summary: `Uptime probe: ${uptime.url}` });
  } catch (err) {
    if (isCancellation(err)) throw err;
    result = { status: 'not_run', found: 'the check did not complete', detail: messageOf(err) };
  }
  const event = uptimeEvent(result, uptime);
  ctx.record(event.status, event.title, event.detail, UPTIME_EVENT_KEY);
  if (result.status === 'failed' && uptime.onFailure === 'block') throw new RollbackNeeded('monitoring', `uptime probe: ${result.detail}`);
  if (result.status !== 'passed') state.issues.push(`${event.title}: ${result.detail}`);
}
