/**
 * The Prometheus HTTP API calls the monitoring checks read besides instant queries: active scrape
 * targets (/api/v1/targets) and loaded rules (/api/v1/rules). Failures come back as a sentence,
 * never as an exception, so a check can say it could not look.
 */
import { request, type Dispatcher } from 'undici';

export interface PrometheusApiOptions {
  dispatcher?: Dispatcher;
  timeoutMs?: number;
}

export type ApiAnswer<T> = { ok: true; data: T } | { ok: false; error: string };

export interface ActiveTarget {
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  /** The target's scrape interval, e.g. "15s" (Prometheus 2.39 and later). */
  scrapeInterval?: string;
}

export interface LoadedRule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  /** `for`, in seconds. */
  duration?: number;
  labels?: Record<string, string>;
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
}

export interface LoadedGroup {
  name: string;
  file: string;
  rules: LoadedRule[];
}

/** GETs one API path and returns its `data`, or why not. */
export async function prometheusGet<T>(prometheusUrl: string, path: string, options: PrometheusApiOptions = {}): Promise<ApiAnswer<T>> {
  const url = new URL(path, prometheusUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  let status: number;
  let text: string;
  try {
    const res = await request(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : (err as Error).message;
    return { ok: false, error: `Prometheus at ${prometheusUrl} is unreachable: ${reason}` };
  }
  let body: { status?: string; data?: T; error?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { ok: false, error: `Prometheus answered ${url.pathname} with HTTP ${status} without JSON (is ${prometheusUrl} a Prometheus?)` };
  }
  if (body.status !== 'success' || body.data === undefined) return { ok: false, error: `${url.pathname} failed (HTTP ${status}): ${body.error ?? 'no detail'}` };
  return { ok: true, data: body.data };
}

export async function activeTargets(prometheusUrl: string, options: PrometheusApiOptions = {}): Promise<ApiAnswer<ActiveTarget[]>> {
  const answer = await prometheusGet<{ activeTargets: ActiveTarget[] }>(prometheusUrl, '/api/v1/targets?state=active', options);
  return answer.ok ? { ok: true, data: answer.data.activeTargets ?? [] } : answer;
}

export async function loadedAlertingRules(prometheusUrl: string, options: PrometheusApiOptions = {}): Promise<ApiAnswer<(LoadedRule & { group: string; file: string })[]>> {
  const answer = await prometheusGet<{ groups: LoadedGroup[] }>(prometheusUrl, '/api/v1/rules?type=alert', options);
  if (!answer.ok) return answer;
  const rules = (answer.data.groups ?? []).flatMap((g) => g.rules.filter((r) => r.type === 'alerting').map((r) => ({ ...r, group: g.name, file: g.file })));
  return { ok: true, data: rules };
}
