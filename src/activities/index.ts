/**
 * The deployment workflow's activities, built from injected ports (`createActivities(deps)`):
 * each wraps a port call with Temporal's activity context (heartbeats, resume details,
 * cancellation as an AbortSignal) and maps permanent errors to non-retryable ApplicationFailures.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { sleep } from './abort';
import { captureBaseline } from './baseline';
import { isPermanentError } from './errors';
import { readHeartbeat } from './heartbeat';
import { setMostRecent } from './recent';
import { createMonitoringActivities } from './monitoring-checks';
import { createOnCallResolver } from './on-call';
import { createUptimeChecker } from './uptime';
import { mergeAvailability } from '../model';
import type { AvailabilityStats, BackupResult, DeploymentRef, DeploymentReport, LogScanResult, MetricsComparison, MetricsSnapshot, MigrationResult, PodVerification, RollbackTarget, SmokeResult } from '../model';
import type {
  ActivityDeps,
  BackupInput,
  DeliveryResult,
  EntryPointInput,
  EntryPointResult,
  HealthProbe,
  LogScanInput,
  MigrationJobInput,
  Notification,
  NotificationChannels,
  OnCallAssignment,
  OnCallInput,
  ProgressContext,
  RollbackInput,
  RollbackResult,
  RolloutProgress,
  RolloutStepInput,
  RuleEvaluation,
  SmokeInput,
  UptimeInput,
  UptimeResult,
  VerifyPodsInput,
} from './types';
import type { AlertQuery, ResolvedMetricCheck } from '../spec/types';
import type { EvaluationInput, RulesWanted } from '../workflows/evaluator-messages';


export interface StepHealth {
  target: RollbackTarget;
  availability: AvailabilityStats;
}

/** How often a long activity heartbeats on its own, repeating the port's last details. */
const AUTO_HEARTBEAT_MS = 5_000;

export interface ActivitySettings {
  /** Askers whose alert rules the evaluation keeps by key (createEvaluationActivities; default RULES_KEPT). */
  rulesKept?: number;
  /** Whether `evaluateWatchRulesAtSlot` waits in the worker for its slot (default true; createEvaluationActivities). */
  waitForSlot?: boolean;
  /** How long the health check of a rollout step's window probes the health endpoint (default 2s). */
  stepProbeMs?: number;
  /** How long the baseline looks again for queries with no data, and how often (./baseline.ts: 35 s, 2 s). */
  baselineWait?: { waitMs?: number; pollMs?: number };
}

