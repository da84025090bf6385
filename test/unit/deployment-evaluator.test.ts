/**
 * The watch evaluator's plain modules: its registry and reports (src/workflows/evaluator-plan.ts),
 * when a window told only of changes must decide anyway (src/workflows/evaluator-schedule.ts,
 * sightDecisionAt/sightDue in src/workflows/sight.ts), and the paused window's held onBlind.
 */
import type { RuleEvaluation } from '../../src/activities/types';
import type { ResolvedAlertRule } from '../../src/spec/types';
import { evaluateAlerts, initialAlertStates } from '../../src/workflows/alert-evaluator';
import { EVALUATOR_SHARDS, HEARTBEAT_MS, allEvaluatorIds, evaluatorShard, evaluatorWorkflowId, windowEvaluatorId } from '../../src/workflows/evaluator-messages';
import { EVALUATION_PHASES, FOUR_PHASES, distinctQueries, enterPhase, evenHeartbeatPhase, heartbeatOffsetMs, heartbeatSlots, newEvaluatorState, nextSlot, phaseOffsetMs, register, reportsFor, signature, unregister, windowCount, windowEvaluations, answersByKey } from '../../src/workflows/evaluator-plan';
import { alertDecisionAt } from '../../src/workflows/evaluator-schedule';
import { initialSight, observeCheck, sightDecisionAt, sightDue } from '../../src/workflows/sight';

const MIN = 60_000;
const T0 = Date.parse('2026-11-30T10:00:00.000Z');

function rule(name: string, over: Partial<ResolvedAlertRule> = {}): ResolvedAlertRule {
  return { name, expr: `${name}_expr`, op: '>', threshold: 0.05, forMs: 2 * MIN, severity: 'critical', summary: name, description: name, unit: 'ratio', ...over };
}
const ok = (r: ResolvedAlertRule, value: number): RuleEvaluation => ({ rule: r.name, value, breaching: false, outcome: 'ok' });

