/**
 * Fake ports for `createActivities(deps)`: an in-memory Deployment that rolls out step by step,
 * a database, smoke suite, Prometheus and notifier whose behaviour each test scripts, and a call
 * log to assert on. Reusable by anyone testing against the activity contract.
 */
import { Context } from '@temporalio/activity';
import type { AvailabilityStats, MonitoringCheckName, MonitoringCheckResult, MonitoringCheckStatus, RollbackTarget, SmokeResult } from '../../src/model';
import type { ActivityDeps, MonitoringCheckInput, MonitoringPort, Notification, OnCallPort, ProgressContext, RolloutProgress, RuleEvaluation } from '../../src/activities/types';
import { PAGING_KINDS } from '../../src/activities/notify';
import { createOnCallResolver } from '../../src/activities/on-call';
import { SecretNotFoundError } from '../../src/activities/secrets';
import type { AlertQuery } from '../../src/spec/types';
import { MigrationFailedError, ProgressDeadlineExceededError } from '../../src/activities/errors';
import type { MigrationHeartbeat, RollbackHeartbeat, RolloutStepHeartbeat, WatchPhase } from '../../src/activities/heartbeat';

export interface FakeOptions {
  replicas?: number;
  previousImage?: string;
  revision?: number;
  healthy?: boolean;
  /** Thrown by readTarget. */
  readTargetError?: Error;
  /** The migration Job runs and fails (succeeded: false, as the real adapter answers) or the call throws this error. */
  migrationFails?: boolean | Error;
  /** The rollout step that reaches this many new pods fails with ProgressDeadlineExceeded. */
  rolloutFailsAtPods?: number;
  /** The rollout step that reaches this many new pods blocks until `release()` or cancellation. */
  blockRolloutAtPods?: number;
  rollbackFails?: boolean;
  /** The migration Job (new image) runs until cancelled; on cancellation it is stopped (`stoppedJobs`), as the real adapter does. */
  blockMigration?: boolean;
  /** The smoke suite fails for the new release (not for the old one after a rollback). */
  smokeFails?: boolean;
  smokeFailsAfterRollback?: boolean;
  metricsRegression?: boolean;
  /**
   * The baseline's query of this check has no data for the first `looks` snapshots (the series of
   * pods Prometheus has not scraped yet: test/integration/baseline.test.ts shows the real adapter's).
   */
  baselineNoData?: { check: string; looks: number };
  /** Value of a rule at `elapsedMs` after the first watch evaluation; null means no data. Default: healthy. */
  ruleValue?: (rule: AlertQuery, elapsedMs: number) => number | null;
  /** Availability probe failures per probe run. */
  probeFailures?: number;
  /** Status of each monitoring check (default: passed), in the real adapter's result shape. */
  monitoring?: Partial<Record<MonitoringCheckName, MonitoringCheckStatus>>;
  /** On-call schedules by reference (`env:NAME`/`file:PATH` → text), as the real resolver would read them; a missing one is unset. */
  onCallSchedules?: Record<string, string>;
  /** The entry point check's answer, in the real checker's shape (default: passed). */
  entryPoint?: 'passed' | 'failed' | 'not_run';
  /** The uptime check's answer, in the real checker's shape (default: passed). */
  uptime?: 'passed' | 'failed' | 'not_run';
}

export interface FakeCall {
  op: string;
  input: unknown;
  at: number;
  resumeFrom?: unknown;
}

/** Server time inside an activity on the time-skipping server, wall time elsewhere. */
function clock(): number {
  try {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  } catch {
    return Date.now();
  }
}

function healthyValue(rule: AlertQuery): number {
  // A value on the good side of the threshold.
  return rule.op === '>' || rule.op === '>=' ? rule.threshold / 2 : rule.threshold * 2;
}

function breaches(rule: AlertQuery, value: number): boolean {
  switch (rule.op) {
    case '>':
      return value > rule.threshold;
    case '>=':
      return value >= rule.threshold;
    case '<':
      return value < rule.threshold;
    case '<=':
      return value <= rule.threshold;
  }
}

