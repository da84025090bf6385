/**
 * The service as its monitoring sees it: the label matchers that select its own series, the rate()
 * window, the name of its metrics port and the label on its Service and pods.
 */
import type { DeploySpec } from '../spec/types';

export interface MonitoredService {
  /** PromQL label matchers for the service's own series, e.g. job="user-management". */
  selector: string;
  /** The rate() window as PromQL writes it ("5m"). */
  window: string;
  /** Name of the Service port Prometheus scrapes (the seed's "metrics"). */
  metricsPort: string;
  /** Label selecting the service's Service and pods (the seed's app=user-management). */
  appLabel: { key: string; value: string };
}

/** Milliseconds to a Prometheus duration: "2m", "1h30m", "0s". */
export function promDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ];
  let rest = Math.round(ms);
  let text = '';
  for (const [unit, size] of units) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}

/**
 * From the resolved spec: its metrics selector and window (the loader's defaults, job="<service>"
 * and 5m, when the spec has no metrics section), port "metrics", label app=<service>.
 */
export function monitoredService(spec: DeploySpec, overrides: Partial<MonitoredService> = {}): MonitoredService {
  return {
    selector: overrides.selector ?? spec.metrics?.selector ?? `job="${spec.service}"`,
    window: overrides.window ?? promDuration(spec.metrics?.windowMs ?? 5 * 60_000),
    metricsPort: overrides.metricsPort ?? 'metrics',
    appLabel: overrides.appLabel ?? { key: 'app', value: spec.service },
  };
}