/** Builds the activities the worker registers; tests pass fake ports, the worker real adapters. */
export function createActivities(deps: ActivityDeps, settings: ActivitySettings = {}) {
  const stepProbeMs = settings.stepProbeMs ?? 2_000;
  const baselineWait = settings.baselineWait ?? {};
  const onCall = deps.onCall ?? createOnCallResolver();
  const uptime = deps.uptime ?? createUptimeChecker();
  return {
    /** Pre-deploy check: the cluster answers and the Deployment exists; its state is the rollback target. */
    async readTarget(target: DeploymentRef): Promise<RollbackTarget> {
      return mapErrors(() => deps.kubernetes.readTarget(target));
    },

    /** The pre-deploy baseline; queries with no data yet are asked again, bounded (./baseline.ts). */
    async captureBaseline(input: { prometheusUrl: string; checks: ResolvedMetricCheck[] }): Promise<MetricsSnapshot> {
      return mapErrors(() => captureBaseline(deps.metrics, input, { ...baselineWait, signal: Context.current().cancellationSignal }));
    },

    async notify(input: { notification: Notification; channels: NotificationChannels }): Promise<DeliveryResult[]> {
      return mapErrors(() => deps.notify.send(input.notification, input.channels));
    },

    /** Pre-deploy check: who is on call for the spec's rotation when the deployment starts. */
    async resolveOnCall(input: OnCallInput): Promise<OnCallAssignment> {
      return mapErrors(() => onCall.resolve(input));
    },

    async backupDatabase(input: BackupInput): Promise<BackupResult> {
      return withProgress((ctx) => deps.database.backup(input, ctx));
    },

    async runMigrations(input: MigrationJobInput): Promise<MigrationResult> {
      return withProgress((ctx) => deps.kubernetes.runMigrationJob(input, ctx));
    },

    /** The migration Job again, with the old image and the spec's rollback command. */
    async rollbackMigrations(input: MigrationJobInput): Promise<MigrationResult> {
      return withProgress((ctx) => deps.kubernetes.runMigrationJob(input, ctx));
    },

    /** One step of the stepped rollout, with the availability probe running around it. */
    async rolloutStep(input: { step: RolloutStepInput; probe: HealthProbe }): Promise<RolloutProgress> {
      return withProgress(async (ctx) => {
        const { result, stats } = await whileProbing(deps, input.probe, ctx.signal, () =>
          deps.kubernetes.rolloutStep(input.step, ctx),
        );
        return { ...result, availability: mergeAvailability(result.availability, stats) };
      });
    },

    /** `rollout undo` to the recorded revision and wait for it, with the availability probe running. */
    async rollbackDeployment(input: { rollback: RollbackInput; probe: HealthProbe }): Promise<RollbackResult> {
      return withProgress(async (ctx) => {
        const { result, stats } = await whileProbing(deps, input.probe, ctx.signal, () =>
          deps.kubernetes.rollback(input.rollback, ctx),
        );
        return { ...result, availability: mergeAvailability(result.availability, stats) };
      });
    },

    /** The health check of a rollout step's window: the Deployment's state plus a short probe burst. */
    async checkStepHealth(input: { target: DeploymentRef; probe: HealthProbe }): Promise<StepHealth> {
      return mapErrors(async () => {
        const signal = Context.current().cancellationSignal;
        const { result, stats } = await whileProbing(deps, input.probe, signal, async () => {
          await sleep(stepProbeMs, signal);
          return deps.kubernetes.readTarget(input.target);
        });
        return { target: result, availability: stats };
      });
    },

    async verifyPods(input: VerifyPodsInput): Promise<PodVerification> {
      return mapErrors(() => deps.kubernetes.verifyPods(input));
    },

    async scanPodLogs(input: LogScanInput): Promise<LogScanResult> {
      return mapErrors(() => deps.kubernetes.scanLogs(input));
    },

    /** The public entry point routes to the Service, and the health step through it answers as the new release. */
    async checkEntryPoint(input: EntryPointInput): Promise<EntryPointResult> {
      const e = input.entryPoint;
      if (!deps.entryPoint) return { status: 'not_run', found: 'nothing reads the cluster\'s routes in this worker', detail: `${e.kind} ${e.namespace}/${e.name} not checked: the worker has no entry point checker` };
      const checker = deps.entryPoint;
      return mapErrors(() => checker.check(input, Context.current().cancellationSignal));
    },

    /** The blackbox probe of the public endpoint reports success for the new release (a result newer than `since`). */
    async checkUptime(input: UptimeInput): Promise<UptimeResult> {
      return mapErrors(() => uptime.check(input, Context.current().cancellationSignal));
    },

    async runSmokeSuite(input: SmokeInput): Promise<SmokeResult> {
      return withProgress((ctx) => deps.smoke.run(input, ctx));
    },

    async compareMetrics(input: {
      prometheusUrl: string;
      checks: ResolvedMetricCheck[];
      baseline: MetricsSnapshot;
    }): Promise<MetricsComparison> {
      return mapErrors(() => deps.metrics.compare(input));
    },

    ...createEvaluationActivities(deps.metrics, { ...(settings.rulesKept !== undefined ? { rulesKept: settings.rulesKept } : {}), ...(settings.waitForSlot !== undefined ? { waitForSlot: settings.waitForSlot } : {}) }),

    async writeReport(input: { report: DeploymentReport; dir: string }): Promise<{ markdownPath: string; jsonPath: string }> {
      return mapErrors(() => deps.reports.write(input.report, input.dir));
    },

    /** One of Hour 3's monitoring checks (./monitoring-checks.ts); a check reports what it finds, it does not throw for it. */
    ...createMonitoringActivities(deps.monitoring),
  };
}

export type DeploymentActivities = ReturnType<typeof createActivities>;

/** Askers whose rules the evaluation activity keeps by key (one per watch evaluator: 33 per Prometheus and interval at most). */
export const RULES_KEPT = 128;

/**
 * The alert rules' evaluation: `evaluateAlertRules`, for a window checking on its own and for
 * watch evaluators from before patch evaluator-rules-by-key; `evaluateWatchRules`, for the
 * evaluators since, which send their rules with a key once and then the key alone
 * (EvaluationInput); and `evaluateWatchRulesAtSlot`, the same for evaluators since patch
 * evaluator-evaluation-waits, scheduled as soon as the slot before was read and waiting here until
 * its slot (`atMs`; `waitForSlot` false answers at once, and the evaluator holds the answers until
 * the slot itself). The rules are kept here, per asking workflow, for the `rulesKept` most
 * recent askers (RULES_KEPT; 0 keeps none). A key whose rules are not kept — another worker process
 * was sent them, or this one restarted — is answered RulesWanted (at once, before any wait), and
 * the evaluator sends them again. The evaluators' only activities: a worker polling only their
 * queue registers just these.
 */
