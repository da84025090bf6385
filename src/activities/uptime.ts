/**
 * The uptime check: reads the blackbox probe's `probe_success` for the service's public endpoint
 * from Prometheus and waits for a result newer than the moment the new release was in place, so an
 * old success never passes for the new release. 1 passes; 0 fails with the HTTP status and
 * duration the probe saw; no series at all fails (the probe is not installed); a Prometheus that
 * cannot be read is not run.
 */
import { sleep } from './abort';
import { probeSelector } from '../monitoring/uptime';
import type { UptimeInput, UptimePort, UptimeResult } from './types';

interface Sample {
  value: number;
  at: number;
}

export interface UptimeCheckerOptions {
  /** Between two reads while waiting for a fresh result. */
  pollMs?: number;
}

async function query(prometheusUrl: string, promql: string, signal: AbortSignal): Promise<Sample | undefined> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) });
  const body = (await res.json()) as { status: string; error?: string; data?: { result?: { value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error ?? `HTTP ${res.status}`}`);
  const first = body.data?.result?.[0];
  return first ? { value: Number(first.value[1]), at: first.value[0] * 1000 } : undefined;
}

export function createUptimeChecker(options: UptimeCheckerOptions = {}): UptimePort {
  const pollMs = options.pollMs ?? 1_000;
  return {
    async check(input: UptimeInput, signal: AbortSignal): Promise<UptimeResult> {
      const selector = probeSelector({ job: input.job, url: input.url });
      const since = Date.parse(input.since);
      const deadline = Date.now() + input.waitMs;
      let last: Sample | undefined;
      for (;;) {
        try {
          // timestamp(): when the probe ran, not when the query ran.
          const success = await query(input.prometheusUrl, `probe_success${selector}`, signal);
          const at = success ? await query(input.prometheusUrl, `timestamp(probe_success${selector})`, signal) : undefined;
          last = success && at ? { value: success.value, at: at.value * 1000 } : undefined;
        } catch (err) {
          if (signal.aborted) throw err;
          return { status: 'not_run', found: `Prometheus at ${input.prometheusUrl} could not be read`, detail: `the probe's result could not be read: ${(err as Error).message}` };
        }
        if (last && last.at > since) break;
        if (Date.now() >= deadline) break;
        await sleep(pollMs, signal);
      }
      const found = (s: Sample) => `probe_success${selector} = ${s.value} at ${new Date(s.at).toISOString()}`;
      if (!last) {
        return { status: 'failed', found: `no probe_success${selector} series in Prometheus`, detail: `no probe result for ${input.url}: install the probe (probe.yaml or blackbox-scrape.yml from shipwatch monitoring render)` };
      }
      if (last.at <= since) {
        return { status: 'failed', found: found(last), detail: `no probe of ${input.url} since the new release was in place (${input.since}); the last was at ${new Date(last.at).toISOString()}` };
      }
      if (last.value === 1) return { status: 'passed', found: found(last), detail: `the blackbox probe of ${input.url} succeeds for the new release` };
      const status = await query(input.prometheusUrl, `probe_http_status_code${selector}`, signal).catch(() => undefined);
      return { status: 'failed', found: found(last), detail: `the blackbox probe of ${input.url} fails${status ? ` (HTTP status ${status.value === 0 ? 'none: no answer' : status.value})` : ''}` };
    },
  };
}
