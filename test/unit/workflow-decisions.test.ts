/** The workflow's plain decision modules with plain data: alert `for` semantics and escalation, the rollout plan, the timeline. */
import { evaluateAlerts, initialAlertStates } from '../../src/workflows/alert-evaluator';
import type { AlertAction } from '../../src/workflows/alert-evaluator';
import { planRollout, trafficSplitText } from '../../src/workflows/rollout-plan';
import { Timeline, emptyTimeline } from '../../src/workflows/timeline';
import { defaultAlertRules } from '../../src/spec/defaults';
import type { AlertState } from '../../src/model';

const rules = defaultAlertRules({ service: 's', namespace: 'n', deployment: 's', selector: 'job="s"', window: '5m' });
const policy = { pageAfterMs: 5 * 60_000, rollbackAfterMs: 15 * 60_000, autoRollback: true };
const MIN = 60_000;

/** Runs the evaluator every 30 s from 0 to `untilMs`, HighErrorRate breaching while `breaching(t)`. */
function simulate(breaching: (t: number) => boolean, untilMs: number, opts: { autoRollback?: boolean; hold?: (t: number) => boolean } = {}) {
  let alerts: AlertState[] = initialAlertStates(rules);
  const actions: { t: number; action: AlertAction }[] = [];
  for (let t = 0; t <= untilMs; t += 30_000) {
    const evaluations = rules.map((r) => {
      const bad = r.name === 'HighErrorRate' && breaching(t);
      return { rule: r.name, value: bad ? 0.2 : 0, breaching: bad, outcome: 'ok' as const };
    });
    const step = evaluateAlerts(alerts, evaluations, { rules, nowMs: 1_000_000_000_000 + t, policy: { ...policy, autoRollback: opts.autoRollback ?? true }, holdRollback: opts.hold?.(t) ?? false });
    alerts = step.alerts;
    actions.push(...step.actions.map((action) => ({ t, action })));
  }
  return { alerts, actions: actions.map(({ t, action }) => `${t / 1000}s ${action.kind}`) };
}

describe('alert evaluator', () => {
  test('Prometheus for: pending at first breach, firing after 2m, page 5m later, rollback 15m after firing', () => {
    const { actions } = simulate((t) => t >= 10 * MIN, 40 * MIN);
    expect(actions).toEqual(['600s pending', '720s fired', '1020s page', '1620s rollback']);
  });

  test('a rule that clears before its for never fires', () => {
    const { actions, alerts } = simulate((t) => t >= 10 * MIN && t < 11 * MIN, 30 * MIN);
    expect(actions).toEqual(['600s pending', '660s cleared']);
    expect(alerts.every((a) => a.state === 'inactive')).toBe(true);
  });

  test('auto-rollback off: page, then a decision page, never a rollback', () => {
    const { actions } = simulate((t) => t >= 0, 60 * MIN, { autoRollback: false });
    expect(actions).toEqual(['0s pending', '120s fired', '420s page', '1020s decide']);
  });

  test('paused holds the rollback (not the page); resumed, the next round rolls back', () => {
    const { actions } = simulate((t) => t >= 0, 30 * MIN, { hold: (t) => t < 25 * MIN });
    expect(actions.filter((a) => !a.endsWith('decide'))).toEqual(['0s pending', '120s fired', '420s page', '1500s rollback']);
    expect(actions.filter((a) => a.endsWith('decide')).length).toBeGreaterThan(0);
  });

  test('a value that cannot be read keeps the state and says so, never a silent pass', () => {
    const firing = simulate((t) => t >= 0, 3 * MIN).alerts;
    const step = evaluateAlerts(firing, [{ rule: 'HighErrorRate', value: null, breaching: false, outcome: 'unreachable', error: 'ECONNREFUSED' }], { rules, nowMs: 1_000_000_000_000 + 4 * MIN, policy, holdRollback: false });
    expect(step.alerts.find((a) => a.rule === 'HighErrorRate')?.state).toBe('firing');
    expect(step.actions).toContainEqual({ kind: 'unknown', rule: 'HighErrorRate', outcome: 'unreachable', error: 'ECONNREFUSED' });
  });

  test('warning alerts fire but never escalate', () => {
    let alerts = initialAlertStates(rules);
    const kinds: string[] = [];
    for (let t = 0; t <= 60 * MIN; t += 30_000) {
      const step = evaluateAlerts(alerts, rules.map((r) => ({ rule: r.name, value: 0.9, breaching: r.name === 'HighMemoryUsage', outcome: 'ok' as const })), { rules, nowMs: t + 1e12, policy, holdRollback: false });
      alerts = step.alerts;
      kinds.push(...step.actions.map((a) => a.kind));
    }
    expect(kinds).toEqual(['pending', 'fired']);
  });

  test('state is plain JSON', () => {
    const { alerts } = simulate((t) => t >= 0, 10 * MIN);
    expect(JSON.parse(JSON.stringify(alerts))).toEqual(alerts);
  });
});

describe('rollout plan', () => {
  test("the seed's 33% → 67% → 100% for 3 replicas, one pod per step", () => {
    expect(planRollout(3, 1)).toEqual([
      { index: 1, targetNewPods: 1, percent: 33, final: false },
      { index: 2, targetNewPods: 2, percent: 67, final: false },
      { index: 3, targetNewPods: 3, percent: 100, final: true },
    ]);
  });
  test('a step size of zero or covering all replicas is one plain rolling update', () => {
    expect(planRollout(3, 0)).toEqual([{ index: 1, targetNewPods: 3, percent: 100, final: true }]);
    expect(planRollout(3, 5)).toEqual([{ index: 1, targetNewPods: 3, percent: 100, final: true }]);
  });
  test('uneven steps end at all replicas', () => {
    expect(planRollout(5, 2).map((s) => s.targetNewPods)).toEqual([2, 4, 5]);
  });
  test('traffic wording', () => {
    expect(trafficSplitText(33)).toBe('Old (67%) + New (33%)');
    expect(trafficSplitText(100)).toBe('New (100%)');
    expect(trafficSplitText(0)).toBe('Old (100%)');
  });
});

describe('timeline', () => {
  test('dedupes by key, numbers events, filters after a sequence number', () => {
    const state = emptyTimeline();
    const tl = new Timeline(state);
    tl.add('BACKUP', { at: 't1', status: 'ok', title: 'Backup done', key: 'backup' });
    tl.add('BACKUP', { at: 't2', status: 'ok', title: 'Backup done again', key: 'backup' });
    tl.add('MIGRATE', { at: 't3', status: 'ok', title: 'Migrated' });
    tl.add('MIGRATE', { at: 't3', status: 'ok', title: 'Migrated' });
    expect(state.events.map((e) => [e.seq, e.phase, e.title])).toEqual([
      [1, 'BACKUP', 'Backup done'],
      [2, 'MIGRATE', 'Migrated'],
      [3, 'MIGRATE', 'Migrated'],
    ]);
    expect(tl.after(1).map((e) => e.seq)).toEqual([2, 3]);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});
