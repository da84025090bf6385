/**
 * Scrape: Prometheus scrapes the service (active targets matching the spec's selector, all `up`,
 * and `up{<selector>}` is 1) and every pod of the new release is seen — as a target of its own
 * (a `pod` label, Kubernetes service discovery's pod name, or the pod's IP as the address) or as
 * the `pod` label on the service's series when one exporter speaks for several pods.
 *
 * A pod that started a moment ago reaches Prometheus after a service-discovery refresh and a
 * scrape. So no matching target, a target not scraped yet, or a new pod not seen yet is looked at
 * again — every 2 s, for up to two scrape intervals + 5 s (at most 40 s: the check runs within its
 * activity's minute) — before the check says so; the detail says how long it waited.
 */
import type { MonitoringCheckResult } from '../../model';
import { sleep } from '../abort';
import { queryPrometheus } from '../metrics';
import { parseDuration } from '../../spec/duration';
import type { MonitoringCheckInput } from '../types';
import { prometheusOf, result } from './context';
import type { MonitoringChecksOptions } from './context';
import { newReleasePods, podName } from './pods';
import { activeTargets } from './prometheus-api';
import type { ActiveTarget } from './prometheus-api';
import { matchesSelector, parseSelector } from './selector';
import type { LabelMatcher } from './selector';

/** The most the check waits for Prometheus to see new pods. */
export const SCRAPE_WAIT_CAP_MS = 40_000;
/** Assumed when no target says its scrape interval (Prometheus before 2.39). */
const DEFAULT_SCRAPE_INTERVAL_MS = 15_000;

function targetPod(t: ActiveTarget): string | undefined {
  return t.labels.pod ?? t.discoveredLabels.__meta_kubernetes_pod_name;
}

function targetHost(t: ActiveTarget): string {
  const address = t.discoveredLabels.__address__ ?? t.labels.instance ?? '';
  return address.replace(/:\d+$/, '');
}

export async function scrape(input: MonitoringCheckInput, options: MonitoringChecksOptions): Promise<MonitoringCheckResult> {
  const { spec } = input;
  const prom = prometheusOf(input);
  const selector = 'missing' in prom ? '' : prom.selector;
  const checked = `Prometheus's active targets and up{${selector}} for the pods running ${spec.image}`;
  if ('missing' in prom) return result('scrape', checked, { status: 'not_run', detail: prom.missing });
  const matchers = parseSelector(prom.selector);
  if (!matchers) return result('scrape', checked, { status: 'not_run', detail: `metrics.selector ${prom.selector} is not a list of label matchers (name="value", …)` });
  const at = { url: prom.url, selector: prom.selector, matchers, checked };
  const started = Date.now();
  let look = await lookOnce(input, at, options);
  const waitMs = options.scrapeWaitMs ?? Math.min(2 * (look.intervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS) + 5_000, SCRAPE_WAIT_CAP_MS);
  while (look.notYet && Date.now() - started < waitMs) {
    await sleep(Math.min(options.scrapePollMs ?? 2_000, waitMs - (Date.now() - started)));
    look = await lookOnce(input, at, options);
  }
  const waited = Math.round((Date.now() - started) / 1000);
  if (waited < 1) return look.result;
  return { ...look.result, detail: `${look.result.detail} (${look.result.status === 'passed' ? 'seen after' : 'looked again for'} ${waited} s)` };
}

interface Look {
  result: MonitoringCheckResult;
  /** What is missing may be there at the next scrape: no target, a target or a new pod not scraped yet. */
  notYet: boolean;
  /** The longest scrape interval among the service's targets, when they say. */
  intervalMs?: number;
}