describe('evaluator registry and reports', () => {
  const errors = rule('HighErrorRate');
  const latency = rule('HighLatency', { expr: 'latency_expr', threshold: 0.5 });
  const sameExprOtherThreshold = rule('ErrorsOver10', { expr: 'HighErrorRate_expr', threshold: 0.1 });
  const lowTraffic = rule('LowTraffic', { expr: 'HighErrorRate_expr', op: '<', threshold: 0.001 });

  test('windows sharing rules share one rule set; one query per distinct expression and direction across all windows', () => {
    const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
    for (let i = 0; i < 1000; i++) register(s, { workflowId: `w${i}`, window: `r${i}`, rules: [errors, latency] });
    register(s, { workflowId: 'other', window: 'r', rules: [sameExprOtherThreshold, lowTraffic] });
    expect(windowCount(s)).toBe(1001);
    expect(Object.keys(s.ruleSets)).toHaveLength(2);
    expect(distinctQueries(s).map((q) => `${q.op} ${q.expr}`)).toEqual(['> HighErrorRate_expr', '> latency_expr', '< HighErrorRate_expr']);
    unregister(s, 'other');
    expect(Object.keys(s.ruleSets)).toHaveLength(1);
    expect(distinctQueries(s)).toHaveLength(2);
  });

  test("each window's evaluations are its own rules' thresholds applied to the shared answers; a missing answer is an error, never a pass", () => {
    const queries = [errors, latency];
    const answers: RuleEvaluation[] = [ok(errors, 0.08), { rule: 'HighLatency', value: null, breaching: false, outcome: 'no-data', error: 'no series' }];
    expect(windowEvaluations([errors, sameExprOtherThreshold], answersByKey(queries, answers)).map((e) => [e.rule, e.breaching, e.outcome])).toEqual([
      ['HighErrorRate', true, 'ok'],
      ['ErrorsOver10', false, 'ok'],
    ]);
    expect(windowEvaluations([latency, lowTraffic], answersByKey(queries, answers)).map((e) => e.outcome)).toEqual(['no-data', 'error']);
  });

  test('a window is sent a report when its alert state changes and at its heartbeat, not for a moving value', () => {
    const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
    register(s, { workflowId: 'w', window: 'r', rules: [errors] });
    const sent: number[] = [];
    const slots = heartbeatSlots(30_000);
    expect(slots).toBe(HEARTBEAT_MS / 30_000);
    for (let slot = 1; slot <= 3 * slots; slot++) {
      const value = slot >= 10 && slot < 20 ? 0.2 : 0.01 + slot / 1e6;
      const reports = reportsFor(s, { slot, queries: [errors], answers: [ok(errors, value)], evaluator: 'e' });
      if (reports.length) sent.push(slot);
      for (const r of reports) expect(r.report).toMatchObject({ window: 'r', checks: slot, at: new Date(T0 + slot * 30_000).toISOString() });
    }
    expect(sent).toEqual([1, 10, 20, 1 + slots, 1 + 2 * slots]);
    const failed = reportsFor(s, { slot: 3 * slots + 1, queries: [errors], answers: { error: 'Prometheus down' }, evaluator: 'e' });
    expect(failed.map((r) => r.report.result)).toEqual([{ error: 'Prometheus down' }]);
    expect(signature({ error: 'x' })).toBe('X');
  });

  test('askedOnly (patch evaluator-evaluation-waits): a window whose rules were not all asked — it registered or changed its rules after the evaluation was scheduled — is left for the next slot, no check counted; before, it was told its rule had no answer', () => {
    const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
    register(s, { workflowId: 'early', window: 'r1', rules: [errors] });
    const queries = distinctQueries(s);
    // Registered while the evaluation of `queries` waited for its slot: one rule shared with the early window, one not.
    register(s, { workflowId: 'late', window: 'r2', rules: [sameExprOtherThreshold, latency] });
    const waited = reportsFor(s, { slot: 1, queries, answers: [ok(errors, 0.01)], evaluator: 'e', askedOnly: true });
    expect(waited.map((r) => r.workflowId)).toEqual(['early']);
    expect([s.windows.early!.checks, s.windows.late!.checks]).toEqual([1, 0]);
    // A failed evaluation too: the late window was not part of it.
    const failed = reportsFor(s, { slot: 2, queries, answers: { error: 'Prometheus down' }, evaluator: 'e', askedOnly: true });
    expect(failed.map((r) => r.workflowId)).toEqual(['early']);
    // The next slot asks its rules: it gets its first report.
    const next = reportsFor(s, { slot: 3, queries: distinctQueries(s), answers: [ok(errors, 0.01), ok(latency, 0.1)], evaluator: 'e', askedOnly: true });
    expect(next.find((r) => r.workflowId === 'late')?.report).toMatchObject({ checks: 1, result: [{ rule: 'ErrorsOver10', outcome: 'ok' }, { rule: 'HighLatency', outcome: 'ok' }] });
    // Without askedOnly (the evaluators before the patch), the rule with no answer is an error, never a pass.
    const before = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
    register(before, { workflowId: 'late', window: 'r2', rules: [latency] });
    expect(reportsFor(before, { slot: 1, queries, answers: [ok(errors, 0.01)], evaluator: 'e' })[0]!.report.result).toEqual([expect.objectContaining({ rule: 'HighLatency', outcome: 'error' })]);
  });

  test('a report that only keeps the heartbeat is marked so (the evaluator sends those later); a change is not', () => {
    const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
    register(s, { workflowId: 'w', window: 'r', rules: [errors] });
    const slots = heartbeatSlots(30_000);
    const marks: [number, boolean][] = [];
    for (let slot = 1; slot <= 2 * slots + 1; slot++) {
      const value = slot === 5 ? 0.2 : 0.01;
      for (const r of reportsFor(s, { slot, queries: [errors], answers: [ok(errors, value)], evaluator: 'e' })) marks.push([slot, r.heartbeatOnly]);
    }
    expect(marks).toEqual([
      [1, false],
      [5, false],
      [6, false],
      [1 + slots, true],
      [1 + 2 * slots, true],
    ]);
  });

  test('heartbeat slots by a hash of the window (patch evaluator-heartbeat-spread): 10,000 windows registering in one slot are spread over all of them; before, all in the next', () => {
    const count = (spread: boolean) => {
      const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
      s.k = 7;
      const per = new Array<number>(heartbeatSlots(30_000)).fill(0);
      for (let i = 0; i < 10_000; i++) {
        const workflowId = `deploy-production-svc-${i}/svc-${i}`;
        register(s, { workflowId, window: `r${i}`, rules: [errors] }, { spread });
        per[s.windows[workflowId]!.phase]!++;
      }
      return per;
    };
    const spread = count(true);
    // 125 a slot on average: none has less than half or more than half again.
    expect([Math.min(...spread) > 62, Math.max(...spread) < 188]).toEqual([true, true]);
    // Of one shard's windows too (a shard sends its own): 312 over 80 slots, none with more than 12.
    const shard0 = Array.from({ length: 10_000 }, (_, i) => `deploy-production-svc-${i}/svc-${i}`).filter((id) => evaluatorShard(id) === 0);
    const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
    for (const workflowId of shard0) register(s, { workflowId, window: 'r', rules: [errors] }, { spread: true });
    const perShardSlot = new Array<number>(heartbeatSlots(30_000)).fill(0);
    for (const w of Object.values(s.windows)) perShardSlot[w.phase]!++;
    expect(Math.max(...perShardSlot)).toBeLessThanOrEqual(12);
    const before = count(false);
    expect(before[8]).toBe(10_000);
  });

  test('even heartbeat slots (patch evaluator-heartbeat-even): every slot holds ⌊n/80⌋ or ⌈n/80⌉ of a shard\'s windows, the fuller ones spread round the cycle, so the fleet\'s heartbeats in any 3 slots are within a fifth of the mean (by the hash: half again)', () => {
    const slots = heartbeatSlots(30_000);
    const ids = Array.from({ length: 1_000 }, (_, i) => `deploy-s0-${String(i).padStart(5, '0')}-user-management`);
    const fleet = new Array<number>(slots).fill(0);
    const hashed = new Array<number>(slots).fill(0);
    for (let shard = 0; shard < EVALUATOR_SHARDS; shard++) {
      const even = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
      const byHash = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
      // Each shard numbers its slots from its own start: shift its cycle as a shard started later would be.
      const shift = (shard * 37) % slots;
      const mine = ids.filter((id) => evaluatorShard(id) === shard);
      for (const workflowId of mine) {
        register(even, { workflowId, window: 'r', rules: [errors] }, { spread: true, even: true });
        register(byHash, { workflowId, window: 'r', rules: [errors] }, { spread: true });
      }
      const per = new Array<number>(slots).fill(0);
      for (const w of Object.values(even.windows)) {
        per[w.phase]!++;
        fleet[(w.phase + shift) % slots]!++;
      }
      for (const w of Object.values(byHash.windows)) hashed[(w.phase + shift) % slots]!++;
      expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
      // About 31 windows over 80 slots (one every 2.6): no two of them more than twice that apart round the cycle.
      const used = per.flatMap((n, slot) => (n > 0 ? [slot] : []));
      const gaps = used.map((slot, i) => ((used[(i + 1) % used.length]! - slot + slots) % slots) || slots);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(2 * Math.ceil(slots / mine.length));
    }
    const spans = (per: number[]) => per.map((_, i) => (per[i]! + per[(i + 1) % slots]! + per[(i + 2) % slots]!) / ((3 * ids.length) / slots));
    // The shards' cycles are shifted against each other, so a span holds one or two of each shard's windows.
    expect(Math.max(...spans(fleet))).toBeLessThan(1.2);
    expect(Math.min(...spans(fleet))).toBeGreaterThan(0.8);
    // By the hash alone the same fleet had spans from about 0.7 to 1.5 times the mean.
    expect(Math.max(...spans(hashed))).toBeGreaterThan(1.3);
  });

  test('an even slot: a window registering again keeps its slot; one leaving frees its slot for the next; the first window\'s slot is its hash\'s', () => {
    const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
    const slots = heartbeatSlots(30_000);
    for (let i = 0; i < slots; i++) register(s, { workflowId: `w${i}`, window: 'r', rules: [errors] }, { spread: true, even: true });
    expect(new Set(Object.values(s.windows).map((w) => w.phase)).size).toBe(slots);
    const w7 = s.windows.w7!.phase;
    register(s, { workflowId: 'w7', window: 'r2', rules: [errors] }, { spread: true, even: true });
    expect(s.windows.w7!.phase).toBe(w7);
    unregister(s, 'w7');
    register(s, { workflowId: 'late', window: 'r', rules: [errors] }, { spread: true, even: true });
    expect(s.windows.late!.phase).toBe(w7);
    const empty = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
    const byHash = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
    register(byHash, { workflowId: 'first', window: 'r', rules: [errors] }, { spread: true });
    expect(evenHeartbeatPhase(empty, 'first')).toBe(byHash.windows.first!.phase);
    // The second goes half the cycle away.
    register(empty, { workflowId: 'first', window: 'r', rules: [errors] }, { spread: true, even: true });
    register(empty, { workflowId: 'second', window: 'r', rules: [errors] }, { spread: true, even: true });
    expect((empty.windows.second!.phase - empty.windows.first!.phase + slots) % slots).toBe(slots / 2);
  });

  test("each shard sends a slot's heartbeats at its own offset, the shards evenly between a tenth and nine tenths of the interval", () => {
    const of = { prometheusUrl: 'http://prom:9090', intervalMs: 30_000 };
    const offsets = Array.from({ length: EVALUATOR_SHARDS }, (_, shard) => heartbeatOffsetMs(evaluatorWorkflowId({ ...of, shard }), 30_000));
    expect(offsets[0]).toBe(3_000);
    expect(Math.max(...offsets)).toBeLessThan(27_000);
    offsets.slice(1).forEach((ms, i) => expect(ms - offsets[i]!).toBe(750));
    expect(heartbeatOffsetMs(evaluatorWorkflowId(of), 30_000)).toBe(15_000);
  });

  test('slots stay on the grid: after a late evaluation the next is the next slot, after a stop the latest due one', () => {
    const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 });
    expect(nextSlot(s, T0)).toBe(1);
    s.k = 1;
    expect(nextSlot(s, T0 + 30_000 + 12_000)).toBe(2);
    expect(nextSlot(s, T0 + 10 * MIN + 5_000)).toBe(20);
  });
});

