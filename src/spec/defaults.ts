/**
 * The seed's monitoring defaults as functions of the service: its four alert rules and the
 * post-deploy metric checks compared against the pre-deploy baseline.
 */
import type { ResolvedAlertRule, ResolvedMetricCheck } from './types';

export interface Target {
  service: string;
  namespace: string;
  deployment: string;
  /** PromQL label matchers selecting the service's own metrics, e.g. job="user-management". */
  selector: string;
  /** The rate() window, as PromQL writes it ("5m"). */
  window: string;
}

/** The seed's HighErrorRate, HighResponseTime, PodDown and HighMemoryUsage, thresholds unchanged. */
export function defaultAlertRules(t: Target): ResolvedAlertRule[] {
  const podRegex = `${t.deployment}-.*`;
  return [
    {
      name: 'HighErrorRate',
      // `or rate(…) * 0`: no 5xx series at all means an error rate of 0, not "no data" (the service's
      // other series, zeroed, fill the sum). Not `or vector(0)`: a series without labels cannot be
      // grouped per service, so the rule could not join one query across services
      // (src/activities/promql-batch.ts).
      expr: `sum(rate(http_requests_total{${t.selector},status=~"5.."}[${t.window}]) or rate(http_requests_total{${t.selector}}[${t.window}]) * 0) / sum(rate(http_requests_total{${t.selector}}[${t.window}]))`,
      op: '>',
      threshold: 0.05,
      forMs: 2 * 60_000,
      severity: 'critical',
      summary: 'High error rate detected',
      description: 'Error rate is {{ $value | humanizePercentage }}',
      unit: 'ratio',
    },
    {
      name: 'HighResponseTime',
      expr: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${t.selector}}[${t.window}])))`,
      op: '>',
      threshold: 0.5,
      forMs: 5 * 60_000,
      severity: 'warning',
      summary: 'High response time',
      description: '95th percentile response time is {{ $value }}s',
      unit: 'seconds',
    },
    {
      name: 'PodDown',
      expr: `kube_deployment_status_replicas_available{namespace="${t.namespace}",deployment="${t.deployment}"}`,
      op: '<',
      threshold: 2,
      forMs: 60_000,
      severity: 'critical',
      summary: 'Insufficient pods running',
      description: 'Only {{ $value }} pods available',
      unit: 'count',
    },
    {
      name: 'HighMemoryUsage',
      // `max by (pod)`: one series per pod (the worst container), so the description's
      // {{ $labels.pod }} names the pod, as in the seed; a bare max() would drop the label.
      expr: `max by (pod) (container_memory_usage_bytes{namespace="${t.namespace}",pod=~"${podRegex}"} / container_spec_memory_limit_bytes{namespace="${t.namespace}",pod=~"${podRegex}"})`,
      op: '>',
      threshold: 0.85,
      forMs: 5 * 60_000,
      severity: 'warning',
      summary: 'High memory usage',
      description: 'Pod {{ $labels.pod }} using {{ $value | humanizePercentage }} of memory limit',
      unit: 'ratio',
    },
  ];
}

/**
 * The seed's "Comparison to Pre-Deployment (Baseline)" rows, with tolerances a reviewer would
 * accept: relative limits with absolute floors (+20% and at least +10 ms on the average), so the
 * noise of a fast service (2 ms → 3 ms) never reads as a regression.
 */
export function defaultMetricChecks(t: Target): ResolvedMetricCheck[] {
  const w = t.window;
  const podRegex = `${t.deployment}-.*`;
  return [
    {
      name: 'Error Rate',
      query: `(sum(rate(http_requests_total{${t.selector},status=~"5.."}[${w}])) or vector(0)) / sum(rate(http_requests_total{${t.selector}}[${w}]))`,
      unit: 'ratio',
      maxIncrease: 0.01,
      max: 0.05,
    },
    {
      name: 'Avg Response Time',
      query: `sum(rate(http_request_duration_seconds_sum{${t.selector}}[${w}])) / sum(rate(http_request_duration_seconds_count{${t.selector}}[${w}]))`,
      unit: 'seconds',
      maxIncreaseRatio: 0.2,
      minIncrease: 0.01,
      max: 0.5,
    },
    {
      name: '95th Percentile',
      query: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${t.selector}}[${w}])))`,
      unit: 'seconds',
      maxIncreaseRatio: 0.25,
      minIncrease: 0.025,
      max: 0.5,
    },
    {
      name: 'Requests/Second',
      query: `sum(rate(http_requests_total{${t.selector}}[${w}]))`,
      unit: 'rps',
    },
    {
      name: 'Memory Usage',
      query: `avg(container_memory_usage_bytes{namespace="${t.namespace}",pod=~"${podRegex}"})`,
      unit: 'bytes',
      maxIncreaseRatio: 0.5,
      minIncrease: 32 * 1024 * 1024,
    },
    {
      name: 'CPU Usage',
      query: `avg(rate(container_cpu_usage_seconds_total{namespace="${t.namespace}",pod=~"${podRegex}"}[${w}]))`,
      unit: 'percent',
    },
  ];
}