/** One look at the targets, `up` and the new pods. */
async function lookOnce(input: MonitoringCheckInput, prom: { url: string; selector: string; matchers: LabelMatcher[]; checked: string }, options: MonitoringChecksOptions): Promise<Look> {
  const { spec } = input;
  const { matchers, checked } = prom;
  let intervalMs: number | undefined;
  const done = (outcome: Parameters<typeof result>[2], notYet = false): Look => ({ result: result('scrape', checked, outcome), notYet, ...(intervalMs !== undefined ? { intervalMs } : {}) });
  const targets = await activeTargets(prom.url, options);
  if (!targets.ok) return done({ status: 'not_run', detail: targets.error });
  const mine = targets.data.filter((t) => matchesSelector(t.labels, matchers));
  const intervals = mine.map((t) => parseDuration(t.scrapeInterval ?? '')).filter((ms): ms is number => ms !== undefined && ms > 0);
  if (intervals.length) intervalMs = Math.max(...intervals);
  const found = mine.map((t) => `target ${t.scrapeUrl}: ${t.health}${t.lastError ? ` (${t.lastError})` : ''}`);
  if (mine.length === 0) return done({ status: 'failed', detail: `no active Prometheus target matches ${prom.selector}: the service is not scraped`, found }, true);
  const down = mine.filter((t) => t.health === 'down');
  const unknown = mine.filter((t) => t.health === 'unknown');
  if (unknown.length && !down.length) return done({ status: 'not_run', detail: `${unknown.length} of ${mine.length} targets have not been scraped yet: ${unknown.map((t) => t.scrapeUrl).join(', ')}`, found }, true);
  if (down.length) return done({ status: 'failed', detail: `${down.length} of ${mine.length} targets are not up: ${down.map((t) => `${t.scrapeUrl} (${t.health}${t.lastError ? `: ${t.lastError}` : ''})`).join(', ')}`, found });

  const up = await queryPrometheus(prom.url, `up{${prom.selector}}`, options);
  if (up.outcome === 'unreachable') return done({ status: 'not_run', detail: up.error ?? 'Prometheus unreachable', found });
  if (up.outcome !== 'ok') return done({ status: 'failed', detail: `up{${prom.selector}} has no value (${up.error ?? up.outcome})`, found });
  const zero = up.values.filter((v) => v !== 1).length;
  found.push(`up{${prom.selector}}: ${up.values.join(', ')}`);
  if (zero) return done({ status: 'failed', detail: `${zero} of ${up.values.length} series of up{${prom.selector}} are not 1`, found });

  const pods = await newReleasePods(spec, options);
  if (!pods.ok) return done({ status: 'not_run', detail: `targets are up, but which pods they scrape cannot be told: ${pods.why}`, found });
  if (pods.pods.length === 0) return done({ status: 'failed', detail: `no pod runs ${spec.image}: nothing of the new release to scrape`, found });
  const names = pods.pods.map(podName);
  const byTarget = new Set<string>();
  for (const pod of pods.pods) {
    const ip = pod.status?.podIP;
    if (mine.some((t) => targetPod(t) === podName(pod) || (ip && targetHost(t) === ip))) byTarget.add(podName(pod));
  }
  const rest = names.filter((n) => !byTarget.has(n));
  // One exporter may speak for several pods (its series carry a pod label): ask once per remaining pod, so each is named.
  const bySeries = new Set<string>();
  for (const name of rest) {
    const one = await queryPrometheus(prom.url, `count({${prom.selector},pod="${name}"})`, options);
    if (one.outcome === 'unreachable') return done({ status: 'not_run', detail: one.error ?? 'Prometheus unreachable', found });
    if (one.outcome === 'ok' && one.values.some((v) => v > 0)) bySeries.add(name);
  }
  for (const name of names) {
    found.push(`pod ${name}: ${byTarget.has(name) ? 'a target of its own, up' : bySeries.has(name) ? 'its series are scraped (pod label)' : 'NOT scraped'}`);
  }
  const missing = names.filter((n) => !byTarget.has(n) && !bySeries.has(n));
  if (missing.length) return done({ status: 'failed', detail: `${missing.length} of ${names.length} pods of ${spec.release} are not scraped: ${missing.join(', ')}`, found }, true);
  return done({ status: 'passed', detail: `${mine.length} target${mine.length > 1 ? 's' : ''} up, up{${prom.selector}} = 1, all ${names.length} pods of ${spec.release} scraped`, found });
}