describe('evaluator shards and their grid', () => {
  test('windows are shared out evenly, each always to the same shard; the evaluator from before shards keeps its ID', () => {
    const per = new Array<number>(EVALUATOR_SHARDS).fill(0);
    for (let i = 0; i < 10_000; i++) per[evaluatorShard(`deploy-production-svc-${i}/svc-${i}`)]!++;
    // 312.5 each on average: no shard holds twice its share.
    expect(Math.min(...per)).toBeGreaterThan(200);
    expect(Math.max(...per)).toBeLessThan(450);
    expect(evaluatorShard('deploy-production/user-management')).toBe(evaluatorShard('deploy-production/user-management'));
    const of = { prometheusUrl: 'http://prom:9090', intervalMs: 30_000 };
    expect(evaluatorWorkflowId(of)).toBe('watch-evaluator/30000ms/http://prom:9090');
    expect(windowEvaluatorId({ ...of, workflowId: 'deploy-production/user-management' })).toBe(`watch-evaluator/30000ms/http://prom:9090/shard-${evaluatorShard('deploy-production/user-management')}`);
    expect(new Set(allEvaluatorIds(of)).size).toBe(EVALUATOR_SHARDS + 1);
  });

  test('on the grid, slots are multiples of the interval whenever an evaluator starts; before it, they counted from its start', () => {
    const started = [T0 + 1234, T0 + 17_000, T0 + 29_999];
    const slots = started.map((nowMs) => {
      const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs, onGrid: true });
      return s.originMs + nextSlot(s, nowMs) * s.intervalMs;
    });
    expect(slots).toEqual([T0 + 30_000, T0 + 30_000, T0 + 30_000]);
    const old = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 + 1234 });
    expect(old.originMs + nextSlot(old, T0 + 1234) * old.intervalMs).toBe(T0 + 31_234);
  });

  test('phases: the shards evaluate in six phases of the interval (patch evaluator-six-phases), 5 or 6 in each; in four quarters before it, 8 in each; the evaluator from before shards in the first', () => {
    const of = { prometheusUrl: 'http://prom:9090', intervalMs: 30_000 };
    const shards = Array.from({ length: EVALUATOR_SHARDS }, (_, shard) => evaluatorWorkflowId({ ...of, shard }));
    expect([EVALUATION_PHASES, FOUR_PHASES]).toEqual([6, 4]);
    const six = shards.map((id) => phaseOffsetMs(id, 30_000));
    expect([...new Set(six)].sort((a, b) => a - b)).toEqual([0, 5_000, 10_000, 15_000, 20_000, 25_000]);
    expect([0, 5_000, 10_000, 15_000, 20_000, 25_000].map((offset) => six.filter((o) => o === offset).length)).toEqual([6, 6, 5, 5, 5, 5]);
    const four = shards.map((id) => phaseOffsetMs(id, 30_000, FOUR_PHASES));
    expect([...new Set(four)].sort((a, b) => a - b)).toEqual([0, 7_500, 15_000, 22_500]);
    for (const offset of [0, 7_500, 15_000, 22_500]) expect(four.filter((o) => o === offset)).toHaveLength(EVALUATOR_SHARDS / 4);
    expect([phaseOffsetMs(evaluatorWorkflowId(of), 30_000), phaseOffsetMs(evaluatorWorkflowId(of), 30_000, FOUR_PHASES)]).toEqual([0, 0]);
    // Windows of a fleet are shared out over the phases about evenly (the shard's hash decides both): 6/32 or 5/32 of them each.
    const perPhase = new Array<number>(EVALUATION_PHASES).fill(0);
    for (let i = 0; i < 10_000; i++) perPhase[phaseOffsetMs(windowEvaluatorId({ ...of, workflowId: `deploy-production-svc-${i}/svc-${i}` }), 30_000) / 5_000]!++;
    expect(Math.min(...perPhase)).toBeGreaterThan(1_350);
    expect(Math.max(...perPhase)).toBeLessThan(2_100);
  });

  test('an evaluator in a quarter moving to its sixth when it continues as new (patch evaluator-six-phases): the next slot falls between its last and the one after, in the new phase', () => {
    const of = { prometheusUrl: 'http://prom:9090', intervalMs: 30_000 };
    for (let shard = 0; shard < EVALUATOR_SHARDS; shard++) {
      const id = evaluatorWorkflowId({ ...of, shard });
      const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 + 1_000, onGrid: true });
      enterPhase(s, phaseOffsetMs(id, 30_000, FOUR_PHASES), T0 + 1_000);
      s.k = 10;
      const lastAt = s.originMs + s.k * s.intervalMs;
      const now = lastAt + 2_000;
      enterPhase(s, phaseOffsetMs(id, 30_000), now);
      const next = s.originMs + nextSlot(s, now) * s.intervalMs;
      expect((next - T0) % 30_000).toBe(phaseOffsetMs(id, 30_000));
      expect([next > lastAt, next <= lastAt + 30_000]).toEqual([true, true]);
    }
  });

  test('a new evaluator in its phase: its first slot in the phase, within one interval of its start', () => {
    for (const nowMs of [T0, T0 + 1234, T0 + 7_499, T0 + 7_500, T0 + 29_999]) {
      const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs, onGrid: true });
      enterPhase(s, 7_500, nowMs);
      const first = s.originMs + nextSlot(s, nowMs) * s.intervalMs;
      expect((first - T0) % 30_000).toBe(7_500);
      expect([first > nowMs, first <= nowMs + 30_000]).toEqual([true, true]);
    }
  });

  test('a running evaluator moving to its phase (continue-as-new after the patch): the next slot falls between its last and the one after, in the phase; once in it, nothing moves', () => {
    const s = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 + 1_000, onGrid: true });
    s.k = 10; // slot 10, at T0 + 300 s, evaluated
    const lastAt = s.originMs + s.k * s.intervalMs;
    const now = lastAt + 2_000;
    enterPhase(s, 22_500, now);
    const next = s.originMs + nextSlot(s, now) * s.intervalMs;
    expect(next).toBe(lastAt + 22_500);
    expect(s.phaseMs).toBe(22_500);
    // Carried again with its phase: unchanged.
    const carried = structuredClone(s);
    enterPhase(carried, 22_500, now + 60_000);
    expect(carried).toEqual(s);
    // Phase 0 (the first quarter) is the grid itself: nothing moves, only the phase is recorded.
    const first = newEvaluatorState({ prometheusUrl: 'http://p', intervalMs: 30_000, nowMs: T0 + 1_000, onGrid: true });
    first.k = 10;
    enterPhase(first, 0, now);
    expect({ originMs: first.originMs, k: first.k, phaseMs: first.phaseMs }).toEqual({ originMs: T0, k: 10, phaseMs: 0 });
  });
});

