/**
 * src/format.ts: one way to write a duration, a metric value, a date and a release name, the same
 * on the timeline, the status line and the report.
 */
import { formatComparison, formatDate, formatDelta, formatDuration, formatDurationInWords, formatMetric, releaseOfImage } from '../../src/format';

describe('formatDuration', () => {
  test.each([
    [0, '0ms'],
    [850, '850ms'],
    [45_000, '45s'],
    [120_000, '2m'],
    [134_000, '2m 14s'],
    [252_000, '4m 12s'],
    [3_600_000, '1h'],
    [3_720_000, '1h 2m'],
    [3_735_000, '1h 2m'],
    [3_630_000, '1h'],
    [86_400_000, '24h'],
    [7 * 86_400_000, '168h'],
  ])('%d ms reads "%s"', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test('rounds to the nearest second above one second', () => {
    expect(formatDuration(1_499)).toBe('1s');
    expect(formatDuration(59_600)).toBe('1m');
  });
});

test('the report header says minutes in words, other lengths as formatDuration', () => {
  expect(formatDurationInWords(1_380_000)).toBe('23 minutes');
  expect(formatDurationInWords(60_000)).toBe('1 minute');
  expect(formatDurationInWords(45_000)).toBe('45s');
  expect(formatDurationInWords(3_735_000)).toBe('1h 2m');
});

test('dates say UTC', () => {
  expect(formatDate('2025-11-15T10:00:42.123Z')).toBe('2025-11-15 10:00 UTC');
});

describe('formatMetric', () => {
  test.each([
    [0.005, 'ratio', '0.5%'],
    [0.098, 'seconds', '98ms'],
    [12.34, 'seconds', '12.3s'],
    [196_083_712, 'bytes', '187MB'],
    [2.5 * 1024 ** 3, 'bytes', '2.5GB'],
    [0.12, 'percent', '12%'],
    [3.456, 'rps', '3.46'],
    [123.4, 'rps', '123'],
    [7, 'count', '7'],
  ] as const)('%d %s reads "%s"', (value, unit, text) => {
    expect(formatMetric(value, unit)).toBe(text);
  });
});

test("comparison lines read like the seed's", () => {
  expect(formatComparison('Avg Response Time', 'seconds', { before: 0.095, after: 0.098 })).toBe('Avg Response Time: 95ms → 98ms (+3ms)');
  expect(formatComparison('Error Rate', 'ratio', { before: 0, after: 0 })).toBe('Error Rate: 0% → 0% (no change)');
  expect(formatComparison('95th Percentile', 'seconds', { before: 0.172, after: 0.178 })).toBe('95th Percentile: 172ms → 178ms (+6ms)');
  expect(formatComparison('Error Rate', 'ratio', { before: 0.001, after: 0.0005 })).toBe('Error Rate: 0.1% → 0.05% (-0.05%)');
  expect(formatComparison('Memory Usage', 'bytes', { before: null, after: 196083712 }, { before: 'unreachable' })).toBe('Memory Usage: unreachable → 187MB');
  expect(formatComparison('Memory Usage', 'bytes', { before: 196083712, after: null })).toBe('Memory Usage: 187MB → no data');
  expect(formatDelta(0.0951, 0.0952, 'seconds')).toBe('no change');
});

describe('releaseOfImage', () => {
  test.each([
    ['ghcr.io/org/app:v1.0.0', 'v1.0.0'],
    ['registry:5000/app:1.2', '1.2'],
    ['app:1.2', '1.2'],
    ['registry:5000/app:1.2@sha256:9f2c1e0a6b7d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f', '1.2'],
    ['app@sha256:9f2c1e0a6b7d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f', 'sha256:9f2c1e0a6b7d'],
    ['registry:5000/app@sha256:9f2c1e0a6b7d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f', 'sha256:9f2c1e0a6b7d'],
    ['registry:5000/app', 'registry:5000/app'],
    ['app', 'app'],
  ])('%s runs release %s', (image, release) => {
    expect(releaseOfImage(image)).toBe(release);
  });
});
