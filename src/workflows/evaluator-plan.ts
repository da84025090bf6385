/**
 * The watch evaluator's bookkeeping, pure: which windows it watches (their rule sets stored once
 * however many windows share them), the distinct queries one evaluation runs (one per rule
 * expression and direction, across all windows), each window's evaluations built from those
 * results, and which windows get a report (their alert state changed, or their heartbeat is due).
 * The evaluator workflow (./evaluator.ts) runs it; the alert semantics stay in ./alert-evaluator.ts,
 * applied by each deployment workflow to what it is sent.
 */
import type { RuleEvaluation } from '../activities/types';
import { breaches } from '../model';
import type { AlertQuery } from '../spec/types';
import { EVALUATOR_SHARDS, HEARTBEAT_MS, fnv1a, mixedHash, shardOfEvaluator } from './evaluator-messages';
import type { WatchRegistration, WatchReport } from './evaluator-messages';

export interface WindowEntry {
  /** The registering deployment's first run ID. */
  window: string;
  /** Key of its rules in `ruleSets`. */
  set: string;
  /** The signature of the last report sent ('' before the first). */
  sig: string;
  /** Evaluations since it registered. */
  checks: number;
  /** Its heartbeat slot (slots are spread so heartbeats do not all go out at once). */
  phase: number;
}

export interface EvaluatorState {
  prometheusUrl: string;
  intervalMs: number;
  /** Evaluation k is scheduled at originMs + k × intervalMs: a fixed grid, no drift. */
  originMs: number;
  /** The last slot evaluated (0: none yet). */
  k: number;
  /** Rule sets by key, each rule cut to what evaluating it needs (a window's `for`, severity and texts stay with the window). */
  ruleSets: Record<string, AlertQuery[]>;
  windows: Record<string, WindowEntry>;
  evaluations: number;
  signalsSent: number;
  runs: number;
  lateness: number[];
  /** Where in the interval this evaluator's slots fall (patch evaluator-phases; absent: on the interval's multiples). */
  phaseMs?: number;
}

/**
 * A new evaluator's state. `onGrid`: its slots fall on multiples of the interval since the epoch,
 * so every shard of one Prometheus evaluates at the same instants (their queries then share one
 * answer); before shards, slots counted from the evaluator's start.
 */
export function newEvaluatorState(args: { prometheusUrl: string; intervalMs: number; nowMs: number; onGrid?: boolean }): EvaluatorState {
  const originMs = args.onGrid ? Math.floor(args.nowMs / args.intervalMs) * args.intervalMs : args.nowMs;
  return { prometheusUrl: args.prometheusUrl, intervalMs: args.intervalMs, originMs, k: 0, ruleSets: {}, windows: {}, evaluations: 0, signalsSent: 0, runs: 1, lateness: [] };
}

/**
 * The phases of the interval the shards of one Prometheus evaluate in (patch evaluator-phases):
 * shard s at (s mod phases) phases of the interval after its multiples. The metrics adapter asks
 * once per rule shape for the shards of one instant, selecting their services
 * (src/activities/metrics.ts, gathering), so each phase's queries read its share of the fleet and
 * Prometheus's work, and the evaluators' after it, come in parts over the interval, not all at its
 * start. Queries per interval: rule shapes × phases. Six since patch evaluator-six-phases (24 for
 * the seed's four rules, 0.8/s at 30 s): a phase's burst of CPU on the box a sixth of the fleet's;
 * evaluators whose run began before it keep four until they continue as new (16, 0.53/s).
 */
export const EVALUATION_PHASES = 6;
/** The phases of patch evaluator-phases before patch evaluator-six-phases: quarters of the interval. */
export const FOUR_PHASES = 4;

/** Where in the interval an evaluator's slots fall: its shard's phase of `phases` (the evaluator from before shards: phase 0). */
export function phaseOffsetMs(evaluatorId: string, intervalMs: number, phases = EVALUATION_PHASES): number {
  const shard = shardOfEvaluator(evaluatorId) ?? 0;
  return Math.floor(((shard % phases) * intervalMs) / phases);
}

