/**
 * The pre-deploy baseline, waiting (bounded) for queries with no data yet. Right after pods change
 * (the previous rollout ended a moment ago) their series are gone from Prometheus until it scrapes
 * the new pods: one scrape interval at most. A baseline taken then says "no data" for a metric the
 * service has. So a query with no data is asked again every `pollMs`, up to `waitMs`, and the
 * snapshot says how long it waited (`waitedMs`); a query that never gets data is still no-data and
 * `metrics.missingBaseline` decides, as before. Errors and an unreachable Prometheus are not waited
 * for: they are answers.
 */
import type { MetricsSnapshot } from '../model';
import type { ResolvedMetricCheck } from '../spec/types';
import { sleep } from './abort';
import type { MetricsPort } from './types';

export interface BaselineWait {
  /** How long to look again for queries with no data (default 35 s: one 30 s scrape interval and a margin). */
  waitMs?: number;
  /** Between two looks (default 2 s). */
  pollMs?: number;
  signal?: AbortSignal;
}

export const BASELINE_WAIT_MS = 35_000;
export const BASELINE_POLL_MS = 2_000;

export async function captureBaseline(metrics: MetricsPort, input: { prometheusUrl: string; checks: ResolvedMetricCheck[] }, wait: BaselineWait = {}): Promise<MetricsSnapshot> {
  const waitMs = wait.waitMs ?? BASELINE_WAIT_MS;
  const pollMs = wait.pollMs ?? BASELINE_POLL_MS;
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  // Worth asking again: some query has no data, and none failed (a failure is an answer, never a pass).
  const waiting = (s: MetricsSnapshot) => s.values.some((v) => v.outcome === 'no-data') && !s.values.some((v) => v.outcome === 'unreachable' || v.outcome === 'error');
  let snapshot = await metrics.snapshot(input);
  let lookedAgain = false;
  while (waiting(snapshot) && elapsed() < waitMs) {
    await sleep(Math.min(pollMs, waitMs - elapsed()), wait.signal);
    snapshot = await metrics.snapshot(input);
    lookedAgain = true;
  }
  return lookedAgain ? { ...snapshot, waitedMs: elapsed() } : snapshot;
}
