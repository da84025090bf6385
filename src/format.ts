/**
 * How shipwatch writes durations, metric values, dates and release names for people: one behaviour
 * each, shared by the timeline, the status line, the report, notifications and the CLI. Pure: no
 * I/O, no Node built-ins, so workflow code may import it.
 */
import type { ResolvedMetricCheck } from './spec/types';

export type MetricUnit = ResolvedMetricCheck['unit'];

const DURATION_UNITS = [
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
] as const;

/**
 * A duration the short way, its largest unit and the next one when that is not zero: "850ms",
 * "45s", "2m", "2m 14s", "1h 5m", "24h". Hours do not roll into days: the watch window is "24h"
 * (the seed's own words), and "36h" reads better than "1d 12h" next to it.
 */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.round(ms / 1_000);
  const largest = DURATION_UNITS.findIndex(([, size]) => seconds >= size);
  const [unit, size] = DURATION_UNITS[largest]!;
  const text = `${Math.floor(seconds / size)}${unit}`;
  const next = DURATION_UNITS[largest + 1];
  if (!next) return text;
  const rest = Math.floor((seconds % size) / next[1]);
  return rest > 0 ? `${text} ${rest}${next[0]}` : text;
}

/** A duration as the report's header says it: "23 minutes", "1 minute"; under a minute or over an hour as formatDuration. */
export function formatDurationInWords(ms: number): string {
  const seconds = Math.round(ms / 1_000);
  if (seconds < 60 || seconds >= 3_600) return formatDuration(ms);
  const minutes = Math.round(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** "2025-11-15 10:00 UTC": reports are read across time zones, so they say UTC. */
export function formatDate(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

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

/** What to write in place of a value that could not be measured ("no data" unless told otherwise). */
export interface MissingValueText {
  before?: string;
  after?: string;
}

/** "Avg Response Time: 95ms → 98ms (+3ms)", with "no data"/"unreachable" in place of a missing value. */
export function formatComparison(name: string, unit: MetricUnit, values: { before: number | null; after: number | null }, missing: MissingValueText = {}): string {
  const { before, after } = values;
  const b = before === null ? (missing.before ?? 'no data') : formatMetric(before, unit);
  const a = after === null ? (missing.after ?? 'no data') : formatMetric(after, unit);
  const delta = before !== null && after !== null ? ` (${formatDelta(before, after, unit)})` : '';
  return `${name}: ${b} → ${a}${delta}`;
}

/** The length of a digest shown as a release name: "sha256:" and 12 hex digits, as `docker images` shortens IDs. */
const SHORT_DIGEST = 'sha256:'.length + 12;

/**
 * The release a container image runs, as the timeline, rollout events and the report name it:
 * its tag ("ghcr.io/org/app:v1.0.0" → "v1.0.0", "registry:5000/app:1.2" → "1.2", also when a
 * digest follows the tag); a digest-pinned image without a tag is named by its short digest
 * ("app@sha256:9f2c1e0a6b7d…" → "sha256:9f2c1e0a6b7d"); an image with neither by itself.
 */
export function releaseOfImage(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return name.slice(colon + 1);
  if (at >= 0) return image.slice(at + 1, at + 1 + SHORT_DIGEST);
  return image;
}