export function createEvaluationActivities(metrics: ActivityDeps['metrics'], options: { rulesKept?: number; waitForSlot?: boolean } = {}) {
  const max = options.rulesKept ?? RULES_KEPT;
  const waitForSlot = options.waitForSlot ?? true;
  const kept = new Map<string, { key: string; rules: AlertQuery[] }>();
  // The asking workflow: a watch evaluator asks the same rules every slot, planned once (src/activities/metrics.ts, PlanCache).
  const asker = (): string | undefined => Context.current().info.workflowExecution?.workflowId;
  const evaluate = (input: { prometheusUrl: string; rules: AlertQuery[]; atMs?: number }, planKey: string | undefined) =>
    mapErrors(() => metrics.evaluateRules({ ...input, ...(planKey ? { planKey } : {}) }));
  /** The rules an evaluation by key is for (kept under the asker from now on), or RulesWanted. */
  const rulesOf = (input: EvaluationInput, planKey: string | undefined): AlertQuery[] | RulesWanted => {
    const known = planKey !== undefined ? kept.get(planKey) : undefined;
    const rules = input.rules ?? (input.rulesKey !== undefined && known?.key === input.rulesKey ? known.rules : undefined);
    if (rules === undefined) {
      if (input.rulesKey === undefined) throw ApplicationFailure.create({ type: 'BadEvaluationInput', message: 'an evaluation needs its rules, or the key of rules sent before (rulesKey)', nonRetryable: true });
      // What it keeps is stale: the asker has moved on to another key.
      if (planKey !== undefined) kept.delete(planKey);
      return { rulesWanted: `this worker keeps no rules under the key ${input.rulesKey} for ${planKey ?? 'an unnamed asker'}${known ? ` (it keeps ${known.key})` : ''}` };
    }
    const keep = input.rulesKey !== undefined && input.rules !== undefined ? { key: input.rulesKey, rules: input.rules } : known;
    if (planKey !== undefined && keep !== undefined) setMostRecent(kept, planKey, keep, max);
    return rules;
  };
  const at = (input: EvaluationInput) => (input.atMs !== undefined ? { atMs: input.atMs } : {});
  return {
    async evaluateAlertRules(input: { prometheusUrl: string; rules: AlertQuery[]; atMs?: number }): Promise<RuleEvaluation[]> {
      return evaluate(input, asker());
    },

    async evaluateWatchRules(input: EvaluationInput): Promise<RuleEvaluation[] | RulesWanted> {
      const planKey = asker();
      const rules = rulesOf(input, planKey);
      if (!Array.isArray(rules)) return rules;
      return evaluate({ prometheusUrl: input.prometheusUrl, rules, ...at(input) }, planKey);
    },

    /** Waits (cancellably: a worker shutting down ends the wait, and the retry waits on another) until `atMs`, then evaluates. */
    async evaluateWatchRulesAtSlot(input: EvaluationInput & { atMs: number }): Promise<RuleEvaluation[] | RulesWanted> {
      const planKey = asker();
      const rules = rulesOf(input, planKey);
      if (!Array.isArray(rules)) return rules;
      const wait = input.atMs - Date.now();
      if (waitForSlot && wait > 0) await Context.current().sleep(wait);
      return evaluate({ prometheusUrl: input.prometheusUrl, rules, atMs: input.atMs }, planKey);
    },
  };
}

/** Runs a port call, turning permanent errors into non-retryable failures of the same type. */
async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toFailure(err);
  }
}

/** Exported for tests: what an adapter's error becomes when it leaves an activity. */
export function toFailure(err: unknown): unknown {
  if (!isPermanentError(err)) return err;
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: true,
    ...(err.details !== undefined ? { details: [err.details] } : {}),
  });
}

/**
 * Runs a long port call with a ProgressContext: heartbeats go to Temporal (and are repeated every
 * few seconds so a slow step is not mistaken for a dead worker, and cancellation is delivered),
 * the retry's `resumeFrom` is the last heartbeat of the previous attempt when it is one of the
 * shapes of ./heartbeat.ts (anything else is not resumed from).
 */
async function withProgress<T>(fn: (ctx: ProgressContext) => Promise<T>): Promise<T> {
  const activity = Context.current();
  let last: unknown = activity.info.heartbeatDetails;
  const resumeFrom = readHeartbeat(activity.info.heartbeatDetails);
  const ctx: ProgressContext = {
    heartbeat(details?: unknown) {
      if (details !== undefined) last = details;
      activity.heartbeat(last);
    },
    signal: activity.cancellationSignal,
    ...(resumeFrom !== undefined ? { resumeFrom } : {}),
  };
  const timer = setInterval(() => activity.heartbeat(last), AUTO_HEARTBEAT_MS);
  try {
    ctx.heartbeat();
    return await mapErrors(() => fn(ctx));
  } finally {
    clearInterval(timer);
  }
}

async function whileProbing<T>(
  deps: ActivityDeps,
  probe: HealthProbe,
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<{ result: T; stats: AvailabilityStats }> {
  const handle = deps.probe.start({ url: probe.url, intervalMs: probe.intervalMs, signal });
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    await handle.stop().catch(() => undefined);
    throw err;
  }
  return { result, stats: await handle.stop() };
}