/**
 * Moves an evaluator on the grid to its phase (patch evaluator-phases): its slots then fall
 * `phaseMs` after the interval's multiples. A new evaluator's first slot stays within an interval
 * of its start; a running one's next slot comes between its last one and the one after it, so no
 * slot is evaluated twice and none is skipped for more than the shift.
 */
export function enterPhase(state: EvaluatorState, phaseMs: number, nowMs: number): void {
  const shift = phaseMs - (state.phaseMs ?? 0);
  state.phaseMs = phaseMs;
  if (shift === 0) return;
  if (state.k === 0) {
    // Nothing evaluated yet: the grid instant at or before now, in the phase.
    state.originMs = Math.floor((nowMs - phaseMs) / state.intervalMs) * state.intervalMs + phaseMs;
    return;
  }
  // Slot k (done) was at originMs + k × interval; in the phase's numbering the next is k again, `shift` later (shift is less than an interval).
  state.originMs += shift;
  state.k -= shift > 0 ? 1 : 0;
}

/** The state a previous run carried, counted as the next run. */
export function resumeEvaluator(carried: unknown): EvaluatorState {
  const state = carried as EvaluatorState;
  return { ...state, runs: state.runs + 1 };
}

/** A rule cut down to what evaluating it needs: what the evaluator keeps and sends per rule (a third of a whole rule's size). */
function alertQuery(rule: AlertQuery): AlertQuery {
  return { name: rule.name, expr: rule.expr, op: rule.op, threshold: rule.threshold };
}

/** FNV-1a of a string, as 8 hex digits (a rule set's key; collisions are checked). */
function fnv(text: string): string {
  return fnv1a(text).toString(16).padStart(8, '0');
}

function ruleSetKey(state: EvaluatorState, rules: AlertQuery[]): string {
  const json = JSON.stringify(rules);
  const base = fnv(json);
  for (let n = 0; ; n++) {
    const key = n === 0 ? base : `${base}-${n}`;
    const known = state.ruleSets[key];
    if (!known || JSON.stringify(known) === json) return key;
  }
}

/** Heartbeat slots: a window is sent its report at least every this many evaluations. */
export function heartbeatSlots(intervalMs: number): number {
  return Math.max(1, Math.floor(HEARTBEAT_MS / intervalMs));
}

/**
 * A window's heartbeat slot. `spread` (patch `evaluator-heartbeat-spread`): by a hash of its
 * workflow ID, so heartbeats fall evenly on the slots however the windows registered (10,000
 * windows registering within a few minutes — a bench, or every window of an evaluator that
 * restarted — had theirs in those few slots, every 40 min); before, the slot after it registered.
 */
export function heartbeatPhase(state: EvaluatorState, workflowId: string, spread: boolean): number {
  const slots = heartbeatSlots(state.intervalMs);
  return spread ? mixedHash(`heartbeat ${workflowId}`) % slots : (state.k + 1) % slots;
}

/**
 * A window's heartbeat slot, evenly (patch `evaluator-heartbeat-even`): one of the slots the fewest
 * of this evaluator's other windows have, and of those the one farthest from any slot with more, so
 * every slot holds ⌊n / slots⌋ or ⌈n / slots⌉ of its n windows and the fuller ones are spread round
 * the cycle (the first window, and ties, from the hash of its ID). By the hash alone, 1,000 windows
 * had 4 to 22 heartbeats in a slot of 80 (mean 12.5; docs/benchmarks.md, Session 18).
 */
