/** Step 6: the metrics against the baseline captured before the deployment; a regression rolls back. */
import { patched } from '@temporalio/workflow';
import { QUICK_CALL } from '../../activities/options';
import type { DeploymentContext } from './context';
import { RollbackNeeded, rollbackOnFailure } from './failures';
import { STRICT_PRECHECK_PATCH } from './precheck';

export async function metrics(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  if (!spec.metrics || !state.baseline) return;
  ctx.enter('METRICS');
  const checks = comparedChecks(ctx);
  if (checks.length === 0) {
    ctx.record('warning', 'Metrics not compared', 'no check has a baseline (metrics.missingBaseline: skip)', 'metrics');
    return;
  }
  const comparison = await ctx
    .runActivity('compareMetrics', { prometheusUrl: spec.metrics.prometheusUrl, checks, baseline: state.baseline }, { options: QUICK_CALL, summary: 'Compare metrics with the baseline' })
    .catch(rollbackOnFailure('metrics-regression', 'comparing metrics failed'));
  state.comparison = comparison;
  const bad = comparison.rows.filter((r) => !r.ok);
  const shown = comparison.ok ? comparison.rows : bad;
  ctx.record(comparison.ok ? 'ok' : 'failed', comparison.ok ? 'No performance degradation detected' : 'Metrics regression', shown.map((r) => r.text + (r.reason ? ` (${r.reason})` : '')).join('; '), 'metrics');
  if (!comparison.ok) throw new RollbackNeeded('metrics-regression', `metrics regressed against the baseline: ${bad.map((r) => r.name).join(', ')}`);
}

/**
 * The checks to compare: all of them, except (`metrics.missingBaseline: skip`, strict precheck)
 * those whose baseline had no data, which the pre-deploy check already said are skipped.
 */
function comparedChecks(ctx: DeploymentContext) {
  const { metrics } = ctx.spec;
  const baseline = ctx.state.baseline!;
  if (metrics!.missingBaseline !== 'skip' || !patched(STRICT_PRECHECK_PATCH)) return metrics!.checks;
  return metrics!.checks.filter((c) => baseline.values.find((v) => v.name === c.name)?.outcome === 'ok');
}
