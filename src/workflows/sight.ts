/**
 * How much of a window was actually watched. Each check either evaluated every alert rule (a value
 * read from Prometheus for each) or was blind (the evaluation failed, or a rule had no value);
 * consecutive blind checks form a streak, timed from its first blind check to the next evaluated
 * one. A streak of `blindAfterMs` pages on-call with why; one of `rollbackAfterMs` applies the
 * spec's `watch.onBlind`; so does a window that ends having been blind `blindAfterMs` or more in
 * all. Pure: plain data in, plain data out (the workflow applies the actions).
 */
import type { RuleEvaluation } from '../activities/types';
import { formatDuration } from '../format';
import type { Sight } from '../model';

export type { Sight };

export interface SightPolicy {
  blindAfterMs: number;
  rollbackAfterMs: number;
  onBlind: 'page' | 'rollback' | 'fail';
}

/** The spec's blind-watch settings; a spec recorded before they existed gets their defaults (pageAfter, page). */
export function sightPolicy(watch: { pageAfterMs: number; rollbackAfterMs: number; blindAfterMs?: number; onBlind?: SightPolicy['onBlind'] }): SightPolicy {
  return { blindAfterMs: watch.blindAfterMs ?? watch.pageAfterMs, rollbackAfterMs: watch.rollbackAfterMs, onBlind: watch.onBlind ?? 'page' };
}

export type SightAction =
  | { kind: 'blind-started'; reason: string }
  /** The streak reached blindAfter: page on-call with why. */
  | { kind: 'blind-page'; blindForMs: number; reason: string; since: string }
  /** The streak reached rollbackAfter: apply watch.onBlind. */
  | { kind: 'on-blind'; blindForMs: number; reason: string; since: string }
  /** The streak reached rollbackAfter while the deployment is paused: `onBlind` (rollback, fail) is held, as the alert auto-rollback is. */
  | { kind: 'on-blind-held'; blindForMs: number; reason: string; since: string }
  | { kind: 'sight-restored'; blindForMs: number; reason: string };

export function initialSight(): Sight {
  return { checks: 0, evaluated: 0, blindMs: 0, reasons: [] };
}

/**
 * Why a check was blind, or undefined when every rule was evaluated: "Prometheus unreachable
 * (connect ECONNREFUSED)", "query error for HighLatency (…)", "no data for HighErrorRate".
 */
export function blindReason(evaluations: RuleEvaluation[] | { error: string }, rules: readonly { name: string }[]): string | undefined {
  if ('error' in evaluations) return `rules could not be evaluated: ${evaluations.error}`;
  const missing = rules
    .map((r) => evaluations.find((e) => e.rule === r.name) ?? { rule: r.name, outcome: 'no-data' as const, error: undefined })
    .filter((e) => e.outcome !== 'ok');
  if (missing.length === 0) return undefined;
  const parts: string[] = [];
  for (const outcome of ['unreachable', 'error', 'no-data'] as const) {
    const those = missing.filter((e) => e.outcome === outcome);
    if (!those.length) continue;
    const names = those.map((e) => e.rule).join(', ');
    const detail = those.find((e) => e.error)?.error;
    const what = outcome === 'unreachable' ? 'Prometheus unreachable' : outcome === 'error' ? 'query error' : 'no data';
    parts.push(`${what} for ${names}${detail ? ` (${detail.slice(0, 160)})` : ''}`);
  }
  return parts.join('; ');
}

/**
 * One check at `nowMs`: evaluated (`reason` undefined) or blind (why). `hold` (the deployment is
 * paused): a streak reaching rollbackAfter does not apply a rollback or fail `onBlind` yet (it is
 * not marked escalated, so the first check after resume applies it); `page` is never held.
 */
export function observeCheck(previous: Sight, check: { nowMs: number; reason: string | undefined; hold?: boolean }, policy: SightPolicy): { sight: Sight; actions: SightAction[] } {
  const sight: Sight = { ...previous, reasons: [...previous.reasons], checks: previous.checks + 1, ...(previous.blind ? { blind: { ...previous.blind } } : {}) };
  const actions: SightAction[] = [];
  const { nowMs, reason } = check;
  if (reason === undefined) {
    sight.evaluated++;
    if (sight.blind) {
      const blindForMs = nowMs - Date.parse(sight.blind.since);
      sight.blindMs += blindForMs;
      actions.push({ kind: 'sight-restored', blindForMs, reason: sight.blind.reason });
      delete sight.blind;
    }
    return { sight, actions };
  }
  if (!sight.blind) {
    sight.blind = { since: new Date(nowMs).toISOString(), reason, paged: false, escalated: false };
    if (!sight.reasons.includes(reason) && sight.reasons.length < 5) sight.reasons.push(reason);
    actions.push({ kind: 'blind-started', reason });
  }
  sight.blind.reason = reason;
  escalateStreak(sight, { nowMs, hold: check.hold ?? false }, policy, actions);
  return { sight, actions };
}

