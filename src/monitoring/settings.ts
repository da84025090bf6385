/**
 * The `monitoring` section of the deploy spec: per check whether a failure blocks the deployment
 * (rollback after the rollout, failure before it) or only warns, where the log pipeline's config
 * lives, and the error tracker's DSN. The schema is built with the spec's own secret-reference
 * type (passed in, so src/spec/schema.ts can use it without an import cycle).
 */
import { z } from 'zod';
import { DEFAULT_MONITORING_POLICY } from '../model/monitoring';
import type { MonitoringCheckName, MonitoringSettings } from '../model/monitoring';

const policy = z.enum(['block', 'warn']);

/** Spec key of each check (camelCase like every spec key) and the check it names. */
export const CHECK_KEYS = {
  scrape: 'scrape',
  alertsConfigured: 'alerts-configured',
  alertsTested: 'alerts-tested',
  logging: 'logging',
  errorTracking: 'error-tracking',
  dashboards: 'dashboards',
} as const satisfies Record<string, MonitoringCheckName>;

export function monitoringSpecSchema(secretRef: z.ZodType<string>) {
  return z
    .strictObject({
      /** What a failed (or not run) check does: `block` fails the deployment (rollback after the rollout), `warn` records it. */
      checks: z
        .strictObject({
          scrape: policy.default(DEFAULT_MONITORING_POLICY.scrape),
          alertsConfigured: policy.default(DEFAULT_MONITORING_POLICY['alerts-configured']),
          alertsTested: policy.default(DEFAULT_MONITORING_POLICY['alerts-tested']),
          logging: policy.default(DEFAULT_MONITORING_POLICY.logging),
          errorTracking: policy.default(DEFAULT_MONITORING_POLICY['error-tracking']),
          dashboards: policy.default(DEFAULT_MONITORING_POLICY.dashboards),
        })
        .prefault({}),
      /** The log pipeline's config in the cluster (filebeat.yml in a ConfigMap), checked to ship this service's logs. */
      logPipeline: z
        .strictObject({
          configMap: z.string().min(1),
          /** Default: the spec's namespace. */
          namespace: z.string().min(1).optional(),
          key: z.string().min(1).default('filebeat.yml'),
        })
        .optional(),
      /**
       * The error tracker: the pods must carry its DSN, and a test event must reach it — reported by
       * the service itself (`testPath`), or else sent by the worker to `dsn`.
       */
      errorTracking: z
        .strictObject({
          /** Where the worker reads the DSN (env:NAME or file:PATH), to send its own test event when the service has no testPath. */
          dsn: secretRef.optional(),
          /** A path on the service that reports a test event to its tracker and answers 2xx with `{ eventId }` once the tracker accepted it (like Sentry's /debug-sentry). */
          testPath: z.string().regex(/^\//, { message: 'expected a path starting with /, e.g. /debug/error-tracking' }).optional(),
          /** The pods' environment variable (or secret key) holding the DSN. */
          env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an environment variable name' }).default('SENTRY_DSN'),
        })
        .refine((e) => e.dsn !== undefined || e.testPath !== undefined, {
          message: 'set testPath (the service reports a test event; preferred) or dsn (the worker sends one): with neither, no test event can show the tracker receives events',
        })
        .optional(),
    })
    .prefault({});
}

export type MonitoringSpec = z.output<ReturnType<typeof monitoringSpecSchema>>;

/** The parsed section as the workflow gets it: check names, the log pipeline's namespace filled in. */
export function resolveMonitoringSettings(parsed: MonitoringSpec, namespace: string): MonitoringSettings {
  const policyOf = Object.fromEntries(Object.entries(CHECK_KEYS).map(([key, check]) => [check, parsed.checks[key as keyof typeof CHECK_KEYS]])) as MonitoringSettings['policy'];
  return {
    policy: policyOf,
    ...(parsed.logPipeline ? { logPipeline: { namespace: parsed.logPipeline.namespace ?? namespace, configMap: parsed.logPipeline.configMap, key: parsed.logPipeline.key } } : {}),
    ...(parsed.errorTracking
      ? {
          errorTracking: {
            env: parsed.errorTracking.env,
            ...(parsed.errorTracking.dsn !== undefined ? { dsn: parsed.errorTracking.dsn } : {}),
            ...(parsed.errorTracking.testPath !== undefined ? { testPath: parsed.errorTracking.testPath } : {}),
          },
        }
      : {}),
  };
}
