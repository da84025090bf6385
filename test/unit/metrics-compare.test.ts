/** Baseline comparison tolerances: relative limits with absolute noise floors. */
import { compareRow } from '../../src/activities/metrics';
import type { ResolvedMetricCheck } from '../../src/spec/types';

const avg: ResolvedMetricCheck = { name: 'Avg Response Time', query: 'q', unit: 'seconds', maxIncreaseRatio: 0.2, minIncrease: 0.01, max: 0.5 };
const ok = (value: number) => ({ name: avg.name, value, outcome: 'ok' as const });

test('a large relative increase below the absolute floor is noise, not a regression', () => {
  const row = compareRow(avg, ok(0.002), ok(0.003));
  expect(row).toMatchObject({ ok: true, text: 'Avg Response Time: 2ms → 3ms (+1ms)' });
});

test('an increase above both the relative limit and the floor is a regression', () => {
  const row = compareRow(avg, ok(0.095), ok(0.125));
  expect(row.ok).toBe(false);
  expect(row.reason).toBe('increase of 32% exceeds the allowed 20%');
});

test('without a floor the relative limit alone decides', () => {
  const { minIncrease: _floor, ...noFloor } = avg;
  expect(compareRow(noFloor, ok(0.002), ok(0.003)).ok).toBe(false);
});

test('the maximum applies whatever the baseline', () => {
  expect(compareRow(avg, ok(0.49), ok(0.51)).reason).toContain('above the maximum 0.5');
});
