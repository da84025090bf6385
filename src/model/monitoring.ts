/**
 * The deployment's own monitoring, as Hour 3 of the seed verifies it: one result per check (scrape,
 * alerts configured, alerts tested, logging, error tracking, dashboards), the per-check policy
 * (block or warn), and the verdict the workflow acts on. Plain JSON and pure functions only.
 */

/** The checks, in the order they run and the report lists them. */
export const MONITORING_CHECKS = ['scrape', 'alerts-configured', 'alerts-tested', 'logging', 'error-tracking', 'dashboards'] as const;
export type MonitoringCheckName = (typeof MONITORING_CHECKS)[number];

/** `not_run`: the check could not look (nothing configured, Prometheus or the cluster unreachable) — never a pass. */
export type MonitoringCheckStatus = 'passed' | 'failed' | 'not_run';

export interface MonitoringCheckResult {
  check: MonitoringCheckName;
  status: MonitoringCheckStatus;
  /** What the check looked at, one sentence ("Prometheus /api/v1/targets and up{job=\"x\"} for pods of v1.0.1"). */
  checked: string;
  /** What it found, one line per thing (a target, a rule, a pod, a panel). */
  found: string[];
  /** The verdict in one sentence: why it passed, what failed, or why it could not run. */
  detail: string;
}

/** What a failed check does to the deployment: `block` fails it (rollback after the rollout), `warn` records it. */
export type MonitoringPolicy = 'block' | 'warn';

/** Where the service's logs are shipped: the log pipeline's config (filebeat) in the cluster. */
export interface LogPipelineRef {
  namespace: string;
  configMap: string;
  /** The key holding filebeat.yml (default "filebeat.yml"). */
  key: string;
}

/**
 * The error tracker: the DSN the pods must carry, and how a test event is sent — by the service
 * itself (`testPath`, preferred: it proves the service's own reporting) or by the worker (`dsn`).
 */
export interface ErrorTrackingRef {
  /** Secret reference (env:NAME or file:PATH) to the DSN, resolved in the worker for its test event. */
  dsn?: string;
  /** Path on the service (through serviceUrl) that makes it report a test event to its tracker and answer with the outcome. */
  testPath?: string;
  /** Name of the environment variable (or secret key) carrying the DSN in the pods (default SENTRY_DSN). */
  env: string;
}

/** The monitoring part of a deploy spec, resolved: what to check and what a failure does. */
export interface MonitoringSettings {
  policy: Record<MonitoringCheckName, MonitoringPolicy>;
  logPipeline?: LogPipelineRef;
  errorTracking?: ErrorTrackingRef;
}

/** The seed's emphasis: scrape and alert configuration block, the rest warn. */
export const DEFAULT_MONITORING_POLICY: Record<MonitoringCheckName, MonitoringPolicy> = {
  scrape: 'block',
  'alerts-configured': 'block',
  'alerts-tested': 'warn',
  logging: 'warn',
  'error-tracking': 'warn',
  dashboards: 'warn',
};

export interface MonitoringRecord {
  checkedAt: string;
  checks: MonitoringCheckResult[];
}

export interface MonitoringVerdict {
  /** Checks that failed (or could not run) and whose policy is `block`. */
  blocking: MonitoringCheckResult[];
  /** Checks that failed or could not run and only warn. */
  warnings: MonitoringCheckResult[];
}

/**
 * What the deployment does with the results. A check that could not run under a `block` policy
 * blocks too: a release must not pass a gate nobody could look at.
 */
export function monitoringVerdict(checks: MonitoringCheckResult[], policy: Record<MonitoringCheckName, MonitoringPolicy> = DEFAULT_MONITORING_POLICY): MonitoringVerdict {
  const notPassed = checks.filter((c) => c.status !== 'passed');
  return {
    blocking: notPassed.filter((c) => policy[c.check] === 'block'),
    warnings: notPassed.filter((c) => policy[c.check] !== 'block'),
  };
}

/** The seed's "Monitoring Configured" checklist, each line with the checks that must pass for its tick. */
export const MONITORING_CHECKLIST: { line: string; checks: MonitoringCheckName[] }[] = [
  { line: 'Monitoring dashboards showing green', checks: ['scrape', 'dashboards'] },
  { line: 'Alerts configured and tested', checks: ['alerts-configured', 'alerts-tested'] },
  { line: 'Logging aggregation working', checks: ['logging'] },
  { line: 'Error tracking enabled', checks: ['error-tracking'] },
];

/** One checklist line's state: ticked only when every check behind it ran and passed. */
export function checklistState(record: MonitoringRecord | undefined, checks: MonitoringCheckName[]): 'passed' | 'failed' | 'not checked' {
  const results = checks.map((name) => record?.checks.find((c) => c.check === name));
  if (results.some((r) => r?.status === 'failed')) return 'failed';
  if (results.every((r) => r?.status === 'passed')) return 'passed';
  return 'not checked';
}
