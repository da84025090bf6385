/**
 * Metrics from the Prometheus HTTP API (/api/v1/query) over undici: a baseline snapshot before the
 * rollout, the comparison after it with the spec's tolerances, and the watch window's alert rules.
 * A value Prometheus cannot give is an explicit outcome (no-data, unreachable, error), never a pass.
 */
import { request, type Dispatcher } from 'undici';
import type { AlertQuery, ResolvedMetricCheck } from '../spec/types';
import { formatComparison } from '../format';
import { breaches } from '../model';
import { setMostRecent } from './recent';
import type { MetricOutcome, MetricsComparison, MetricsComparisonRow, MetricsSnapshot, MetricValue } from '../model';

export { breaches };
import type { MetricsPort, RuleEvaluation } from './types';
import { distribute, planQueries, planQueriesInSlices } from './promql-batch';
import type { QueryPlan, Widen } from './promql-batch';

export interface PrometheusMetricsOptions {
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  /** The adapter's clock: a snapshot's `takenAt`, and how long a shared answer is kept. */
  now?: () => Date;
  /** Pins the instant queries are evaluated at (Prometheus's `time`); by default Prometheus's own now. Tests compare two ways of asking at one instant. */
  evaluationTime?: () => Date;
  /**
   * How long an answer for a pinned instant is shared with later asks of the same query and instant
   * (default 15 s: the shards of one Prometheus ask within their lateness, under 2 s at 10,000
   * windows; a later ask sends the query again). An answer holds every series of the fleet: two
   * minutes of them were about 30 MB of a 10,000-window worker's heap (docs/benchmarks.md, Session 8).
   */
  shareAnswersMs?: number;
  /**
   * How long after the first ask for a pinned instant the asks for it are gathered into one
   * evaluation (default 25 ms, GATHER_MS): the watch evaluators of one phase wake together at their
   * slot, and their rules are asked as one query per shape that selects their services, by the
   * union of the services' values (promql-batch.ts, `members`), so the fleet's phases each read
   * their share of it. 0: each ask is planned alone, every selector widened to the whole fleet,
   * and answers shared for shareAnswersMs (the adapter before phases).
   */
  gatherMs?: number;
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

/** One answer's series, as numbers (NaN kept: what it means is decided by the caller). */
export interface SeriesResult {
  outcome: MetricOutcome;
  series: { labels: Record<string, string>; value: number }[];
  error?: string;
}

/** Runs one instant query and keeps every series with its labels; every failure becomes an outcome with a sentence, never an exception. */
export async function querySeries(prometheusUrl: string, promql: string, options: PrometheusMetricsOptions = {}): Promise<SeriesResult> {
  const url = new URL('/api/v1/query', prometheusUrl);
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: promql, ...(options.evaluationTime ? { time: String(options.evaluationTime().getTime() / 1000) } : {}) }).toString(),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs ?? 10_000}ms` : (err as Error).message;
    return { outcome: 'unreachable', series: [], error: `Prometheus at ${prometheusUrl} is unreachable: ${reason}` };
  }
  let answer: QueryAnswer;
  try {
    answer = JSON.parse(text) as QueryAnswer;
  } catch {
    const outcome = status >= 500 || status === 404 ? 'unreachable' : 'error';
    return { outcome, series: [], error: `Prometheus answered HTTP ${status} without JSON (is ${prometheusUrl} a Prometheus?)` };
  }
  if (answer.status !== 'success' || !answer.data) {
    return { outcome: 'error', series: [], error: `query failed (${answer.errorType ?? `HTTP ${status}`}): ${answer.error ?? 'no detail'}` };
  }
  const { resultType, result } = answer.data;
  if (resultType === 'scalar') return { outcome: 'ok', series: [{ labels: {}, value: Number((result as [number, string])[1]) }] };
  if (resultType === 'vector') return { outcome: 'ok', series: (result as { metric?: Record<string, string>; value: [number, string] }[]).map((s) => ({ labels: s.metric ?? {}, value: Number(s.value[1]) })) };
  return { outcome: 'error', series: [], error: `expected an instant vector or scalar, got a ${resultType}` };
}

/** An answer's outcome with `values` (the values of the series that are the asker's, by default all of them; NaN dropped), or why there are none. */
function resultOf(answer: SeriesResult, values: number[] = answer.series.map((s) => s.value)): QueryResult {
  if (answer.outcome !== 'ok') return { outcome: answer.outcome, values: [], ...(answer.error ? { error: answer.error } : {}) };
  const numbers = values.filter((v) => !Number.isNaN(v));
  if (numbers.length > 0) return { outcome: 'ok', values: numbers };
  return { outcome: 'no-data', values: [], error: values.length > 0 ? 'the query returned NaN (no traffic in the window?)' : 'the query returned no series (nothing scraped yet, or the metric does not exist)' };
}

/** Runs one instant query; every failure becomes an outcome with a sentence, never an exception. */
export async function queryPrometheus(prometheusUrl: string, promql: string, options: PrometheusMetricsOptions = {}): Promise<QueryResult> {
  return resultOf(await querySeries(prometheusUrl, promql, options));
}

/** A rule's evaluation from its series' values: the worst series decides (Prometheus fires an alert per series). */
function ruleEvaluation(rule: AlertQuery, result: QueryResult): RuleEvaluation {
  if (result.outcome !== 'ok') return { rule: rule.name, value: null, breaching: false, outcome: result.outcome, ...(result.error ? { error: result.error } : {}) };
  const worst = rule.op === '<' || rule.op === '<=' ? Math.min(...result.values) : Math.max(...result.values);
  return { rule: rule.name, value: worst, breaching: breaches(worst, rule.op, rule.threshold), outcome: 'ok' };
}

/** Sends one query (at the instant the caller pinned, if any) and gives its answer. */
type Ask = (promql: string) => Promise<SeriesResult>;

/**
 * Every rule evaluated, in as few queries as keep each answer exact: rules of one shape (several
 * services' copies of a rule) are asked once and their series shared out (./promql-batch.ts); the
 * rest one query each. A batched query Prometheus refuses is asked again rule by rule, so one
 * rule's error stays that rule's.
 */
async function evaluateAll(rules: AlertQuery[], ask: Ask, plan: QueryPlan): Promise<RuleEvaluation[]> {
  const out: RuleEvaluation[] = new Array<RuleEvaluation>(rules.length);
  const one = async (i: number): Promise<void> => {
    out[i] = ruleEvaluation(rules[i]!, resultOf(await ask(rules[i]!.expr)));
  };
  await Promise.all([
    ...plan.alone.map(one),
    ...plan.batches.map(async (batch) => {
      const answer = await ask(batch.query);
      if (answer.outcome === 'error') return void (await Promise.all(batch.members.map(one)));
      const own = answer.outcome === 'ok' ? distribute(batch, answer.series) : [];
      batch.members.forEach((i, m) => {
        out[i] = ruleEvaluation(rules[i]!, resultOf(answer, own[m] ?? []));
      });
    }),
  ]);
  return out;
}

/** Askers whose last plan is kept (PlanCache): the watch evaluators of a worker, with room to spare. */
export const PLANS_KEPT = 128;

/**
 * Each asker's last query plan (by `planKey`, the asking workflow's ID), used again while it asks
 * the same expressions: a watch evaluator's shard asks its every window's rules each slot (1,250
 * expressions at 10,000 windows) and they change only when a window comes or goes
 * (docs/benchmarks.md, Session 12). One plan per asker, so plans of rules no longer asked are
 * not kept; the least recently asking dropped past `max`.
 */
export class PlanCache {
  private readonly plans = new Map<string, { exprs: string[]; widen: Widen; plan: QueryPlan }>();

  constructor(private readonly max: number = PLANS_KEPT) {}

  planFor(planKey: string | undefined, exprs: string[], widen: Widen): QueryPlan {
    if (planKey === undefined) return planQueries(exprs, widen);
    return this.kept(planKey, exprs, widen) ?? this.keep(planKey, { exprs, widen, plan: planQueries(exprs, widen) });
  }

  /** planFor's plan, made in slices with `pause()` between them when it is not kept (planQueriesInSlices). */
  async planInSlices(planKey: string, exprs: string[], widen: Widen, pause: () => Promise<void>): Promise<QueryPlan> {
    return this.kept(planKey, exprs, widen) ?? this.keep(planKey, { exprs, widen, plan: await planQueriesInSlices(exprs, widen, pause) });
  }

  /** The asker's kept plan if it was made for the same expressions and widening (then the most recent); else undefined. */
  private kept(planKey: string, exprs: string[], widen: Widen): QueryPlan | undefined {
    const known = this.plans.get(planKey);
    if (known === undefined || known.widen !== widen || known.exprs.length !== exprs.length || !known.exprs.every((e, i) => e === exprs[i])) return undefined;
    setMostRecent(this.plans, planKey, known, this.max);
    return known.plan;
  }

  private keep(planKey: string, entry: { exprs: string[]; widen: Widen; plan: QueryPlan }): QueryPlan {
    setMostRecent(this.plans, planKey, entry, this.max);
    return entry.plan;
  }

  get size(): number {
    return this.plans.size;
  }
}

/** How long an answer for a pinned instant is shared (PrometheusMetricsOptions.shareAnswersMs). */
export const SHARE_ANSWERS_MS = 15_000;

/**
 * Answers for pinned instants, shared: an ask of a query at an instant that is already being
 * asked, or was answered within `keepMs`, gets that answer instead of sending the query again.
 * The watch evaluators of one Prometheus (each a share of the fleet, on one grid of instants) so
 * send each rule shape's query once per instant. Failed answers are not kept.
 */
class SharedAnswers {
  /** By query and instant, in the order they were stored. */
  private readonly answers = new Map<string, { storedMs: number; answer: Promise<SeriesResult> }>();

  constructor(
    private readonly keepMs: number,
    private readonly nowMs: () => number,
  ) {}

  ask(key: { prometheusUrl: string; promql: string; atMs: number }, send: () => Promise<SeriesResult>): Promise<SeriesResult> {
    this.prune(this.nowMs());
    const id = `${key.prometheusUrl}\u0000${key.atMs}\u0000${key.promql}`;
    const known = this.answers.get(id);
    if (known) return known.answer;
    const answer = send().then((a) => {
      if (a.outcome !== 'ok') this.answers.delete(id);
      return a;
    });
    this.answers.set(id, { storedMs: this.nowMs(), answer });
    return answer;
  }

  private prune(nowMs: number): void {
    for (const [id, entry] of this.answers) {
      if (nowMs - entry.storedMs <= this.keepMs) break;
      this.answers.delete(id);
    }
  }
}

/** Resolves on the event loop's next turn, after the I/O callbacks waiting (a workflow activation, a query) have run. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How long asks for one pinned instant are gathered (PrometheusMetricsOptions.gatherMs). */
export const GATHER_MS = 25;

interface GatheredAsk {
  rules: AlertQuery[];
  planKey: string | undefined;
  resolve: (evaluations: RuleEvaluation[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Asks of one Prometheus for one instant, gathered: every ask that comes within `gatherMs` of the
 * first is evaluated with it, as one list of rules (in the order of the askers' plan keys, so an
 * unchanged set of askers plans the same list again and its plan is kept), and each asker gets its
 * own rules' evaluations back. An ask after the gathering closed starts another.
 */
class InstantGathers {
  private readonly open = new Map<string, GatheredAsk[]>();

  constructor(
    private readonly gatherMs: number,
    private readonly evaluate: (key: { prometheusUrl: string; atMs: number }, rules: AlertQuery[], planKey: string) => Promise<RuleEvaluation[]>,
  ) {}

  join(key: { prometheusUrl: string; atMs: number }, ask: { rules: AlertQuery[]; planKey: string | undefined }): Promise<RuleEvaluation[]> {
    const id = `${key.prometheusUrl}\u0000${key.atMs}`;
    let asks = this.open.get(id);
    if (!asks) {
      this.open.set(id, (asks = []));
      setTimeout(() => this.close(id, key), this.gatherMs);
    }
    const gathered = asks;
    return new Promise((resolve, reject) => gathered.push({ ...ask, resolve, reject }));
  }

  private close(id: string, key: { prometheusUrl: string; atMs: number }): void {
    const asks = this.open.get(id)!;
    this.open.delete(id);
    asks.sort((a, b) => (a.planKey ?? '').localeCompare(b.planKey ?? ''));
    // Not by instant: the same askers at the next slot use this slot's plan.
    const planKey = `gathered\u0000${key.prometheusUrl}\u0000${asks.map((a) => a.planKey ?? '').join('\u0000')}`;
    // Inside a promise: a planning error fails the gathered asks (their activities retry), never the worker's timer.
    Promise.resolve()
      .then(() => this.evaluate(key, asks.flatMap((a) => a.rules), planKey))
      .then(
        (evaluations) => {
          let at = 0;
          for (const a of asks) {
            a.resolve(evaluations.slice(at, at + a.rules.length));
            at += a.rules.length;
          }
        },
        (err: unknown) => asks.forEach((a) => a.reject(err)),
      );
  }
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
  const shared = new SharedAnswers(options.shareAnswersMs ?? SHARE_ANSWERS_MS, () => now().getTime());
  const plans = new PlanCache();
  const planOf = (input: { rules: AlertQuery[]; planKey?: string }, widen: Widen): QueryPlan => plans.planFor(input.planKey, input.rules.map((r) => r.expr), widen);
  const gatherMs = options.gatherMs ?? GATHER_MS;
  const gathers =
    gatherMs > 0
      ? new InstantGathers(gatherMs, async ({ prometheusUrl, atMs }, rules, planKey) => {
          const pinned = { ...options, evaluationTime: () => new Date(atMs) };
          // A phase's plan is its share of the fleet's rules, made anew when a window comes or goes: in slices, so the workflow tasks and queries this thread serves are not held up meanwhile.
          const plan = await plans.planInSlices(planKey, rules.map((r) => r.expr), 'members', nextTurn);
          return evaluateAll(rules, (promql) => querySeries(prometheusUrl, promql, pinned), plan);
        })
      : undefined;
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
      const { prometheusUrl, atMs } = input;
      if (atMs === undefined) return evaluateAll(input.rules, (promql) => querySeries(prometheusUrl, promql, options), planOf(input, 'varying'));
      // An instant several evaluators ask for, gathered: their services' union, asked once per shape.
      if (gathers) return gathers.join({ prometheusUrl, atMs }, { rules: input.rules, planKey: input.planKey });
      const pinned = { ...options, evaluationTime: () => new Date(atMs) };
      // Not gathered: every selector label widened, so a shard with one service asks the same
      // query as one with many, and the answer is shared.
      return evaluateAll(input.rules, (promql) => shared.ask({ prometheusUrl, promql, atMs }, () => querySeries(prometheusUrl, promql, pinned)), planOf(input, 'selectors'));
    },
  };
}
