/** Step 6: the metrics against the baseline captured before the deployment; a regression rolls back. */
import { QUICK_CALL } from '../../activities/options';
import type { DeploymentContext } from './context';
import { RollbackNeeded, rollbackOnFailure } from './failures';

export async function metrics(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  if (!spec.metrics || !state.baseline) return;
  ctx.enter('METRICS');
  const comparison = await ctx
    .runActivity('compareMetrics', { prometheusUrl: spec.metrics.prometheusUrl, checks: spec.metrics.checks, baseline: state.baseline }, { options: QUICK_CALL, summary: 'Compare metrics with the baseline' })
    .catch(rollbackOnFailure('metrics-regression', 'comparing metrics failed'));
  state.comparison = comparison;
  const bad = comparison.rows.filter((r) => !r.ok);
  const shown = comparison.ok ? comparison.rows : bad;
  ctx.record(comparison.ok ? 'ok' : 'failed', comparison.ok ? 'No performance degradation detected' : 'Metrics regression', shown.map((r) => r.text + (r.reason ? ` (${r.reason})` : '')).join('; '), 'metrics');
  if (!comparison.ok) throw new RollbackNeeded('metrics-regression', `metrics regressed against the baseline: ${bad.map((r) => r.name).join(', ')}`);
}
