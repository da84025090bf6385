/**
 * The deploy spec: one YAML file describing a release of one service, validated before anything
 * starts. Defaults reproduce the seed (phase-6-deployment-and-launch.md): its four alert rules, a
 * 30s check interval, a 24h watch window, page after 5 minutes and roll back after 15.
 */
import { z } from 'zod';
import { SECRET_REF_PATTERN } from '../activities/secrets';
import { parseDuration } from './duration';
import { monitoringSpecSchema } from '../monitoring/settings';

/** A duration written as "30s", "10m", "24h"; parsed to milliseconds. */
export const duration = z.string().refine((text) => parseDuration(text) !== undefined, {
  message: 'expected a duration such as "30s", "10m", "24h" or "1h30m"',
});

/**
 * A reference to a secret, resolved inside an activity: `env:NAME` (an environment variable of the
 * worker) or `file:PATH` (a file the worker can read). Secrets never enter workflow history.
 */
export const secretRef = z.string().regex(SECRET_REF_PATTERN, {
  message:
    'expected a secret reference "env:NAME" or "file:/path/to/secret", not a literal value (literal secrets would be stored in workflow history)',
});

/** An http(s) base URL; "prometheus:9090" parses as a URL with scheme "prometheus:", so the scheme is checked. */
const httpUrl = (example: string) =>
  z
    .string()
    .url({ message: `expected a URL such as ${example}`, abort: true })
    .regex(/^https?:\/\//, { message: `expected the URL to start with http:// or https://, e.g. ${example}` });

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
    message: 'expected a Kubernetes name: lower-case letters, digits and "-", starting and ending alphanumeric',
  })
  .max(63);

export const alertRuleSchema = z.strictObject({
  /** Alert name as Prometheus shows it, e.g. HighErrorRate. */
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected a Prometheus alert name' }),
  /** PromQL whose value is compared with `threshold` (the seed's expression without its comparison). */
  expr: z.string().min(1),
  op: z.enum(['>', '<', '>=', '<=']).default('>'),
  threshold: z.number(),
  /** How long the condition must hold before the alert fires (Prometheus `for`). */
  for: duration.default('0s'),
  severity: z.enum(['critical', 'warning', 'info']).default('warning'),
  summary: z.string().default(''),
  description: z.string().default(''),
  /** The unit the value is shown in: ratio (as %), seconds, count, bytes. */
  unit: z.enum(['ratio', 'seconds', 'count', 'bytes', 'none']).default('none'),
});
export type AlertRule = z.infer<typeof alertRuleSchema>;

const metricCheckSchema = z.strictObject({
  name: z.string().min(1),
  /** PromQL returning one number. */
  query: z.string().min(1),
  unit: z.enum(['ratio', 'seconds', 'count', 'bytes', 'percent', 'rps', 'none']).default('none'),
  /** Largest allowed increase over the baseline, absolute (in the query's unit). */
  maxIncrease: z.number().nonnegative().optional(),
  /** Largest allowed increase over the baseline, relative (0.2 = +20%). */
  maxIncreaseRatio: z.number().nonnegative().optional(),
  /** A relative increase counts only when the absolute increase is at least this (noise floor). */
  minIncrease: z.number().nonnegative().optional(),
  /** Largest allowed value after the rollout, whatever the baseline. */
  max: z.number().optional(),
});
export type MetricCheck = z.infer<typeof metricCheckSchema>;

const smokeStepSchema = z.strictObject({
  name: z.string().min(1),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
  path: z.string().startsWith('/', { message: 'expected a path starting with "/"' }),
  headers: z.record(z.string(), z.string()).default({}),
  /** JSON body; strings may use ${var} captured earlier or ${secret:NAME} from `smoke.secrets`. */
  body: z.unknown().optional(),
  expect: z
    .strictObject({
      status: z.union([z.number().int(), z.array(z.number().int())]).default(200),
      /** JSON paths (a.b.0.c) and the values they must equal; "*" means "present and not empty". */
      json: z.record(z.string(), z.unknown()).default({}),
      maxLatencyMs: z.number().positive().optional(),
    })
    .prefault({}),
  /** Values to capture from the JSON response: variable name → JSON path. */
  capture: z.record(z.string(), z.string()).default({}),
  /** How the passing step reads in the report, e.g. "SUCCESS (JWT token received)". */
  successText: z.string().optional(),
});
export type SmokeStep = z.infer<typeof smokeStepSchema>;

export const smokeSuiteSchema = z.strictObject({
  name: z.string().default('smoke'),
  steps: z.array(smokeStepSchema).min(1, { message: 'a smoke suite needs at least one step' }),
  /** Suite-level latency expectation on the average of all steps, for "Response times: avg N ms". */
  maxAverageLatencyMs: z.number().positive().optional(),
});
export type SmokeSuite = z.infer<typeof smokeSuiteSchema>;

