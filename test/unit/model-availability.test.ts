/** mergeAvailability: the one way two availability measurements add up (workflow and activities both use it). */
import { MAX_FAILED_PROBES, mergeAvailability } from '../../src/model';
import type { AvailabilityStats } from '../../src/model';

const failures = (n: number, from = 0): AvailabilityStats['failed'] =>
  Array.from({ length: n }, (_, i) => ({ at: `2025-11-15T10:00:${String(from + i).padStart(2, '0')}Z`, error: `HTTP 503 (${from + i})` }));

test('nothing measured stays nothing', () => {
  expect(mergeAvailability(undefined, undefined)).toBeUndefined();
});

test('one measurement is kept as it is, its failures capped for the report', () => {
  const one: AvailabilityStats = { probes: 40, failures: 12, failed: failures(12), averageMs: 20, p95Ms: 50 };
  expect(mergeAvailability(one, undefined)).toEqual({ ...one, failed: failures(MAX_FAILED_PROBES) });
  expect(mergeAvailability(undefined, one)).toEqual({ ...one, failed: failures(MAX_FAILED_PROBES) });
  expect(one.failed).toHaveLength(12);
});

test('two measurements add probes and failures, weight the average by probes, keep the worse p95 and the first failures', () => {
  const a: AvailabilityStats = { probes: 100, failures: 2, failed: failures(2), averageMs: 10, p95Ms: 30 };
  const b: AvailabilityStats = { probes: 300, failures: 9, failed: failures(9, 2), averageMs: 30, p95Ms: 25 };
  expect(mergeAvailability(a, b)).toEqual({ probes: 400, failures: 11, failed: failures(10), averageMs: 25, p95Ms: 30 });
});

test('zero probes on both sides averages to zero, not NaN', () => {
  const empty: AvailabilityStats = { probes: 0, failures: 0, failed: [], averageMs: 0, p95Ms: 0 };
  expect(mergeAvailability(empty, empty)).toEqual(empty);
});
