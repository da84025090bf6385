/**
 * Lean fake ports for the benchmark worker: every outside system answers at once and keeps no call
 * log (a log would grow with 1,000 deployments and pollute the worker's memory figure); the only
 * thing recorded is when each deployment's rollback and watch checks reached the port.
 */
import { Context } from '@temporalio/activity';
import type { ActivityDeps, MetricsPort, RuleEvaluation } from '../src/activities/types';
import type { AvailabilityStats, MonitoringCheckName, MonitoringCheckResult, RollbackTarget } from '../src/model';
import type { AlertQuery } from '../src/spec/types';

export const PREVIOUS_IMAGE = 'ghcr.io/org/user-management:v0.9.0';

/** When things reached the ports, by workflow ID (wall clock, ms since the epoch). */
export interface PortTimes {
  /** First `kubernetes.rollback` call of each deployment. */
  rollback: Record<string, number>;
  /** Every `metrics.evaluateRules` call (the watch checks; the bench uses no step window), by the calling workflow (a window, or the watch evaluator). */
  checks: Record<string, number[]>;
  /** Rules evaluated in all: the queries sent if each were asked alone (the real adapter batches rules of one shape). */
  rulesEvaluated?: number;
}

const noFailures = (probes: number): AvailabilityStats => ({ probes, failures: 0, failed: [], averageMs: 1, p95Ms: 1 });

function healthyValue(rule: AlertQuery): number {
  return rule.op === '>' || rule.op === '>=' ? rule.threshold / 2 : rule.threshold * 2;
}

function workflowId(): string {
  return Context.current().info.workflowExecution?.workflowId ?? 'unknown';
}

/** `real.metrics`: the watch's rules evaluated by the real metrics adapter (a real Prometheus), recorded the same way. */
export function createBenchPorts(real: { metrics?: MetricsPort } = {}): { deps: ActivityDeps; times: PortTimes } {
  const times: PortTimes = { rollback: {}, checks: {} };
  /** Image each Deployment (by namespace) runs. */
  const images = new Map<string, string>();
  const replicas = 3;
  const target = (namespace: string, deployment: string, container: string): RollbackTarget => {
    const image = images.get(namespace) ?? PREVIOUS_IMAGE;
    return {
      namespace,
      deployment,
      container,
      image,
      images: { [container]: image },
      revision: 4,
      revisions: [2, 3, 4],
      replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      updatedReplicas: replicas,
      healthy: true,
      problems: [],
    };
  };
  const deps: ActivityDeps = {
    kubernetes: {
      readTarget: async (t) => target(t.namespace, t.deployment, t.container),
      rolloutStep: async (input) => {
        const newReady = Math.min(input.targetNewPods, replicas);
        if (newReady >= replicas) images.set(input.namespace, input.image);
        const at = new Date().toISOString();
        return {
          newReady,
          oldReady: replicas - newReady,
          replicas,
          revision: 5,
          complete: newReady >= replicas,
          events: [{ at, status: 'ok', title: `Pod ${newReady} deployed (${input.release})`, key: `pod-ready:${newReady}` }],
          traffic: [{ at, newPods: newReady, oldPods: replicas - newReady, newPercent: Math.round((newReady / replicas) * 100) }],
          availability: noFailures(1),
        };
      },
      rollback: async (input) => {
        const id = workflowId();
        times.rollback[id] ??= Date.now();
        images.set(input.namespace, input.expectedImage);
        const at = new Date().toISOString();
        return {
          revision: input.toRevision,
          image: input.expectedImage,
          durationMs: 0,
          events: [{ at, status: 'ok', title: `rollout undo to revision ${input.toRevision}`, key: 'undo' }],
          traffic: [{ at, newPods: 0, oldPods: replicas, newPercent: 0 }],
          availability: noFailures(1),
        };
      },
      verifyPods: async (input) => {
        const image = images.get(input.namespace) ?? PREVIOUS_IMAGE;
        const ok = image === input.image;
        return {
          ok,
          expected: replicas,
          pods: Array.from({ length: replicas }, (_, i) => ({ name: `${input.deployment}-${i}`, image, ready: true, phase: 'Running', restarts: 0 })),
          summary: ok ? `${replicas}/${replicas} running ${input.image}` : `pods run ${image}, expected ${input.image}`,
        };
      },
      scanLogs: async () => ({ podsScanned: replicas, errorLines: [] }),
      runMigrationJob: async (input) => ({ jobName: input.jobName, succeeded: true, applied: ['0003_user_roles'], durationMs: 0, logTail: 'OK' }),
    },
    database: {
      backup: async (input) => ({ location: `/backups/${input.service}-${input.release}.dump`, sizeBytes: 4096, sha256: 'ab'.repeat(32), durationMs: 0, tocEntries: 42 }),
    },
    smoke: {
      run: async (input) => ({
        suite: input.suite.name,
        release: input.release,
        passed: true,
        steps: [{ name: 'Health endpoint', ok: true, status: 200, latencyMs: 1, detail: '200 OK' }],
        averageMs: 1,
        p95Ms: 1,
      }),
    },
    metrics: {
      snapshot: async (input) => ({ takenAt: new Date().toISOString(), values: input.checks.map((c) => ({ name: c.name, value: 0.1, outcome: 'ok' as const })) }),
      compare: async (input) => ({
        ok: true,
        rows: input.checks.map((c) => ({ name: c.name, unit: c.unit, before: 0.1, after: 0.1, delta: 0, ok: true, outcome: 'ok' as const, text: `${c.name}: 0.1 → 0.1` })),
        after: { takenAt: new Date().toISOString(), values: [] },
      }),
      evaluateRules: async (input): Promise<RuleEvaluation[]> => {
        const now = Date.now();
        (times.checks[workflowId()] ??= []).push(now);
        times.rulesEvaluated = (times.rulesEvaluated ?? 0) + input.rules.length;
        if (real.metrics) return real.metrics.evaluateRules(input);
        return input.rules.map((rule) => ({ rule: rule.name, value: healthyValue(rule), breaching: false, outcome: 'ok' as const }));
      },
    },
    probe: { start: () => ({ stop: async () => noFailures(1) }) },
    notify: { send: async (_n, channels) => Object.keys(channels).map((channel) => ({ channel: channel as 'slack', delivered: true })) },
    reports: { write: async (report, dir) => ({ markdownPath: `${dir}/${report.deploymentId}.md`, jsonPath: `${dir}/${report.deploymentId}.json` }) },
    monitoring: (() => {
      const passed = (check: MonitoringCheckName) => async (): Promise<MonitoringCheckResult> => ({ check, status: 'passed', checked: `bench ${check}`, found: [], detail: 'bench: passed' });
      return { scrape: passed('scrape'), alertsConfigured: passed('alerts-configured'), alertsTested: passed('alerts-tested'), logging: passed('logging'), errorTracking: passed('error-tracking'), dashboards: passed('dashboards') };
    })(),
  };
  return { deps, times };
}
