/**
 * Renders the seed's Deployment Report from a DeploymentReport (Markdown and JSON), and the value
 * formats shared with the metrics comparison ("95ms → 98ms (+3ms)"). Pure: no I/O, no Node
 * built-ins, so the CLI and workflow code can both use it.
 */
import type { MetricsComparisonRow } from '../activities/types';

export type MetricUnit = MetricsComparisonRow['unit'];

const trim = (n: number, digits: number): string => {
  const text = n.toFixed(digits);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
};

/** One value in the unit people read: ratio → "0.5%", seconds → "98ms", bytes → "187MB", percent (CPU cores) → "12%". */
export function formatMetric(value: number, unit: MetricUnit): string {
  switch (unit) {
    case 'ratio':
      return `${trim(value * 100, 2)}%`;
    case 'seconds':
      return value < 10 ? `${Math.round(value * 1000)}ms` : `${trim(value, 1)}s`;
    case 'bytes':
      return value >= 1024 * 1024 * 1024 ? `${trim(value / 1024 ** 3, 2)}GB` : `${Math.round(value / (1024 * 1024))}MB`;
    case 'percent':
      return `${trim(value * 100, 1)}%`;
    case 'rps':
      return trim(value, value < 10 ? 2 : 0);
    default:
      return trim(value, 3);
  }
}

/** The signed difference in the same unit ("+3ms", "-1.5%"), or "no change" when it shows as zero. */
export function formatDelta(before: number, after: number, unit: MetricUnit): string {
  const delta = after - before;
  const shown = formatMetric(Math.abs(delta), unit);
  if (/^0(ms|%|MB|GB|s)?$/.test(shown)) return 'no change';
  return `${delta > 0 ? '+' : '-'}${shown}`;
}

/** "Avg Response Time: 95ms → 98ms (+3ms)", with "no data"/"unreachable" in place of a missing value. */
export function formatComparison(name: string, unit: MetricUnit, before: number | null, after: number | null, missing: { before?: string; after?: string } = {}): string {
  const b = before === null ? (missing.before ?? 'no data') : formatMetric(before, unit);
  const a = after === null ? (missing.after ?? 'no data') : formatMetric(after, unit);
  const delta = before !== null && after !== null ? ` (${formatDelta(before, after, unit)})` : '';
  return `${name}: ${b} → ${a}${delta}`;
}