/**
 * No new check, but time passed (`nowMs`): an open streak that has now lasted blindAfter or
 * rollbackAfter pages or applies `onBlind`, exactly as a blind check at `nowMs` would, without
 * counting a check. For windows that are told only of changes (the watch evaluator).
 */
export function sightDue(previous: Sight, at: { nowMs: number; hold?: boolean }, policy: SightPolicy): { sight: Sight; actions: SightAction[] } {
  if (!previous.blind) return { sight: previous, actions: [] };
  const sight: Sight = { ...previous, reasons: [...previous.reasons], blind: { ...previous.blind } };
  const actions: SightAction[] = [];
  escalateStreak(sight, { nowMs: at.nowMs, hold: at.hold ?? false }, policy, actions);
  return { sight, actions };
}

/**
 * When the open streak next calls for an action (page, `onBlind`), after `nowMs` (the last round), or undefined.
 * Paused, a rollback/fail `onBlind` is held: it is due once (to say so), then waits for resume.
 */
export function sightDecisionAt(sight: Sight, policy: SightPolicy, at: { nowMs: number; paused: boolean }): number | undefined {
  const streak = sight.blind;
  if (!streak) return undefined;
  const since = Date.parse(streak.since);
  const due: number[] = [];
  if (!streak.paged) due.push(since + policy.blindAfterMs);
  const held = at.paused && policy.onBlind !== 'page';
  if (!streak.escalated && !(held && at.nowMs >= since + policy.rollbackAfterMs)) due.push(since + policy.rollbackAfterMs);
  const later = due.filter((t) => t > at.nowMs);
  return later.length ? Math.min(...later) : undefined;
}

function escalateStreak(sight: Sight, at: { nowMs: number; hold: boolean }, policy: SightPolicy, actions: SightAction[]): void {
  const streak = sight.blind!;
  const { reason } = streak;
  const blindForMs = at.nowMs - Date.parse(streak.since);
  if (!streak.paged && blindForMs >= policy.blindAfterMs) {
    streak.paged = true;
    actions.push({ kind: 'blind-page', blindForMs, reason, since: streak.since });
  }
  if (streak.escalated || blindForMs < policy.rollbackAfterMs) return;
  if (at.hold && policy.onBlind !== 'page') {
    actions.push({ kind: 'on-blind-held', blindForMs, reason, since: streak.since });
    return;
  }
  streak.escalated = true;
  sight.escalated = true;
  actions.push({ kind: 'on-blind', blindForMs, reason, since: streak.since });
}

/** The window is over at `endMs`: an open streak is closed and counted. */
export function closeSight(previous: Sight, endMs: number): Sight {
  if (!previous.blind) return previous;
  const { blind, ...rest } = previous;
  return { ...rest, blindMs: rest.blindMs + Math.max(0, endMs - Date.parse(blind.since)) };
}

/** Blind time so far, the open streak included. */
export function blindSoFar(sight: Sight, nowMs: number): number {
  return sight.blindMs + (sight.blind ? Math.max(0, nowMs - Date.parse(sight.blind.since)) : 0);
}

/** A closed window was blind long enough that `watch.onBlind` applies (unless it already did during the window). */
export function blindAtEnd(sight: Sight, policy: SightPolicy): boolean {
  return !sight.escalated && sight.blindMs >= policy.blindAfterMs;
}

/**
 * "watched 96% of 24h; blind 58 min: Prometheus unreachable", or "watched all of 2h (240 checks)",
 * or "nothing watched: …". `elapsedMs` is the part of the window that has passed.
 */
export function watchedSentence(sight: Sight, window: { elapsedMs: number; nowMs: number }): string {
  if (sight.unwatched) return `nothing watched: ${sight.unwatched}`;
  const blindMs = Math.min(blindSoFar(sight, window.nowMs), window.elapsedMs);
  const of = formatDuration(window.elapsedMs);
  if (sight.checks === 0) return `no check ran yet (${of})`;
  if (sight.evaluated === 0) return `watched 0% of ${of}: no check evaluated the rules${sight.reasons.length ? ` (${sight.reasons.join('; ')})` : ''}`;
  if (blindMs <= 0) return `watched all of ${of} (${sight.evaluated} checks evaluated)`;
  const share = window.elapsedMs > 0 ? Math.floor(((window.elapsedMs - blindMs) / window.elapsedMs) * 100) : 0;
  return `watched ${share}% of ${of}; blind ${formatDuration(blindMs)}: ${sight.reasons.join('; ')}`;
}
