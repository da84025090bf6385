/** How much of a window was watched (src/workflows/sight.ts): blind streaks, the page, watch.onBlind, the sentence. */
import { blindAtEnd, blindReason, closeSight, initialSight, observeCheck, watchedSentence } from '../../src/workflows/sight';
import type { Sight } from '../../src/workflows/sight';

const MIN = 60_000;
const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const policy = { blindAfterMs: 5 * MIN, rollbackAfterMs: 15 * MIN, onBlind: 'page' as const };
const rules = [{ name: 'HighErrorRate' }, { name: 'HighLatency' }];

/** Checks every 30 s from 0 to `untilMs`; blind while `blind(t)` says why. */
function run(blind: (t: number) => string | undefined, untilMs: number) {
  let sight: Sight = initialSight();
  const actions: string[] = [];
  for (let t = 0; t <= untilMs; t += 30_000) {
    const step = observeCheck(sight, { nowMs: T0 + t, reason: blind(t) }, policy);
    sight = step.sight;
    actions.push(...step.actions.map((a) => `${t / MIN}m ${a.kind}`));
  }
  return { sight: closeSight(sight, T0 + untilMs), actions };
}

test('why a check is blind: an evaluation that failed, unreachable, query errors, no data; undefined when all rules evaluated', () => {
  expect(blindReason({ error: 'connect ECONNREFUSED 127.0.0.1:9090' }, rules)).toBe('rules could not be evaluated: connect ECONNREFUSED 127.0.0.1:9090');
  expect(
    blindReason(
      [
        { rule: 'HighErrorRate', value: null, breaching: false, outcome: 'unreachable', error: 'ECONNREFUSED' },
        { rule: 'HighLatency', value: null, breaching: false, outcome: 'error', error: 'parse error at char 5' },
      ],
      rules,
    ),
  ).toBe('Prometheus unreachable for HighErrorRate (ECONNREFUSED); query error for HighLatency (parse error at char 5)');
  expect(blindReason([{ rule: 'HighErrorRate', value: 0, breaching: false, outcome: 'ok' }], rules)).toBe('no data for HighLatency');
  expect(blindReason([{ rule: 'HighErrorRate', value: 0, breaching: false, outcome: 'ok' }, { rule: 'HighLatency', value: 0.1, breaching: false, outcome: 'ok' }], rules)).toBeUndefined();
});

test('a blind streak pages at blindAfter, applies onBlind at rollbackAfter, once each; sight restored counts the blind time', () => {
  const { sight, actions } = run((t) => (t >= 10 * MIN && t < 30 * MIN ? 'Prometheus unreachable' : undefined), 60 * MIN);
  expect(actions).toEqual(['10m blind-started', '15m blind-page', '25m on-blind', '30m sight-restored']);
  expect(sight.blindMs).toBe(20 * MIN);
  expect(sight.checks).toBe(121);
  expect(sight.evaluated).toBe(81);
  expect(sight.escalated).toBe(true);
  expect(blindAtEnd(sight, policy)).toBe(false); // onBlind already applied during the window
  expect(watchedSentence(sight, { elapsedMs: 60 * MIN, nowMs: T0 + 60 * MIN })).toBe('watched 66% of 1h; blind 20m: Prometheus unreachable');
});

test('short blips never page, but are counted; a window blind blindAfter in all applies onBlind at its end', () => {
  const blips = run((t) => (t % (10 * MIN) === 0 && t > 0 ? 'no data for HighErrorRate' : undefined), 60 * MIN);
  expect(blips.actions.filter((a) => a.endsWith('blind-page') || a.endsWith('on-blind'))).toEqual([]);
  expect(blips.sight.blindMs).toBe(5 * 30_000); // the blip at 60m is cut by the end of the window
  expect(blindAtEnd(blips.sight, policy)).toBe(false);
  const tail = run((t) => (t >= 52 * MIN ? 'Prometheus unreachable' : undefined), 60 * MIN);
  expect(tail.sight.blindMs).toBe(8 * MIN);
  expect(blindAtEnd(tail.sight, policy)).toBe(true);
});

test('the sentence: all watched, never evaluated, nothing to watch', () => {
  const all = run(() => undefined, 2 * 3_600_000);
  expect(watchedSentence(all.sight, { elapsedMs: 2 * 3_600_000, nowMs: T0 })).toBe('watched all of 2h (241 checks evaluated)');
  const never = run(() => 'rules could not be evaluated: timeout', 10 * MIN);
  expect(watchedSentence(never.sight, { elapsedMs: 10 * MIN, nowMs: T0 })).toBe('watched 0% of 10m: no check evaluated the rules (rules could not be evaluated: timeout)');
  expect(watchedSentence({ ...initialSight(), unwatched: 'the spec has no metrics' }, { elapsedMs: MIN, nowMs: T0 })).toBe('nothing watched: the spec has no metrics');
});