export const specSchema = z.strictObject({
  apiVersion: z.literal('shipwatch.dev/v1').default('shipwatch.dev/v1'),
  kind: z.literal('Deployment').default('Deployment'),
  service: dnsLabel,
  namespace: dnsLabel,
  release: z.string().min(1).max(128),
  image: z.string().regex(/^[^\s]+:[^\s:/]+$|^[^\s]+@sha256:[0-9a-f]{64}$/, {
    message: 'expected an image reference with a tag or digest, e.g. ghcr.io/org/app:v1.0.0',
  }),
  /** The approved plan this deployment executes (the seed's Phase 5 approval). */
  change: z
    .strictObject({
      reference: z.string().min(1).optional(),
      /** Refuse the spec unless `reference` names the approved plan. */
      required: z.boolean().default(false),
      approvedBy: z.string().optional(),
      url: z.string().optional(),
    })
    .optional(),
  kubernetes: z.strictObject({
    deployment: dnsLabel,
    container: z.string().min(1),
    /** Optional manifest to server-side apply instead of only setting the image (path relative to the spec). */
    manifest: z.string().optional(),
    /** Pods added per rollout step; 0 = one plain rolling update. */
    stepPods: z.number().int().nonnegative().default(1),
    /** Health window after each step, in which alert rules and the health check are evaluated. */
    stepWindow: duration.default('10m'),
    progressDeadline: duration.default('10m'),
    maxRestarts: z.number().int().nonnegative().default(0),
    /** Patterns that count as errors when the new pods' logs are scanned. */
    logErrorPatterns: z.array(z.string()).default(['ERROR', 'FATAL', 'panic']),
  }),
  /** Base URL of the service (health probe, smoke suite). */
  serviceUrl: httpUrl('http://user-management.production:8080'),
  healthPath: z.string().startsWith('/').default('/health'),
  database: z
    .strictObject({
      url: secretRef,
      backup: z
        .strictObject({
          /** Where dumps are kept: a directory on the worker. */
          store: z.string().default('./backups'),
          /** Run pg_dump on the worker, or inside the database pod as the seed does. */
          mode: z.enum(['local', 'pod']).default('local'),
          pod: z.string().optional(),
        })
        .prefault({}),
    })
    .optional(),
  migrations: z
    .strictObject({
      command: z.array(z.string()).min(1),
      /** Command that returns the schema to the previous release's migration, run with the old image. */
      rollbackCommand: z.array(z.string()).min(1).optional(),
      timeout: duration.default('5m'),
      /** Environment for the Job, values are secret references or plain strings. */
      env: z.record(z.string(), z.string()).default({}),
    })
    .optional(),
  smoke: z
    .strictObject({
      /** Path to the suite file (relative to the spec); the loader inlines it into `suite`. */
      suiteFile: z.string().optional(),
      suite: smokeSuiteSchema.optional(),
      /** Base URL for the smoke suite if it differs from serviceUrl. */
      baseUrl: httpUrl('http://127.0.0.1:8080').optional(),
      /** Secret references the suite may use as ${secret:NAME}. */
      secrets: z.record(z.string(), secretRef).default({}),
    })
    .optional(),
  metrics: z
    .strictObject({
      prometheusUrl: httpUrl('http://127.0.0.1:9090'),
      /** Range used by the rate() windows of the default checks and rules. */
      window: duration.default('5m'),
      /** PromQL label matchers selecting the service's own series; default job="<service>". */
      selector: z.string().optional(),
      checks: z.array(metricCheckSchema).optional(),
      /** A check whose baseline query returns no data: fail the pre-deploy check, or skip the comparison (said in the report). */
      missingBaseline: z.enum(['fail', 'skip']).default('fail'),
    })
    .optional(),
  watch: z
    .strictObject({
      duration: duration.default('24h'),
      interval: duration.default('30s'),
      autoRollback: z.boolean().default(true),
      escalation: z
        .strictObject({
          pageAfter: duration.default('5m'),
          rollbackAfter: duration.default('15m'),
        })
        .prefault({}),
      /** How long rules may go unevaluated (Prometheus unreachable, query errors) before on-call is paged; default escalation.pageAfter. */
      blindAfter: duration.optional(),
      /** What a watch that went blind does at its end or after rollbackAfter. */
      onBlind: z.enum(['page', 'rollback', 'fail']).default('page'),
      rules: z.array(alertRuleSchema).optional(),
      /** Extra rules added to the defaults (when `rules` is omitted). */
      extraRules: z.array(alertRuleSchema).default([]),
      /** Post-deployment review reminder, sent this long after the deployment started. */
      reviewAfter: duration.default('7d'),
    })
    .prefault({}),
  notifications: z
    .strictObject({
      slack: z.strictObject({ webhook: secretRef, channel: z.string().optional() }).optional(),
      pager: z.strictObject({ webhook: secretRef }).optional(),
      webhook: z.strictObject({ url: secretRef }).optional(),
    })
    .prefault({}),
  /**
   * How users reach the service: an Ingress or a Gateway API HTTPRoute that must route `host` +
   * `path` to `service`, checked after the pods (and the new release's health step run through it).
   */
  entryPoint: z
    .strictObject({
      kind: z.enum(['Ingress', 'HTTPRoute']),
      /** The Ingress's or HTTPRoute's name. */
      name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'expected a Kubernetes object name: lower-case letters, digits, "-" and "."' }).max(253),
      /** Its namespace; default the spec's namespace. */
      namespace: dnsLabel.optional(),
      /** The public host name users type, e.g. users.example.com. */
      host: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, { message: 'expected a host name such as users.example.com (lower case, no scheme, no port)' }),
      path: z.string().startsWith('/', { message: 'expected a path starting with "/"' }).default('/'),
      /** The Service the route must send that host and path to; default the spec's service name. */
      service: dnsLabel.optional(),
      /** The Service port the route must name (number); any when left out. */
      port: z.number().int().min(1).max(65535).optional(),
      /** Where the worker reaches the entry point (the ingress controller or gateway); the request carries Host: <host>. Default https://<host>. */
      url: httpUrl('http://127.0.0.1:8443').optional(),
      /** A JSON path in the health response that names the running release (e.g. "version"): it must equal the release. */
      releaseField: z.string().min(1).optional(),
    })
    .optional(),
  /** Distributed tracing of the service: where its spans go (OTLP over HTTP) and how many are kept; rendered as OTEL_* settings. */
  tracing: z
    .strictObject({
      /** The OTLP/HTTP endpoint the service exports to (the collector's or Jaeger's port 4318). */
      endpoint: httpUrl('http://otel-collector.monitoring:4318'),
      /** The share of traces started by the service that are kept (0–1); a sampled caller's trace is always followed. */
      sampling: z.number().min(0, { message: 'expected a ratio from 0 to 1, e.g. 0.1' }).max(1, { message: 'expected a ratio from 0 to 1, e.g. 0.1' }).default(0.1),
    })
    .optional(),
  /**
   * Uptime monitoring: a blackbox-exporter probe of the service's public endpoint, generated by
   * `shipwatch monitoring render` and verified by the deployment (it must report success for the new release).
   */
  uptime: z
    .strictObject({
      /** The URL probed; default https://<entryPoint.host><healthPath>, or serviceUrl + healthPath without an entry point. */
      url: httpUrl('https://users.example.com/health').optional(),
      /** The blackbox exporter module (http_2xx: any 2xx answer). */
      module: z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'expected a blackbox exporter module name such as http_2xx' }).default('http_2xx'),
      interval: duration.default('30s'),
      /** The blackbox exporter as Prometheus reaches it (host:port). */
      prober: z.string().regex(/^[^\s/:]+:\d+$/, { message: 'expected host:port, e.g. prometheus-blackbox-exporter.monitoring.svc:9115' }).default('prometheus-blackbox-exporter.monitoring.svc:9115'),
      /** A probe that does not report success for the new release: `block` rolls back, `warn` records it. */
      onFailure: z.enum(['block', 'warn']).default('block'),
    })
    .optional(),
  /**
   * Who answers pages for this service: the rotation's name, and where to learn who is on call now
   * (`schedule`) or where its pages go (`webhook`, the paging service's webhook), or both.
   */
  onCall: z
    .strictObject({
      rotation: z.string().min(1, { message: 'expected the on-call rotation\'s name, e.g. user-management-primary' }),
      /** The rotation's schedule, a secret reference (env:NAME or file:PATH): shifts of engineer, contact, from, to; or one line "Name <contact>". */
      schedule: secretRef.optional(),
      /** The paging service's webhook for this rotation: pages (paged, failed, manual action) go here. */
      webhook: secretRef.optional(),
    })
    .optional(),
  /** Hour 3's monitoring checks: what a failure of each does, the log pipeline, the error tracker. */
  monitoring: monitoringSpecSchema(secretRef),
  report: z
    .strictObject({
      /** Directory the report files are written to by the report activity. */
      dir: z.string().default('./reports'),
    })
    .prefault({}),
});

export type SpecInput = z.input<typeof specSchema>;
export type ParsedSpec = z.output<typeof specSchema>;
