/**
 * The availability probe behind the report's zero-downtime line: while a rollout or rollback runs,
 * it requests the health endpoint at a fixed rate and counts failures and latency. It stops when
 * the step ends (stop()) or the activity is cancelled (the signal), leaving no timer behind.
 */
import { request, type Dispatcher } from 'undici';
import { percentile } from './smoke';
import type { AvailabilityStats } from '../model';
import type { AvailabilityProbePort, ProbeHandle } from './types';

export interface AvailabilityProbeOptions {
  dispatcher?: Dispatcher;
  /** Per-probe timeout; default the interval, at least 1s. */
  timeoutMs?: number;
  /** How many failures are kept for the report. */
  keepFailures?: number;
}

export function createAvailabilityProbe(options: AvailabilityProbeOptions = {}): AvailabilityProbePort {
  return {
    start({ url, intervalMs, signal }): ProbeHandle {
      const latencies: number[] = [];
      const failed: AvailabilityStats['failed'] = [];
      let failures = 0;
      let stopped = false;
      const stopper = new AbortController();
      const timeoutMs = options.timeoutMs ?? Math.max(1000, intervalMs);
      const keep = options.keepFailures ?? 10;

      const probeOnce = async (): Promise<void> => {
        const at = new Date().toISOString();
        const started = performance.now();
        let error: string | undefined;
        try {
          const res = await request(url, {
            signal: AbortSignal.any([stopper.signal, AbortSignal.timeout(timeoutMs)]),
            ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
          });
          await res.body.dump();
          if (res.statusCode < 200 || res.statusCode >= 300) error = `HTTP ${res.statusCode}`;
        } catch (err) {
          // A probe cut short by stop() measured nothing: neither a success nor a failure.
          if (stopper.signal.aborted) return;
          error = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : (err as Error).message;
        }
        latencies.push(performance.now() - started);
        if (error !== undefined) {
          failures++;
          if (failed.length < keep) failed.push({ at, error });
        }
      };

      // Fixed rate: the next probe starts on schedule even if the previous is still waiting.
      const inFlight = new Set<Promise<void>>();
      const tick = (): void => {
        if (stopped) return;
        const p = probeOnce().finally(() => inFlight.delete(p));
        inFlight.add(p);
      };
      tick();
      const timer = setInterval(tick, intervalMs);

      let result: Promise<AvailabilityStats> | undefined;
      const stop = (): Promise<AvailabilityStats> =>
        (result ??= (async () => {
          stopped = true;
          clearInterval(timer);
          signal?.removeEventListener('abort', onAbort);
          stopper.abort();
          await Promise.all([...inFlight]);
          const averageMs = latencies.length === 0 ? 0 : Math.round(latencies.reduce((a, b) => a + b, 0) / latencies.length);
          return { probes: latencies.length, failures, failed, averageMs, p95Ms: Math.round(percentile(latencies, 95)) };
        })());
      const onAbort = (): void => void stop();
      if (signal?.aborted) void stop();
      else signal?.addEventListener('abort', onAbort, { once: true });
      return { stop };
    },
  };
}
