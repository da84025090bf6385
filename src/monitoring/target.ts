/**
 * What the monitoring generators need beyond the resolved deploy spec: the label matchers that
 * select the service's own series, the rate() window and the name of its metrics port.
 */
import type { DeploySpec } from '../spec/types';

export interface MonitoringTarget {
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

/** The defaults the spec loader uses: job="<service>", the metrics window (5m), port "metrics". */
export function monitoringTarget(spec: DeploySpec, overrides: Partial<MonitoringTarget> = {}): MonitoringTarget {
  return {
    selector: overrides.selector ?? `job="${spec.service}"`,
    window: overrides.window ?? promDuration(spec.metrics?.windowMs ?? 5 * 60_000),
    metricsPort: overrides.metricsPort ?? 'metrics',
    appLabel: overrides.appLabel ?? { key: 'app', value: spec.service },
  };
}