const stats = (probes: number, failures: number): AvailabilityStats => ({
  probes,
  failures,
  failed: Array.from({ length: Math.min(failures, 5) }, (_, i) => ({ at: new Date(0).toISOString(), error: `probe ${i + 1}: 503` })),
  averageMs: 3,
  p95Ms: 5,
});

export class FakeWorld {
  readonly calls: FakeCall[] = [];
  readonly notifications: Notification[] = [];
  /** Notifications that went to the pager channel (as the real notifier picks them), with the pager's webhook reference. */
  readonly pages: { kind: Notification['kind']; webhook: string }[] = [];
  /** targetNewPods of each rollout step that completed (once per completion). */
  readonly completedSteps: number[] = [];
  /** Resolves when the blocking rollout step has started. */
  readonly blocked: Promise<void>;
  private unblock: () => void = () => undefined;
  private markBlocked: () => void = () => undefined;
  private firstEvaluationAt?: number;
  /** Migration Jobs stopped (deleted) because their wait was cancelled. */
  readonly stoppedJobs: string[] = [];
  /** Migration Jobs created, by name: whose (run ID) and which image, as the real Job's labels and spec say. */
  private readonly jobs = new Map<string, { runId: string | undefined; image: string }>();
  private image: string;
  private newReady = 0;
  readonly deps: ActivityDeps;

  constructor(readonly options: FakeOptions = {}) {
    this.image = options.previousImage ?? 'ghcr.io/org/user-management:v0.9.0';
    const gate = new Promise<void>((resolve) => (this.unblock = resolve));
    this.blocked = new Promise<void>((resolve) => (this.markBlocked = resolve));
    this.deps = this.build(gate);
  }

  /** Lets a blocked rollout step finish. */
  release(): void {
    this.unblock();
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }

  private log(op: string, input: unknown, ctx?: ProgressContext): void {
    this.calls.push({ op, input, at: clock(), ...(ctx?.resumeFrom !== undefined ? { resumeFrom: ctx.resumeFrom } : {}) });
  }

  private target(): RollbackTarget {
    const o = this.options;
    const replicas = o.replicas ?? 3;
    return {
      namespace: 'production',
      deployment: 'user-management',
      container: 'app',
      image: this.image,
      images: { app: this.image },
      revision: o.revision ?? 4,
      revisions: [2, 3, o.revision ?? 4],
      replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      updatedReplicas: replicas,
      healthy: o.healthy ?? true,
      problems: o.healthy === false ? ['0/3 pods ready'] : [],
    };
  }