export function evenHeartbeatPhase(state: EvaluatorState, workflowId: string): number {
  const slots = heartbeatSlots(state.intervalMs);
  const counts = new Array<number>(slots).fill(0);
  for (const [id, entry] of Object.entries(state.windows)) if (id !== workflowId) counts[entry.phase % slots]! += 1;
  const least = Math.min(...counts);
  const fuller = counts.flatMap((n, slot) => (n > least ? [slot] : []));
  // Round the cycle to the nearest fuller slot (`slots` where none is fuller).
  const distance = (slot: number) => Math.min(slots, ...fuller.map((f) => Math.min(Math.abs(f - slot), slots - Math.abs(f - slot))));
  const start = mixedHash(`heartbeat ${workflowId}`) % slots;
  let best = -1;
  for (let j = 0; j < slots; j++) {
    const slot = (start + j) % slots;
    if (counts[slot] === least && (best < 0 || distance(slot) > distance(best))) best = slot;
  }
  return best;
}

/**
 * When, after its slot, an evaluator sends the slot's heartbeats (patch `evaluator-heartbeat-spread`;
 * changes go at once): each shard at its own offset, the shards evenly between a tenth and nine
 * tenths of the interval, so the windows' workflow tasks for them come a few at a time, not all
 * in the second after the slot; the evaluator from before shards at half the interval.
 */
export function heartbeatOffsetMs(evaluatorId: string, intervalMs: number): number {
  const shard = shardOfEvaluator(evaluatorId);
  const share = shard === undefined ? 0.5 : 0.1 + (0.8 * shard) / EVALUATOR_SHARDS;
  return Math.round(share * intervalMs);
}

/**
 * A window registers (again): its next evaluation is reported whatever it says. `even` (patch
 * `evaluator-heartbeat-even`): a new window's heartbeat slot by evenHeartbeatPhase, and a window
 * registering again keeps the one it has.
 */
export function register(state: EvaluatorState, reg: WatchRegistration, how: { spread?: boolean; even?: boolean } = {}): void {
  const rules = reg.rules.map(alertQuery);
  const set = ruleSetKey(state, rules);
  state.ruleSets[set] ??= rules;
  const before = state.windows[reg.workflowId];
  const phase = how.even ? (before?.phase ?? evenHeartbeatPhase(state, reg.workflowId)) : heartbeatPhase(state, reg.workflowId, how.spread ?? false);
  state.windows[reg.workflowId] = { window: reg.window, set, sig: '', checks: before?.window === reg.window ? before.checks : 0, phase };
  if (before && before.set !== set) dropUnusedSet(state, before.set);
}

export function unregister(state: EvaluatorState, workflowId: string): void {
  const before = state.windows[workflowId];
  if (!before) return;
  delete state.windows[workflowId];
  dropUnusedSet(state, before.set);
}

function dropUnusedSet(state: EvaluatorState, set: string): void {
  if (!Object.values(state.windows).some((w) => w.set === set)) delete state.ruleSets[set];
}

export function windowCount(state: EvaluatorState): number {
  return Object.keys(state.windows).length;
}

/** Rules with the same expression and direction give the same value (the worst series in that direction). */
function queryKey(rule: AlertQuery): string {
  return `${rule.op === '<' || rule.op === '<=' ? 'min' : 'max'} ${rule.expr}`;
}

/** One rule per distinct query, across every window's rules: what one evaluation runs. */
export function distinctQueries(state: EvaluatorState): AlertQuery[] {
  const seen = new Map<string, AlertQuery>();
  for (const rules of Object.values(state.ruleSets)) for (const r of rules) if (!seen.has(queryKey(r))) seen.set(queryKey(r), r);
  return [...seen.values()];
}


/** The answers by query key (`queries[i]` answered by `answers[i]`): built once per evaluation, read by every window. */
export function answersByKey(queries: AlertQuery[], answers: RuleEvaluation[]): Map<string, RuleEvaluation> {
  const byKey = new Map<string, RuleEvaluation>();
  queries.forEach((q, i) => {
    const a = answers[i];
    if (a) byKey.set(queryKey(q), a);
  });
  return byKey;
}

