/**
 * `shipwatch validate --online`: runs every expression of a resolved spec (the alert rules the watch
 * evaluates and the metric checks compared against the baseline) once against the spec's
 * Prometheus, and says per expression how many series it returns, that it returns none, or the
 * error. The offline check (src/spec/promql.ts) proves the syntax; this proves the metrics exist.
 */
import { queryPrometheus } from '../activities/metrics';
import type { PrometheusMetricsOptions } from '../activities/metrics';
import type { DeploySpec } from './types';

export type OnlineStatus = 'series' | 'no-series' | 'error' | 'unreachable';

export interface OnlineResult {
  kind: 'rule' | 'check';
  name: string;
  expr: string;
  status: OnlineStatus;
  /** Series returned (a scalar counts as one); 0 unless status is "series". */
  series: number;
  /** "3 series", "returns no series", or the error. */
  message: string;
}

export interface OnlineReport {
  /** False when nothing could be asked: the spec names no Prometheus. */
  ran: boolean;
  prometheusUrl?: string;
  results: OnlineResult[];
  /** True only when every expression ran and returned at least one series (a check exactly one). */
  ok: boolean;
  summary: string;
}

async function runOne(prometheusUrl: string, item: Pick<OnlineResult, 'kind' | 'name' | 'expr'>, options: PrometheusMetricsOptions): Promise<OnlineResult> {
  const answer = await queryPrometheus(prometheusUrl, item.expr, options);
  if (answer.outcome === 'ok') {
    const series = answer.values.length;
    if (item.kind === 'check' && series > 1) {
      return { ...item, status: 'error', series, message: `${series} series; a metric check needs exactly one (aggregate it with sum, avg or max)` };
    }
    return { ...item, status: 'series', series, message: `${series} series` };
  }
  if (answer.outcome === 'no-data') return { ...item, status: 'no-series', series: 0, message: `returns no series (${answer.error ?? 'empty result'})` };
  return { ...item, status: answer.outcome === 'unreachable' ? 'unreachable' : 'error', series: 0, message: answer.error ?? answer.outcome };
}

/** Runs every rule and check once, in order; never throws for a query problem (each is a result). */
export async function checkOnline(spec: DeploySpec, options: PrometheusMetricsOptions = {}): Promise<OnlineReport> {
  if (!spec.metrics) {
    return { ran: false, results: [], ok: false, summary: 'not run: the spec has no metrics.prometheusUrl, so there is no Prometheus to ask (nothing is watched either)' };
  }
  const { prometheusUrl } = spec.metrics;
  const items = [
    ...spec.watch.rules.map((r) => ({ kind: 'rule' as const, name: r.name, expr: r.expr })),
    ...spec.metrics.checks.map((c) => ({ kind: 'check' as const, name: c.name, expr: c.query })),
  ];
  const results: OnlineResult[] = [];
  for (const item of items) {
    const result = await runOne(prometheusUrl, item, options);
    results.push(result);
    // One unreachable answer is enough: the rest would say the same after their own timeouts.
    if (result.status === 'unreachable') {
      const rest = items.slice(results.length).map((i) => ({ ...i, status: 'unreachable' as const, series: 0, message: 'not run: Prometheus is unreachable' }));
      results.push(...rest);
      break;
    }
  }
  const count = (s: OnlineStatus): number => results.filter((r) => r.status === s).length;
  const ok = results.length > 0 && count('series') === results.length;
  const summary = ok
    ? `all ${results.length} expressions return series from ${prometheusUrl}`
    : `${count('series')} of ${results.length} expressions return series from ${prometheusUrl}; ${count('no-series')} return none, ${count('error')} failed, ${count('unreachable')} not run (unreachable)`;
  return { ran: true, prometheusUrl, results, ok, summary };
}

/** One line per expression, for the terminal: "✓ rule HighErrorRate: 1 series". */
export function formatOnline(report: OnlineReport): string[] {
  const mark: Record<OnlineStatus, string> = { series: '✓', 'no-series': '✗', error: '✗', unreachable: '✗' };
  return [
    ...report.results.map((r) => `  ${mark[r.status]} ${r.kind} ${r.name}: ${r.message}`),
    `  online: ${report.summary}`,
  ];
}