  private build(gate: Promise<void>): ActivityDeps {
    const o = this.options;
    const replicas = o.replicas ?? 3;
    const previousImage = o.previousImage ?? 'ghcr.io/org/user-management:v0.9.0';
    return {
      kubernetes: {
        readTarget: async (input) => {
          this.log('readTarget', input);
          if (o.readTargetError) throw o.readTargetError;
          return this.target();
        },
        rolloutStep: async (input, ctx): Promise<RolloutProgress> => {
          this.log('rolloutStep', input, ctx);
          const beat = (phase: WatchPhase) =>
            ctx.heartbeat({ kind: 'rollout-step', release: input.release, targetNewPods: input.targetNewPods, phase, newReady: this.newReady, oldReady: replicas - this.newReady } satisfies RolloutStepHeartbeat);
          beat('applied');
          if (o.blockRolloutAtPods === input.targetNewPods) {
            this.markBlocked();
            await new Promise<void>((resolve, reject) => {
              void gate.then(resolve);
              const beats = setInterval(() => beat('stepping'), 200);
              ctx.signal.addEventListener('abort', () => {
                clearInterval(beats);
                reject(new Error(`rollout step to ${input.targetNewPods} pods cancelled`));
              });
              void gate.then(() => clearInterval(beats));
            });
          }
          if (o.rolloutFailsAtPods === input.targetNewPods) {
            throw new ProgressDeadlineExceededError(`deployment/user-management exceeded its progress deadline at ${input.targetNewPods} new pods`);
          }
          this.newReady = Math.min(input.targetNewPods, replicas);
          this.image = this.newReady >= replicas ? input.image : this.image;
          this.completedSteps.push(input.targetNewPods);
          const at = new Date(clock()).toISOString();
          const newPercent = Math.round((this.newReady / replicas) * 100);
          return {
            newReady: this.newReady,
            oldReady: replicas - this.newReady,
            replicas,
            revision: (o.revision ?? 4) + 1,
            complete: this.newReady >= replicas,
            events: [{ at, status: 'ok', title: `Pod ${this.newReady} deployed (${input.release})`, key: `pod-ready:${this.newReady}` }],
            traffic: [{ at, newPods: this.newReady, oldPods: replicas - this.newReady, newPercent }],
            availability: stats(10, o.probeFailures ?? 0),
          };
        },
        rollback: async (input, ctx) => {
          this.log('rollback', input, ctx);
          ctx.heartbeat({ kind: 'rollback', toRevision: input.toRevision, phase: 'applied', newReady: 0, oldReady: 0 } satisfies RollbackHeartbeat);
          if (o.rollbackFails) throw new ProgressDeadlineExceededError('rollout undo did not complete before the progress deadline');
          this.newReady = 0;
          this.image = input.expectedImage;
          const at = new Date(clock()).toISOString();
          return {
            revision: input.toRevision,
            image: input.expectedImage,
            durationMs: 1_000,
            events: [{ at, status: 'ok', title: `rollout undo to revision ${input.toRevision}`, key: 'undo' }],
            traffic: [{ at, newPods: 0, oldPods: replicas, newPercent: 0 }],
            availability: stats(4, 0),
          };
        },
        verifyPods: async (input) => {
          this.log('verifyPods', input);
          const ok = input.image === this.image;
          return {
            ok,
            expected: replicas,
            pods: Array.from({ length: replicas }, (_, i) => ({
              name: `user-management-${i}`,
              image: this.image,
              ready: true,
              phase: 'Running',
              restarts: 0,
              ...(ok ? {} : { problem: `runs ${this.image}` }),
            })),
            summary: ok ? `${replicas}/${replicas} running ${input.image}` : `pods run ${this.image}, expected ${input.image}`,
          };
        },
        scanLogs: async (input) => {
          this.log('scanLogs', input);
          return { podsScanned: replicas, errorLines: [] };
        },
        runMigrationJob: async (input, ctx) => {
          this.log('runMigrationJob', input, ctx);
          ctx.heartbeat({ kind: 'migration-job', jobName: input.jobName, startedAt: new Date(clock()).toISOString(), phase: 'created', active: 1 } satisfies MigrationHeartbeat);
          if (o.migrationFails instanceof Error) throw o.migrationFails;
          // As the real adapter: a Job under this name from another deployment is never adopted.
          const owner = this.jobs.get(input.jobName);
          if (owner && (owner.runId !== input.runId || owner.image !== input.image)) {
            throw new MigrationFailedError(`job/${input.jobName} in namespace ${input.namespace} already exists and belongs to another deployment: not adopted`, { details: { jobName: input.jobName, foreign: true } });
          }
          this.jobs.set(input.jobName, { runId: input.runId, image: input.image });
          const rollback = input.image === previousImage;
          if (o.blockMigration && !rollback) {
            this.markBlocked();
            await new Promise<void>((_resolve, reject) => {
              const beats = setInterval(() => ctx.heartbeat({ kind: 'migration-job', jobName: input.jobName, startedAt: new Date(clock()).toISOString(), phase: 'waiting', active: 1 } satisfies MigrationHeartbeat), 200);
              ctx.signal.addEventListener('abort', () => {
                clearInterval(beats);
                // As the real adapter: the Job is deleted with its pods before the call ends.
                this.jobs.delete(input.jobName);
                this.stoppedJobs.push(input.jobName);
                reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('cancelled'));
              });
            });
          }
          const succeeded = rollback || !o.migrationFails;
          // The same outcome as the real adapter for a Job that ran and failed: succeeded false, what it applied first, the failing one, the log tail.
          if (!succeeded) {
            return {
              jobName: input.jobName,
              succeeded: false,
              applied: ['users.0001_initial', 'users.0002_roles'],
              failed: 'users.0003_user_roles',
              reason: `job/${input.jobName} in namespace ${input.namespace} failed (BackoffLimitExceeded: Job has reached the specified backoff limit)`,
              durationMs: 134_000,
              logTail: 'Running migrations:\n  Applying users.0001_initial... OK\n  Applying users.0002_roles... OK\n  Applying users.0003_user_roles...\nerror: relation "roles" already exists\n',
            };
          }
          return {
            jobName: input.jobName,
            succeeded,
            applied: !rollback ? ['0001_initial', '0002_roles', '0003_user_roles'] : [],
            durationMs: 134_000,
            logTail: 'OK',
          };
        },
      },
      database: {
        backup: async (input, ctx) => {
          this.log('backup', input, ctx);
          return { location: `/backups/${input.service}-${input.release}.dump`, sizeBytes: 4096, sha256: 'ab'.repeat(32), durationMs: 2_000, tocEntries: 42 };
        },
      },
      smoke: {
        run: async (input, ctx): Promise<SmokeResult> => {
          this.log('smoke', input, ctx);
          const old = input.release !== 'v1.0.0' && input.release === previousImage.split(':').pop();
          const fails = old ? o.smokeFailsAfterRollback : o.smokeFails;
          return {
            suite: input.suite.name,
            release: input.release,
            passed: !fails,
            steps: [
              { name: 'Health endpoint', ok: true, status: 200, latencyMs: 12, detail: '200 OK' },
              fails
                ? { name: 'User login', ok: false, status: 500, latencyMs: 40, detail: 'expected 200, got 500' }
                : { name: 'User login', ok: true, status: 200, latencyMs: 40, detail: 'SUCCESS (JWT token received)' },
            ],
            averageMs: 26,
            p95Ms: 40,
          };
        },
      },
      metrics: {
        snapshot: async (input) => {
          this.log('snapshot', input);
          const looks = this.calls.filter((c) => c.op === 'snapshot').length;
          const empty = (name: string) => o.baselineNoData?.check === name && looks <= o.baselineNoData.looks;
          return {
            takenAt: new Date(clock()).toISOString(),
            values: input.checks.map((c) =>
              empty(c.name) ? { name: c.name, value: null, outcome: 'no-data' as const, error: 'the query returned no series (nothing scraped yet, or the metric does not exist)' } : { name: c.name, value: 0.1, outcome: 'ok' as const },
            ),
          };
        },
        compare: async (input) => {
          this.log('compare', input);
          const rows = input.checks.map((c, i) => {
            const regressed = o.metricsRegression === true && i === 0;
            const after = regressed ? 0.4 : 0.1;
            return {
              name: c.name,
              unit: c.unit,
              before: 0.1,
              after,
              delta: after - 0.1,
              ok: !regressed,
              outcome: 'ok' as const,
              text: `${c.name}: 0.1 → ${after}`,
              ...(regressed ? { reason: 'increase above maxIncrease' } : {}),
            };
          });
          return { ok: rows.every((r) => r.ok), rows, after: { takenAt: new Date(clock()).toISOString(), values: [] } };
        },
        evaluateRules: async (input): Promise<RuleEvaluation[]> => {
          this.log('evaluateRules', input);
          // Asked for an instant (the watch evaluator's slot), the values at that instant, as the real adapter pins Prometheus's `time`
          // (a local activity's scheduled time is the worker's clock, not the time-skipping server's).
          const now = input.atMs ?? clock();
          this.firstEvaluationAt ??= now;
          const elapsed = now - this.firstEvaluationAt;
          return input.rules.map((rule) => {
            const value = o.ruleValue ? o.ruleValue(rule, elapsed) : healthyValue(rule);
            if (value === null) return { rule: rule.name, value: null, breaching: false, outcome: 'no-data' as const };
            return { rule: rule.name, value, breaching: breaches(rule, value), outcome: 'ok' as const };
          });
        },
      },
      probe: {
        start: (input) => {
          this.log('probe.start', input);
          return { stop: async () => stats(2, 0) };
        },
      },
      notify: {
        send: async (notification, channels) => {
          this.log('notify', { kind: notification.kind });
          this.notifications.push(notification);
          if (channels.pager && (PAGING_KINDS.has(notification.kind) || notification.severity === 'critical')) this.pages.push({ kind: notification.kind, webhook: channels.pager.webhook });
          return Object.keys(channels).map((channel) => ({ channel: channel as 'slack', delivered: true }));
        },
      },
      reports: {
        write: async (report, dir) => {
          this.log('writeReport', { outcome: report.outcome, dir });
          return { markdownPath: `${dir}/${report.deploymentId}.md`, jsonPath: `${dir}/${report.deploymentId}.json` };
        },
      },
      monitoring: this.fakeMonitoring(),
      onCall: this.fakeOnCall(),
      uptime: {
        check: async (input) => {
          this.log('checkUptime', { job: input.job, url: input.url, since: input.since });
          const status = o.uptime ?? 'passed';
          const series = `probe_success{job=${JSON.stringify(input.job)},instance=${JSON.stringify(input.url)}}`;
          const at = new Date(Date.parse(input.since) + 1_000).toISOString();
          // The real checker's sentences (src/activities/uptime.ts).
          if (status === 'not_run') return { status, found: `Prometheus at ${input.prometheusUrl} could not be read`, detail: "the probe's result could not be read: fake: connection refused" };
          if (status === 'failed') return { status, found: `${series} = 0 at ${at}`, detail: `the blackbox probe of ${input.url} fails (HTTP status 503)` };
          return { status, found: `${series} = 1 at ${at}`, detail: `the blackbox probe of ${input.url} succeeds for the new release` };
        },
      },
      entryPoint: {
        check: async (input) => {
          this.log('checkEntryPoint', { host: input.entryPoint.host, release: input.release });
          const e = input.entryPoint;
          const where = `${e.kind} ${e.namespace}/${e.name}`;
          const status = o.entryPoint ?? 'passed';
          // The real checker's sentences (src/activities/entry-point.ts) for a right route, a wrong Service, an unreadable route.
          if (status === 'not_run') return { status, found: 'the route could not be read', detail: `could not read ${where}: fake: API unreachable` };
          if (status === 'failed') return { status, found: `${where} routes ${e.host}${e.path} (host ${e.host}, Prefix /) to Service other:80`, detail: `${where} routes ${e.host}${e.path} to Service other:80, not Service ${e.service}${e.port !== undefined ? `:${e.port}` : ''}` };
          return { status, found: `${where} routes ${e.host}${e.path} (host ${e.host}, Prefix /) to Service ${e.service}`, request: `GET ${e.url}${e.healthStep.path} with Host: ${e.host} → 200 in 3ms`, detail: `${e.host}${e.path} routes to Service ${e.service}; ${e.healthStep.name} answered as ${input.release} (${e.releaseField ?? 'version'})` };
        },
      },
    };
  }

  /**
   * The on-call resolver over in-memory schedules: the real resolver's parsing, with the schedule
   * text from the options instead of the environment or a file (test/integration/on-call.test.ts
   * runs the same cases against both).
   */
  private fakeOnCall(): OnCallPort {
    const real = createOnCallResolver({
      resolveSecret: async (ref) => {
        const text = this.options.onCallSchedules?.[ref];
        if (text === undefined) throw new SecretNotFoundError(ref, `secret ${ref} is not set (fake: no schedule under this reference)`);
        return text;
      },
    });
    return {
      resolve: async (input) => {
        this.log('resolveOnCall', input);
        return real.resolve(input);
      },
    };
  }

  /** The monitoring checks: each answers with the status the options give it, in the real adapter's shape. */
  private fakeMonitoring(): MonitoringPort {
    const check = (name: MonitoringCheckName) => async (input: MonitoringCheckInput): Promise<MonitoringCheckResult> => {
      this.log(`monitoring:${name}`, { service: input.spec.service });
      const status = this.options.monitoring?.[name] ?? 'passed';
      return { check: name, status, checked: `fake ${name} of ${input.spec.service}`, found: [], detail: `fake: ${status}` };
    };
    return {
      scrape: check('scrape'),
      alertsConfigured: check('alerts-configured'),
      alertsTested: check('alerts-tested'),
      logging: check('logging'),
      errorTracking: check('error-tracking'),
      dashboards: check('dashboards'),
    };
  }
}

/** Convenience: the fake world and its ActivityDeps. */
export function createFakeDeps(options: FakeOptions = {}): FakeWorld {
  return new FakeWorld(options);
}

export { MigrationFailedError };