/** One window's evaluations from the evaluation's answers by query key (answersByKey). */
export function windowEvaluations(rules: AlertQuery[], byKey: Map<string, RuleEvaluation>): RuleEvaluation[] {
  return rules.map((r): RuleEvaluation => {
    const a = byKey.get(queryKey(r));
    if (!a) return { rule: r.name, value: null, breaching: false, outcome: 'error', error: 'the evaluation returned no answer for this rule' };
    if (a.outcome !== 'ok' || a.value === null) return { rule: r.name, value: null, breaching: false, outcome: a.outcome === 'ok' ? 'no-data' : a.outcome, ...(a.error ? { error: a.error } : {}) };
    return { rule: r.name, value: a.value, breaching: breaches(a.value, r.op, r.threshold), outcome: 'ok' };
  });
}

/**
 * What a window's alert state is, in a few characters: per rule `B` breaching, `o` fine, or the
 * first letter of why there is no value; `X` when nothing could be evaluated. Values are not in
 * it: a value that moves without crossing its threshold is not a change.
 */
export function signature(result: RuleEvaluation[] | { error: string }): string {
  if (!Array.isArray(result)) return 'X';
  return result.map((e) => (e.outcome === 'ok' ? (e.breaching ? 'B' : 'o') : e.outcome.charAt(0))).join('');
}

/**
 * Slot `slot` was evaluated (`answers` to `queries`, or an error): counts a check for every
 * window and returns the reports to send — windows whose signature changed, and those whose
 * heartbeat is due. `askedOnly` (patch evaluator-evaluation-waits, where the queries were fixed
 * when the evaluation was scheduled, an interval before its answers): a window with a rule whose
 * query was not asked (it registered, or changed its rules, meanwhile) is left for the next slot —
 * no check counted, no report — instead of being told its rules had no answer.
 */
export function reportsFor(state: EvaluatorState, evaluation: { slot: number; queries: AlertQuery[]; answers: RuleEvaluation[] | { error: string }; evaluator: string; askedOnly?: boolean }): { workflowId: string; report: WatchReport; heartbeatOnly: boolean }[] {
  const { slot, queries, answers } = evaluation;
  const asked = evaluation.askedOnly ? new Set(queries.map(queryKey)) : undefined;
  /** Whether each rule set's queries were all asked, by set key (once per set, not per window). */
  const setAsked = new Map<string, boolean>();
  const wasAsked = (set: string): boolean => {
    if (!asked) return true;
    let yes = setAsked.get(set);
    if (yes === undefined) setAsked.set(set, (yes = (state.ruleSets[set] ?? []).every((r) => asked.has(queryKey(r)))));
    return yes;
  };
  const at = new Date(state.originMs + slot * state.intervalMs).toISOString();
  const slots = heartbeatSlots(state.intervalMs);
  const out: { workflowId: string; report: WatchReport; heartbeatOnly: boolean }[] = [];
  // Once per evaluation, not once per window (1,000 windows × 4,000 answers made an evaluator task outlast the SDK's 5 s limit).
  const answered = Array.isArray(answers) ? answersByKey(queries, answers) : answers;
  for (const [workflowId, entry] of Object.entries(state.windows)) {
    if (!wasAsked(entry.set)) continue;
    entry.checks++;
    const rules = state.ruleSets[entry.set] ?? [];
    const result = answered instanceof Map ? windowEvaluations(rules, answered) : answered;
    const sig = signature(result);
    const heartbeat = (slot - entry.phase) % slots === 0;
    if (sig === entry.sig && !heartbeat) continue;
    const heartbeatOnly = sig === entry.sig;
    entry.sig = sig;
    out.push({ workflowId, report: { window: entry.window, at, checks: entry.checks, result, evaluator: evaluation.evaluator }, heartbeatOnly });
  }
  return out;
}

/** The slot to evaluate next: the one after the last, or, if whole slots were missed (a stopped worker), the latest one due. */
export function nextSlot(state: EvaluatorState, nowMs: number): number {
  const due = Math.floor((nowMs - state.originMs) / state.intervalMs);
  return Math.max(state.k + 1, due);
}
