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

/** One check at `nowMs`: evaluated (`reason` undefined) or blind (why). */
export function observeCheck(previous: Sight, check: { nowMs: number; reason: string | undefined }, policy: SightPolicy): { sight: Sight; actions: SightAction[] } {
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
  const streak = sight.blind;
  streak.reason = reason;
  const blindForMs = nowMs - Date.parse(streak.since);
  if (!streak.paged && blindForMs >= policy.blindAfterMs) {
    streak.paged = true;
    actions.push({ kind: 'blind-page', blindForMs, reason, since: streak.since });
  }
  if (!streak.escalated && blindForMs >= policy.rollbackAfterMs) {
    streak.escalated = true;
    sight.escalated = true;
    actions.push({ kind: 'on-blind', blindForMs, reason, since: streak.since });
  }
  return { sight, actions };
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
