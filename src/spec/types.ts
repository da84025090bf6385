/**
 * The resolved deploy spec: what the workflow receives. Plain JSON (durations in milliseconds,
 * defaults filled in, the smoke suite inlined), so it can travel through workflow history.
 * Secrets stay references (`env:NAME`, `file:PATH`) and are resolved inside activities.
 */
import type { MonitoringSettings } from '../model/monitoring';
import type { SmokeStep, SmokeSuite } from './schema';

export type SecretRef = string;

export interface ResolvedAlertRule {
  name: string;
  expr: string;
  op: '>' | '<' | '>=' | '<=';
  threshold: number;
  forMs: number;
  severity: 'critical' | 'warning' | 'info';
  summary: string;
  description: string;
  unit: 'ratio' | 'seconds' | 'count' | 'bytes' | 'none';
}

/** What evaluating a rule needs: its name, expression and threshold (not its `for`, severity or texts). */
export type AlertQuery = Pick<ResolvedAlertRule, 'name' | 'expr' | 'op' | 'threshold'>;

export interface ResolvedMetricCheck {
  name: string;
  query: string;
  unit: 'ratio' | 'seconds' | 'count' | 'bytes' | 'percent' | 'rps' | 'none';
  maxIncrease?: number;
  maxIncreaseRatio?: number;
  /** A relative increase counts only when the absolute increase is at least this (noise floor). */
  minIncrease?: number;
  max?: number;
}

/** An Ingress or HTTPRoute that must route `host` + `path` to `service`, and the health step run through it. */
export interface ResolvedEntryPoint {
  kind: 'Ingress' | 'HTTPRoute';
  name: string;
  namespace: string;
  host: string;
  path: string;
  service: string;
  port?: number;
  /** Where the worker sends the request (with Host: `host`). */
  url: string;
  releaseField?: string;
  /** The smoke suite's health step (or a plain GET of healthPath expecting 200), run once through the entry point. */
  healthStep: SmokeStep;
}

/** The uptime probe: what the blackbox exporter probes, how often, and what a failure does. */
export interface ResolvedUptime {
  url: string;
  module: string;
  /** As Prometheus writes it ("30s"). */
  interval: string;
  intervalMs: number;
  prober: string;
  /** The probe's Prometheus job label (the Probe's jobName). */
  job: string;
  onFailure: 'block' | 'warn';
}

export interface DeploySpec {
  service: string;
  namespace: string;
  release: string;
  image: string;
  /** The approved plan; present when the spec names one (`required` specs always do: the loader refuses otherwise). */
  change?: { reference: string; required: boolean; approvedBy?: string; url?: string };
  kubernetes: {
    deployment: string;
    container: string;
    /** Manifest text (YAML) to server-side apply, inlined by the loader. */
    manifest?: string;
    stepPods: number;
    stepWindowMs: number;
    progressDeadlineMs: number;
    maxRestarts: number;
    logErrorPatterns: string[];
  };
  serviceUrl: string;
  healthPath: string;
  database?: {
    url: SecretRef;
    backup: { store: string; mode: 'local' | 'pod'; pod?: string };
  };
  migrations?: {
    command: string[];
    rollbackCommand?: string[];
    timeoutMs: number;
    env: Record<string, string>;
  };
  smoke?: {
    suite: SmokeSuite;
    baseUrl: string;
    secrets: Record<string, SecretRef>;
  };
  metrics?: {
    prometheusUrl: string;
    /** PromQL label matchers selecting the service's own series, e.g. job="user-management". */
    selector: string;
    windowMs: number;
    checks: ResolvedMetricCheck[];
    /** A baseline query with no data fails the pre-deploy check (`fail`) or skips that comparison (`skip`). */
    missingBaseline: 'fail' | 'skip';
  };
  watch: {
    durationMs: number;
    intervalMs: number;
    autoRollback: boolean;
    pageAfterMs: number;
    rollbackAfterMs: number;
    /** Rules unevaluated for this long page on-call (default escalation.pageAfter). */
    blindAfterMs: number;
    /** What a watch that went blind does at its end or after rollbackAfter. */
    onBlind: 'page' | 'rollback' | 'fail';
    rules: ResolvedAlertRule[];
    reviewAfterMs: number;
  };
  notifications: {
    slack?: { webhook: SecretRef; channel?: string };
    pager?: { webhook: SecretRef };
    webhook?: { url: SecretRef };
  };
  /** The service's tracing: OTLP/HTTP endpoint and sampling ratio, rendered by `shipwatch monitoring render`. */
  tracing?: { endpoint: string; sampling: number };
  /** The blackbox probe of the public endpoint, rendered and verified after the rollout (absent: not checked). */
  uptime?: ResolvedUptime;
  /** The public entry point checked after the pods (absent: not checked, said in the report). */
  entryPoint?: ResolvedEntryPoint;
  /**
   * The on-call rotation: resolved to the engineer on call when the deployment starts (from
   * `schedule`); its `webhook`, when given, is also `notifications.pager` (pages go there).
   */
  onCall?: { rotation: string; schedule?: SecretRef; webhook?: SecretRef };
  /** Hour 3's monitoring checks: per-check policy, log pipeline, error tracker (absent in specs resolved before it existed). */
  monitoring?: MonitoringSettings;
  report: { dir: string };
}
