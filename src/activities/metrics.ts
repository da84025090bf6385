/**
 * Metrics from the Prometheus HTTP API (/api/v1/query) over undici: a baseline snapshot before the
 * rollout, the comparison after it with the spec's tolerances, and the watch window's alert rules.
 * A value Prometheus cannot give is an explicit outcome (no-data, unreachable, error), never a pass.
 */
import { request, type Dispatcher } from 'undici';
import type { ResolvedMetricCheck } from '../spec/types';
import { formatComparison } from '../format';
import { breaches } from '../model';
import type { MetricOutcome, MetricsComparison, MetricsComparisonRow, MetricsSnapshot, MetricValue } from '../model';

export { breaches };
import type { MetricsPort, RuleEvaluation } from './types';

export interface PrometheusMetricsOptions {
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  now?: () => Date;
}

interface QueryAnswer {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  error?: string;
  errorType?: string;
}

export interface QueryResult {
  outcome: MetricOutcome;
  /** One value per series (a scalar is one series). */
  values: number[];
  error?: string;
}

/** Runs one instant query; every failure becomes an outcome with a sentence, never an exception. */
export async function queryPrometheus(prometheusUrl: string, promql: string, options: PrometheusMetricsOptions = {}): Promise<QueryResult> {
  const url = new URL('/api/v1/query', prometheusUrl);
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: promql }).toString(),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs ?? 10_000}ms` : (err as Error).message;
    return { outcome: 'unreachable', values: [], error: `Prometheus at ${prometheusUrl} is unreachable: ${reason}` };
  }
  let answer: QueryAnswer;
  try {
    answer = JSON.parse(text) as QueryAnswer;
  } catch {
    const outcome = status >= 500 || status === 404 ? 'unreachable' : 'error';
    return { outcome, values: [], error: `Prometheus answered HTTP ${status} without JSON (is ${prometheusUrl} a Prometheus?)` };
  }
  if (answer.status !== 'success' || !answer.data) {
    return { outcome: 'error', values: [], error: `query failed (${answer.errorType ?? `HTTP ${status}`}): ${answer.error ?? 'no detail'}` };
  }
  const { resultType, result } = answer.data;
  let raw: string[] = [];
  if (resultType === 'scalar') raw = [(result as [number, string])[1]];
  else if (resultType === 'vector') raw = (result as { value: [number, string] }[]).map((s) => s.value[1]);
  else return { outcome: 'error', values: [], error: `expected an instant vector or scalar, got a ${resultType}` };
  const values = raw.map(Number).filter((v) => !Number.isNaN(v));
  if (values.length === 0) {
    return { outcome: 'no-data', values: [], error: raw.length > 0 ? 'the query returned NaN (no traffic in the window?)' : 'the query returned no series (nothing scraped yet, or the metric does not exist)' };
  }
  return { outcome: 'ok', values };
}

async function checkValue(prometheusUrl: string, check: ResolvedMetricCheck, options: PrometheusMetricsOptions): Promise<MetricValue> {
  const result = await queryPrometheus(prometheusUrl, check.query, options);
  if (result.outcome !== 'ok') return { name: check.name, value: null, outcome: result.outcome, ...(result.error ? { error: result.error } : {}) };
  if (result.values.length > 1) {
    return { name: check.name, value: null, outcome: 'error', error: `the query returned ${result.values.length} series; aggregate it to one (sum, avg, max)` };
  }
  return { name: check.name, value: result.values[0]!, outcome: 'ok' };
}

const fmtLimit = (n: number): string => String(Number(n.toPrecision(6)));

/** Compares one check's baseline and current value against the check's tolerances. */
export function compareRow(check: ResolvedMetricCheck, before: MetricValue | undefined, after: MetricValue): MetricsComparisonRow {
  const b = before?.outcome === 'ok' ? before.value : null;
  const a = after.outcome === 'ok' ? after.value : null;
  const missingText = (v: MetricValue | undefined): string => (v === undefined ? 'no baseline' : v.outcome === 'ok' ? '' : v.outcome === 'no-data' ? 'no data' : v.outcome);
  const text = formatComparison(check.name, check.unit, { before: b, after: a }, { before: missingText(before), after: missingText(after) });
  const base = { name: check.name, unit: check.unit, before: b, after: a, delta: a !== null && b !== null ? a - b : null, text };
  if (a === null) {
    return { ...base, ok: false, outcome: after.outcome, reason: `after: ${after.error ?? after.outcome}` };
  }
  const reasons: string[] = [];
  if (check.max !== undefined && a > check.max) reasons.push(`${fmtLimit(a)} is above the maximum ${fmtLimit(check.max)}`);
  if (b === null) {
    if (check.maxIncrease !== undefined || check.maxIncreaseRatio !== undefined) {
      return { ...base, ok: false, outcome: before?.outcome ?? 'no-data', reason: `no baseline to compare with: ${before?.error ?? 'not captured'}` };
    }
  } else {
    const delta = a - b;
    if (check.maxIncrease !== undefined && delta > check.maxIncrease) reasons.push(`increase ${fmtLimit(delta)} exceeds the allowed ${fmtLimit(check.maxIncrease)}`);
    // Relative tolerance is meaningless on a zero baseline; the absolute limits cover that case.
    // A relative increase below the absolute floor is noise (2ms → 3ms is +50%), not a regression.
    const aboveFloor = check.minIncrease === undefined || delta >= check.minIncrease;
    if (check.maxIncreaseRatio !== undefined && b > 0 && delta / b > check.maxIncreaseRatio && aboveFloor) {
      reasons.push(`increase of ${Math.round((delta / b) * 100)}% exceeds the allowed ${Math.round(check.maxIncreaseRatio * 100)}%`);
    }
  }
  return { ...base, ok: reasons.length === 0, outcome: 'ok', ...(reasons.length ? { reason: reasons.join('; ') } : {}) };
}


export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): MetricsPort {
  const now = options.now ?? (() => new Date());
  const snapshot = async (input: { prometheusUrl: string; checks: ResolvedMetricCheck[] }): Promise<MetricsSnapshot> => {
    const takenAt = now().toISOString();
    const values = await Promise.all(input.checks.map((c) => checkValue(input.prometheusUrl, c, options)));
    return { takenAt, values };
  };
  return {
    snapshot,
    async compare(input): Promise<MetricsComparison> {
      const after = await snapshot(input);
      const rows = input.checks.map((check, i) => compareRow(check, input.baseline.values.find((v) => v.name === check.name), after.values[i]!));
      return { ok: rows.every((r) => r.ok), rows, after };
    },
    async evaluateRules(input): Promise<RuleEvaluation[]> {
      return Promise.all(
        input.rules.map(async (rule): Promise<RuleEvaluation> => {
          const result = await queryPrometheus(input.prometheusUrl, rule.expr, options);
          if (result.outcome !== 'ok') return { rule: rule.name, value: null, breaching: false, outcome: result.outcome, ...(result.error ? { error: result.error } : {}) };
          // Prometheus fires an alert per series; the worst series decides whether the rule breaches.
          const worst = rule.op === '<' || rule.op === '<=' ? Math.min(...result.values) : Math.max(...result.values);
          return { rule: rule.name, value: worst, breaching: breaches(worst, rule.op, rule.threshold), outcome: 'ok' };
        }),
      );
    },
  };
}