describe('decisions without a new evaluation', () => {
  const policy = { pageAfterMs: 5 * MIN, rollbackAfterMs: 15 * MIN, autoRollback: true };
  const r = rule('HighErrorRate');
  const breaching: RuleEvaluation[] = [{ rule: r.name, value: 0.2, breaching: true, outcome: 'ok' }];

  test('the alert evaluator acts exactly at the instants alertDecisionAt gives (for, page, rollback), not a millisecond before', () => {
    let alerts = evaluateAlerts(initialAlertStates([r]), breaching, { rules: [r], nowMs: T0, policy, holdRollback: false }).alerts;
    let last = T0;
    const kinds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const at = alertDecisionAt(alerts, { rules: [r], policy, paused: false, nowMs: last })!;
      const before = evaluateAlerts(alerts, breaching, { rules: [r], nowMs: at - 1, policy, holdRollback: false });
      expect(before.actions).toEqual([]);
      const step = evaluateAlerts(alerts, breaching, { rules: [r], nowMs: at, policy, holdRollback: false });
      kinds.push(...step.actions.map((a) => `${(at - T0) / MIN}m ${a.kind}`));
      alerts = step.alerts;
      last = at;
    }
    expect(kinds).toEqual(['2m fired', '7m page', '17m rollback']);
    expect(alertDecisionAt(alerts, { rules: [r], policy, paused: false, nowMs: last })).toBeUndefined();
  });

  test('paused: the rollback instant is due once (it says the rollback is held), then only resume decides', () => {
    let alerts = evaluateAlerts(initialAlertStates([r]), breaching, { rules: [r], nowMs: T0, policy, holdRollback: true }).alerts;
    alerts = evaluateAlerts(alerts, breaching, { rules: [r], nowMs: T0 + 2 * MIN, policy, holdRollback: true }).alerts;
    alerts = evaluateAlerts(alerts, breaching, { rules: [r], nowMs: T0 + 7 * MIN, policy, holdRollback: true }).alerts;
    expect(alertDecisionAt(alerts, { rules: [r], policy, paused: true, nowMs: T0 + 7 * MIN })).toBe(T0 + 17 * MIN);
    const held = evaluateAlerts(alerts, breaching, { rules: [r], nowMs: T0 + 17 * MIN, policy, holdRollback: true });
    expect(held.actions.map((a) => a.kind)).toEqual(['decide']);
    expect(alertDecisionAt(held.alerts, { rules: [r], policy, paused: true, nowMs: T0 + 17 * MIN })).toBeUndefined();
  });

  test('a blind streak pages at blindAfter and applies onBlind at rollbackAfter without new checks; paused, a rollback onBlind is held once', () => {
    const sightPolicy = { blindAfterMs: 5 * MIN, rollbackAfterMs: 15 * MIN, onBlind: 'rollback' as const };
    const blind = observeCheck(initialSight(), { nowMs: T0, reason: 'no data for HighErrorRate' }, sightPolicy).sight;
    expect(sightDecisionAt(blind, sightPolicy, { nowMs: T0, paused: false })).toBe(T0 + 5 * MIN);
    expect(sightDue(blind, { nowMs: T0 + 5 * MIN - 1 }, sightPolicy).actions).toEqual([]);
    const paged = sightDue(blind, { nowMs: T0 + 5 * MIN }, sightPolicy);
    expect(paged.actions.map((a) => a.kind)).toEqual(['blind-page']);
    expect(paged.sight.checks).toBe(1);
    expect(sightDecisionAt(paged.sight, sightPolicy, { nowMs: T0 + 5 * MIN, paused: true })).toBe(T0 + 15 * MIN);
    const held = sightDue(paged.sight, { nowMs: T0 + 15 * MIN, hold: true }, sightPolicy);
    expect(held.actions.map((a) => a.kind)).toEqual(['on-blind-held']);
    expect(held.sight.blind?.escalated).toBe(false);
    expect(sightDecisionAt(held.sight, sightPolicy, { nowMs: T0 + 15 * MIN, paused: true })).toBeUndefined();
    // Resumed: the next check applies it.
    const resumed = observeCheck(held.sight, { nowMs: T0 + 16 * MIN, reason: 'no data for HighErrorRate', hold: false }, sightPolicy);
    expect(resumed.actions.map((a) => a.kind)).toEqual(['on-blind']);
    // page is never held.
    const pagePolicy = { ...sightPolicy, onBlind: 'page' as const };
    expect(sightDue(paged.sight, { nowMs: T0 + 15 * MIN, hold: true }, pagePolicy).actions.map((a) => a.kind)).toEqual(['on-blind']);
  });
});
