/**
 * The deployment workflow: the seed's Deploy & Launch phase as durable activities (pre-deploy
 * checks → backup → migrations → stepped rollout → verify pods → smoke suite → metrics against
 * the baseline → report → watch window), with the rollback procedure as a non-cancellable saga.
 * Handlers and waiting live here; decisions live in plain modules (alert-evaluator, rollout-plan,
 * timeline, report) that unit tests call with plain data.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/common';
import { DEADLINE_MARGIN_MS, LONG_RUNNING, NOTIFICATION, QUICK_CALL, REPORT_WRITE, ROLLBACK_STEP, WATCH_CHECK } from '../activities/options';
import type { DeploymentActivities, ProbeTarget } from '../activities';
import type {
  ActivityEvent,
  AvailabilityStats,
  DeploymentReport,
  EventStatus,
  Notification,
  NotificationKind,
  RolloutProgress,
  RuleEvaluation,
  TargetRef,
  TrafficSample,
} from '../activities/types';
import { formatDuration } from '../spec/duration';
import { formatMetric } from '../report/render';
import type { DeploySpec } from '../spec/types';
import { evaluateAlerts, firingCritical, initialAlertStates } from './alert-evaluator';
import type { AlertAction } from './alert-evaluator';
import {
  extendWatchUpdate,
  pauseUpdate,
  promoteSignal,
  promoteUpdate,
  reportQuery,
  resumeUpdate,
  rollbackSignal,
  rollbackUpdate,
  searchAttributes,
  statusQuery,
  timelineQuery,
} from './messages';
import type { CommandAnswer, DeploymentInput, ExtendWatchRequest, RollbackAnswer } from './messages';
import { buildReport, buildStatus, availabilitySentence } from './report';
import { reviewReminderWorkflow } from './review-reminder';
import { planRollout, trafficSplitText } from './rollout-plan';
import { initialState, releaseOfImage } from './state';
import type { DeploymentState, RollbackTrigger } from './state';
import { Timeline } from './timeline';

/** Watch checks per run before continue-as-new (≈11 history events each). */
export const CHECKS_PER_RUN = 120;
/** History length at which a run hands over at the next loop boundary, whatever the count. */
export const HISTORY_BUDGET = 1_600;
const PROBE_INTERVAL_MS = 250;

/** Failure type of a deployment that ended without rolling anything out (bad precheck, migrations). */
export const DEPLOYMENT_FAILED = 'DeploymentFailed';

/** Stops the forward path: nothing to undo, the deployment ends FAILED. */
class DeploymentFailed extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DeploymentFailed';
  }
}
/** Stops the forward path: the rollback procedure runs. */
class RollbackNeeded extends Error {
  constructor(
    readonly trigger: RollbackTrigger,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'RollbackNeeded';
  }
}

type Acts = DeploymentActivities;
type Result<K extends keyof Acts> = Awaited<ReturnType<Acts[K]>>;

/** Calls one activity with its kind's options and a summary that reads like the timeline in the Web UI. */
function call<K extends keyof Acts>(options: ActivityOptions, name: K, summary: string, ...args: Parameters<Acts[K]>): Promise<Result<K>> {
  const proxy = proxyActivities<Acts>(options);
  const fn = proxy[name] as unknown as { executeWithOptions(o: ActivityOptions, a: unknown[]): Promise<unknown> };
  return fn.executeWithOptions({ ...options, summary }, args) as Promise<Result<K>>;
}

export async function deploymentWorkflow(input: DeploymentInput): Promise<DeploymentReport> {
  const spec = input.spec;
  const info = workflowInfo();
  const resumed = input.carried !== undefined;
  const state: DeploymentState = resumed
    ? (input.carried as DeploymentState)
    : initialState({
        deploymentId: info.workflowId,
        firstRunId: info.firstExecutionRunId,
        requestedBy: input.requestedBy,
        startedAt: new Date().toISOString(),
        alerts: initialAlertStates(spec.watch.rules),
      });
  if (resumed) {
    state.runs += 1;
    state.checksThisRun = 0;
  }
  const timeline = new Timeline(state.timeline);
  const target: TargetRef = { namespace: spec.namespace, deployment: spec.kubernetes.deployment, container: spec.kubernetes.container };
  const probe: ProbeTarget = { url: `${spec.serviceUrl}${spec.healthPath}`, intervalMs: PROBE_INTERVAL_MS };
  /** Bumped by extendWatch/promote/resume so waits re-evaluate. */
  let wakeUps = 0;

  const record = (status: EventStatus, title: string, detail?: string, key?: string) =>
    timeline.add(state.phase, { at: new Date().toISOString(), status, title, ...(detail ? { detail } : {}), ...(key ? { key } : {}) });

  const enter = (phase: DeploymentState['phase']) => {
    state.phase = phase;
    upsertSearchAttributes([{ key: searchAttributes.phase, value: phase }]);
  };

  // ------------------------------------------------------------ messages
  setHandler(statusQuery, () => buildStatus(state, spec, Date.now()));
  setHandler(timelineQuery, (opts) => timeline.after(opts?.afterSeq ?? 0));
  setHandler(reportQuery, () => buildReport(state, spec));

  const rollbackRefusal = (): string | undefined => {
    if (state.outcome === 'ROLLED_BACK') return `already rolled back (${state.rollback.reason ?? 'no reason given'})`;
    if (state.outcome === 'MANUAL_ACTION_REQUIRED') return 'the rollback already ran and failed: manual action is required';
    if (state.outcome !== 'IN_PROGRESS') return `too late: the deployment already ended ${state.outcome}`;
    if (state.rollbackRequest) return `a rollback is already under way (requested by ${state.rollbackRequest.requestedBy}: ${state.rollbackRequest.reason})`;
    return undefined;
  };
  const requestRollback = (trigger: RollbackTrigger, reason: string, requestedBy: string) => {
    if (state.rollbackRequest) return;
    state.rollbackRequest = { trigger, reason, requestedBy, at: new Date().toISOString() };
    record('warning', 'Rollback requested', `${reason} (by ${requestedBy})`, 'rollback-requested');
    wakeUps++;
  };
  setHandler(rollbackSignal, (req) => {
    if (!rollbackRefusal()) requestRollback('signal', req.reason, req.requestedBy ?? 'unknown');
  });
  setHandler(
    rollbackUpdate,
    (req): RollbackAnswer => {
      requestRollback('signal', req.reason, req.requestedBy ?? 'unknown');
      return { accepted: true, message: `accepted: rolling ${spec.service} back to ${state.target ? releaseOfImage(state.target.image) : 'the previous revision'}` };
    },
    { validator: (_req) => refuseWith(rollbackRefusal()) },
  );

  const promoteRefusal = (): string | undefined => {
    if (state.outcome !== 'IN_PROGRESS') return `too late: the deployment already ended ${state.outcome}`;
    if (state.rollbackRequest) return 'a rollback is under way';
    if (state.phase !== 'WATCH') return `not in the watch window yet (phase ${state.phase})`;
    if (state.watch?.outcome) return `the watch window already ended (${state.watch.outcome})`;
    return undefined;
  };
  const promote = (by: string) => {
    if (!state.watch || state.watch.outcome) return;
    state.watch.outcome = 'promoted';
    state.watch.promotedBy = by;
    record('ok', 'Release promoted', `watch window ended early by ${by}`, 'promoted');
    wakeUps++;
  };
  setHandler(promoteSignal, (req) => {
    if (!promoteRefusal()) promote(req.requestedBy ?? 'unknown');
  });
  setHandler(
    promoteUpdate,
    (req): CommandAnswer => {
      promote(req.requestedBy ?? 'unknown');
      return { accepted: true, message: `accepted: ${spec.release} promoted, watch window ended` };
    },
    { validator: (_req) => refuseWith(promoteRefusal()) },
  );

  const inProgressRefusal = (): string | undefined =>
    state.outcome !== 'IN_PROGRESS'
      ? `too late: the deployment already ended ${state.outcome}`
      : state.rollbackRequest
        ? 'a rollback is under way'
        : undefined;
  setHandler(
    pauseUpdate,
    (req): CommandAnswer => {
      state.paused = true;
      record('info', 'Paused', `by ${req.requestedBy ?? 'unknown'}: the rollout holds before its next step, auto-rollback is held (alerts still evaluated, pages still sent)`);
      return { accepted: true, message: 'accepted: paused' };
    },
    { validator: (_req) => refuseWith(inProgressRefusal() ?? (state.paused ? 'already paused' : undefined)) },
  );
  setHandler(
    resumeUpdate,
    (req): CommandAnswer => {
      state.paused = false;
      record('info', 'Resumed', `by ${req.requestedBy ?? 'unknown'}`);
      wakeUps++;
      return { accepted: true, message: 'accepted: resumed' };
    },
    { validator: (_req) => refuseWith(inProgressRefusal() ?? (!state.paused ? 'not paused' : undefined)) },
  );
  setHandler(
    extendWatchUpdate,
    (req): CommandAnswer => {
      const base = state.watch ? Date.parse(state.watch.endsAt) : undefined;
      if (state.watch && base !== undefined) {
        state.watch.endsAt = new Date(base + req.byMs).toISOString();
      } else {
        extendedBeforeWatchMs += req.byMs;
      }
      record('info', 'Watch window extended', `by ${formatDuration(req.byMs)} (by ${req.requestedBy ?? 'unknown'})`);
      wakeUps++;
      return { accepted: true, message: `accepted: watch window extended by ${formatDuration(req.byMs)}${state.watch ? `, now ends ${state.watch.endsAt}` : ''}` };
    },
    {
      validator: (req: ExtendWatchRequest) =>
        refuseWith(
          !(req.byMs > 0)
            ? 'byMs must be a positive number of milliseconds'
            : (inProgressRefusal() ?? (state.watch?.outcome ? `the watch window already ended (${state.watch.outcome})` : undefined)),
        ),
    },
  );
  let extendedBeforeWatchMs = 0;

  // ------------------------------------------------------------ notifications and reports
  const notify = async (kind: NotificationKind, severity: Notification['severity'], title: string, text: string) => {
    const notification: Notification = {
      kind,
      service: spec.service,
      namespace: spec.namespace,
      release: spec.release,
      deploymentId: state.deploymentId,
      title,
      text,
      severity,
    };
    try {
      const deliveries = await call(NOTIFICATION, 'notify', `Notify: ${title}`, { notification, channels: spec.notifications });
      const failed = deliveries.filter((d) => !d.delivered);
      record(failed.length ? 'warning' : 'ok', `Notification sent: ${title}`, failed.map((d) => `${d.channel}: ${d.error ?? 'not delivered'}`).join('; ') || undefined);
    } catch (err) {
      // A notification that cannot be sent never fails a deployment; it is on the timeline.
      record('warning', `Notification failed: ${title}`, messageOf(err));
    }
  };

  const writeReport = async (title: string) => {
    try {
      state.reportFiles = await call(REPORT_WRITE, 'writeReport', title, { report: buildReport(state, spec), dir: spec.report.dir });
      record('ok', title, state.reportFiles.markdownPath);
    } catch (err) {
      record('warning', `${title} failed`, messageOf(err));
      state.issues.push(`report not written: ${messageOf(err)}`);
    }
  };

  const mergeAvailability = (stats: AvailabilityStats | undefined) => {
    if (!stats) return;
    const a = state.availability;
    if (!a) {
      state.availability = { ...stats, failed: stats.failed.slice(0, 10) };
      return;
    }
    const probes = a.probes + stats.probes;
    state.availability = {
      probes,
      failures: a.failures + stats.failures,
      failed: [...a.failed, ...stats.failed].slice(0, 10),
      averageMs: probes === 0 ? 0 : (a.averageMs * a.probes + stats.averageMs * stats.probes) / probes,
      p95Ms: Math.max(a.p95Ms, stats.p95Ms),
    };
  };

  const recordTraffic = (samples: TrafficSample[], fallback: { newPods: number; oldPods: number; newPercent: number }) => {
    const list = samples.length ? samples : [{ at: new Date().toISOString(), ...fallback }];
    for (const s of list) {
      const lastSample = state.traffic[state.traffic.length - 1];
      if (lastSample && lastSample.newPercent === s.newPercent && lastSample.newPods === s.newPods) continue;
      state.traffic.push(s);
      record('info', `Traffic: ${trafficSplitText(s.newPercent)}`, `${s.newPods} new / ${s.oldPods} old pods`, `traffic:${state.phase}:${s.newPods}:${s.oldPods}`);
    }
    state.rollout.newPercent = list[list.length - 1]!.newPercent;
  };

  // ------------------------------------------------------------ forward path
  const precheck = async () => {
    enter('PRECHECK');
    record('started', 'Deployment started', `${spec.service} ${spec.release} (${spec.image}) by ${state.requestedBy}`, 'deployment-started');
    if (spec.change) {
      record('ok', 'Approved plan recorded', `${spec.change.reference}${spec.change.approvedBy ? ` approved by ${spec.change.approvedBy}` : ''}${spec.change.url ? ` (${spec.change.url})` : ''}`, 'change');
    } else {
      record('warning', 'No approved plan referenced', 'the spec has no change.reference');
      state.issues.push('no approved plan (change.reference) in the spec');
    }
    let found;
    try {
      found = await call(QUICK_CALL, 'readTarget', `Pre-deploy check: read deployment/${target.deployment}`, target);
    } catch (err) {
      throw new DeploymentFailed(`pre-deploy check failed: cannot read deployment/${target.deployment} in ${target.namespace}: ${messageOf(err)}`);
    }
    state.target = found;
    state.rollout.replicas = found.replicas;
    record('ok', 'Cluster reachable, target found', `deployment/${found.deployment}: ${found.readyReplicas}/${found.replicas} ready, revision ${found.revision}, ${found.image}`, 'target');
    if (!found.healthy) {
      throw new DeploymentFailed(`pre-deploy check failed: deployment/${found.deployment} is not healthy: ${found.problems.join('; ') || 'unknown reason'}`);
    }
    if (!found.revisions.includes(found.revision) || found.revision < 1) {
      throw new DeploymentFailed(`rollback readiness failed: revision ${found.revision} of deployment/${found.deployment} is not in its ReplicaSet history, so there is nothing to roll back to`);
    }
    const migrationNote = spec.migrations
      ? spec.migrations.rollbackCommand
        ? `; migrations roll back with: ${spec.migrations.rollbackCommand.join(' ')} (image ${found.image})`
        : '; migrations are NOT rolled back (no migrations.rollbackCommand in the spec)'
      : '';
    state.rollback.readiness = `Verified: revision ${found.revision} (${releaseOfImage(found.image)}) to return to${migrationNote}`;
    if (spec.migrations && !spec.migrations.rollbackCommand) state.issues.push('no migration rollback target: a rollback leaves the new schema in place');
    record(spec.migrations && !spec.migrations.rollbackCommand ? 'warning' : 'ok', 'Rollback readiness', state.rollback.readiness, 'readiness');
    if (spec.metrics) {
      try {
        state.baseline = await call(QUICK_CALL, 'captureBaseline', 'Pre-deploy check: capture the metrics baseline', {
          prometheusUrl: spec.metrics.prometheusUrl,
          checks: spec.metrics.checks,
        });
        const missing = state.baseline.values.filter((v) => v.outcome !== 'ok');
        record(missing.length ? 'warning' : 'ok', 'Baseline metrics captured', missing.length ? `no value for: ${missing.map((m) => `${m.name} (${m.outcome})`).join(', ')}` : `${state.baseline.values.length} metrics`, 'baseline');
      } catch (err) {
        throw new DeploymentFailed(`pre-deploy check failed: cannot capture the baseline metrics: ${messageOf(err)}`);
      }
    }
    await notify('started', 'info', `Deployment started: ${spec.service} ${spec.release}`, `${spec.service} ${releaseOfImage(found.image)} → ${spec.release} in ${spec.namespace}, by ${state.requestedBy}${spec.change ? ` (${spec.change.reference})` : ''}`);
  };

  const backup = async () => {
    if (!spec.database) return;
    enter('BACKUP');
    record('started', 'Database backup started', undefined, 'backup-started');
    try {
      state.backup = await call({ ...LONG_RUNNING }, 'backupDatabase', 'Database backup (pg_dump)', {
        service: spec.service,
        release: spec.release,
        namespace: spec.namespace,
        databaseUrl: spec.database.url,
        store: spec.database.backup.store,
        mode: spec.database.backup.mode,
        ...(spec.database.backup.pod ? { pod: spec.database.backup.pod } : {}),
      });
    } catch (err) {
      throw new DeploymentFailed(`database backup failed: ${messageOf(err)}`);
    }
    record('ok', 'Database backup completed', `${state.backup.location} (${state.backup.sizeBytes} bytes, ${state.backup.tocEntries} entries)`, 'backup');
  };

  const migrate = async () => {
    if (!spec.migrations) return;
    enter('MIGRATE');
    record('started', 'Migrations started', spec.migrations.command.join(' '), 'migrations-started');
    // Registered before the Job runs: a cancelled Job may have applied part of it, and migrating
    // to the rollback target is idempotent.
    if (spec.migrations.rollbackCommand) state.compensations.push('migrations');
    const failWith = (why: string) =>
      new DeploymentFailed(`migrations failed: ${why}${state.backup ? `; the backup taken before them is at ${state.backup.location}` : ''}`);
    try {
      state.migrations = await call(
        { ...LONG_RUNNING, startToCloseTimeout: spec.migrations.timeoutMs + DEADLINE_MARGIN_MS },
        'runMigrations',
        `Migrations: ${spec.migrations.command.join(' ')}`,
        {
          namespace: spec.namespace,
          jobName: jobName('migrate', spec, state.firstRunId),
          image: spec.image,
          command: spec.migrations.command,
          env: spec.migrations.env,
          timeoutMs: spec.migrations.timeoutMs,
        },
      );
    } catch (err) {
      if (isCancellation(err)) throw err;
      throw failWith(messageOf(err));
    }
    if (!state.migrations.succeeded) throw failWith(`job ${state.migrations.jobName} did not succeed: ${state.migrations.logTail.slice(-300)}`);
    record('ok', 'Migrations applied successfully', state.migrations.applied.join(', ') || 'nothing to apply', 'migrations');
  };

  const rollout = async () => {
    enter('ROLLOUT');
    const steps = planRollout(state.target!.replicas, spec.kubernetes.stepPods);
    state.rollout.steps = steps.length;
    state.compensations.push('rollout');
    recordTraffic([], { newPods: 0, oldPods: state.target!.replicas, newPercent: 0 });
    for (const step of steps) {
      if (state.paused) {
        record('info', `Rollout held before step ${step.index} (paused)`, undefined, `held:${step.index}`);
        await condition(() => !state.paused);
      }
      state.rollout.step = step.index;
      record('started', `Rollout step ${step.index}/${steps.length}: ${step.targetNewPods} pod(s) on ${spec.release} (${step.percent}%)`, undefined, `step-started:${step.index}`);
      let progress: RolloutProgress;
      try {
        progress = await call(
          { ...LONG_RUNNING, startToCloseTimeout: spec.kubernetes.progressDeadlineMs + DEADLINE_MARGIN_MS },
          'rolloutStep',
          `Rollout step ${step.index}/${steps.length}: ${step.percent}% on ${spec.release}`,
          {
            step: {
              ...target,
              image: spec.image,
              release: spec.release,
              targetNewPods: step.targetNewPods,
              progressDeadlineMs: spec.kubernetes.progressDeadlineMs,
              ...(spec.kubernetes.manifest ? { manifest: spec.kubernetes.manifest } : {}),
            },
            probe,
          },
        );
      } catch (err) {
        if (isCancellation(err)) throw err;
        throw new RollbackNeeded('rollout-failed', `rollout step ${step.index} failed: ${messageOf(err)}`);
      }
      timeline.addAll('ROLLOUT', progress.events);
      state.rollout.newReady = progress.newReady;
      mergeAvailability(progress.availability);
      recordTraffic(progress.traffic, {
        newPods: progress.newReady,
        oldPods: progress.oldReady,
        newPercent: progress.replicas ? Math.round((progress.newReady / progress.replicas) * 100) : 100,
      });
      record('ok', `Step ${step.index} deployed: ${progress.newReady}/${progress.replicas} pods on ${spec.release}`, undefined, `step:${step.index}`);
      if (progress.availability && progress.availability.failures > 0) {
        throw new RollbackNeeded('rollout-failed', `availability probe failed ${progress.availability.failures} of ${progress.availability.probes} times during step ${step.index}`);
      }
      await stepHealthWindow(step.index);
    }
    record('ok', `All pods running ${spec.release}`, undefined, 'rollout-complete');
  };

  /** The health window after a step: alert rules + health check each interval; a bad step rolls back at once. */
  const stepHealthWindow = async (index: number) => {
    const windowMs = spec.kubernetes.stepWindowMs;
    if (windowMs <= 0) return;
    const endsAt = Date.now() + windowMs;
    record('started', `Health window for step ${index} (${formatDuration(windowMs)})`, undefined, `window-started:${index}`);
    let alerts = initialAlertStates(spec.watch.rules);
    for (;;) {
      const [health, evaluations] = await Promise.all([
        call(WATCH_CHECK, 'checkStepHealth', `Health check, step ${index}`, { target, probe }).catch((err: unknown) => {
          if (isCancellation(err)) throw err;
          return { error: messageOf(err) };
        }),
        spec.metrics
          ? call(WATCH_CHECK, 'evaluateAlertRules', `Alert rules, step ${index}`, { prometheusUrl: spec.metrics.prometheusUrl, rules: spec.watch.rules }).catch((err: unknown) => {
              if (isCancellation(err)) throw err;
              return undefined;
            })
          : Promise.resolve([]),
      ]);
      if ('error' in health) {
        throw new RollbackNeeded('rollout-failed', `health check failed in the window of step ${index}: ${health.error}`);
      }
      mergeAvailability(health.availability);
      if (!health.target.healthy) {
        throw new RollbackNeeded('rollout-failed', `step ${index} is not healthy: ${health.target.problems.join('; ')}`);
      }
      if (health.availability.failures > 0) {
        throw new RollbackNeeded('rollout-failed', `health endpoint failed ${health.availability.failures} of ${health.availability.probes} probes after step ${index}`);
      }
      if (evaluations) {
        const result = evaluateAlerts(alerts, spec.watch.rules, evaluations, Date.now(), spec.watch, { holdRollback: true });
        alerts = result.alerts;
        const bad = firingCritical(alerts);
        if (bad.length) {
          throw new RollbackNeeded('alert', `${bad.map((a) => a.rule).join(', ')} firing in the health window of step ${index}`);
        }
      }
      const left = endsAt - Date.now();
      if (left <= 0) break;
      await condition(() => state.rollbackRequest !== undefined, Math.min(spec.watch.intervalMs, left));
    }
    record('ok', `Health check passed - step ${index}`, `${state.rollout.newReady} pod(s) on ${spec.release}`, `window:${index}`);
  };

  const verifyPods = async () => {
    enter('VERIFY_PODS');
    const pods = await call(QUICK_CALL, 'verifyPods', `Verify pods run ${spec.release}`, { ...target, image: spec.image, maxRestarts: spec.kubernetes.maxRestarts }).catch(
      (err: unknown) => rethrowOr(err, 'verify-failed', 'verifying pods failed'),
    );
    state.pods = pods;
    record(pods.ok ? 'ok' : 'failed', pods.ok ? `All pods running ${spec.release}` : 'Pod verification failed', pods.summary, 'pods');
    if (!pods.ok) throw new RollbackNeeded('verify-failed', `pods are not all running ${spec.release}: ${pods.summary}`);
    if (spec.kubernetes.logErrorPatterns.length) {
      const scan = await call(QUICK_CALL, 'scanPodLogs', 'Scan the new pods\u2019 logs for errors', { ...target, image: spec.image, patterns: spec.kubernetes.logErrorPatterns }).catch(
        (err: unknown) => rethrowOr(err, 'logs', 'scanning pod logs failed'),
      );
      state.logScan = scan;
      if (scan.errorLines.length) {
        record('failed', 'Errors in logs', `${scan.errorLines.length} line(s), first: ${scan.errorLines[0]!.pod}: ${scan.errorLines[0]!.line}`, 'logs');
        throw new RollbackNeeded('logs', `${scan.errorLines.length} error line(s) in the new pods' logs`);
      }
      record('ok', 'No errors in logs', `${scan.podsScanned} pod(s) scanned`, 'logs');
    }
  };

  const smoke = async () => {
    if (!spec.smoke) return;
    enter('SMOKE');
    record('started', 'Smoke tests started', spec.smoke.suite.name, 'smoke-started');
    const result = await call({ ...LONG_RUNNING }, 'runSmokeSuite', `Smoke suite ${spec.smoke.suite.name} on ${spec.release}`, {
      suite: spec.smoke.suite,
      baseUrl: spec.smoke.baseUrl,
      secrets: spec.smoke.secrets,
      release: spec.release,
    }).catch((err: unknown) => rethrowOr(err, 'smoke-failed', 'the smoke suite could not run'));
    state.smoke = result;
    const failed = result.steps.filter((s) => !s.ok);
    record(result.passed ? 'ok' : 'failed', result.passed ? 'Smoke tests passed' : 'Smoke tests failed', result.passed ? `${result.steps.length} steps, avg ${Math.round(result.averageMs)}ms` : failed.map((s) => `${s.name}: ${s.detail}`).join('; '), 'smoke');
    if (!result.passed) throw new RollbackNeeded('smoke-failed', `smoke tests failed: ${failed.map((s) => s.name).join(', ')}`);
  };

  const metrics = async () => {
    if (!spec.metrics || !state.baseline) return;
    enter('METRICS');
    const comparison = await call(QUICK_CALL, 'compareMetrics', 'Compare metrics with the baseline', {
      prometheusUrl: spec.metrics.prometheusUrl,
      checks: spec.metrics.checks,
      baseline: state.baseline,
    }).catch((err: unknown) => rethrowOr(err, 'metrics-regression', 'comparing metrics failed'));
    state.comparison = comparison;
    const bad = comparison.rows.filter((r) => !r.ok);
    record(comparison.ok ? 'ok' : 'failed', comparison.ok ? 'No performance degradation detected' : 'Metrics regression', (comparison.ok ? comparison.rows : bad).map((r) => r.text + (r.reason ? ` (${r.reason})` : '')).join('; '), 'metrics');
    if (!comparison.ok) throw new RollbackNeeded('metrics-regression', `metrics regressed against the baseline: ${bad.map((r) => r.name).join(', ')}`);
  };

  const forward = async () => {
    await precheck();
    await backup();
    await migrate();
    await rollout();
    await verifyPods();
    await smoke();
    await metrics();
    enter('REPORT');
    record('ok', 'Deployment complete', `${spec.release}: ${availabilitySentence(state.availability)}`, 'deployment-complete');
    await writeReport('Deployment report written');
    await notify('completed', 'info', `Deployment complete: ${spec.service} ${spec.release}`, `${spec.service} ${spec.release} is live in ${spec.namespace}: ${availabilitySentence(state.availability)}. Watching for ${formatDuration(spec.watch.durationMs)}.`);
  };

  // ------------------------------------------------------------ watch window
  const watchWindow = async (): Promise<void> => {
    enter('WATCH');
    if (!state.watch) {
      const start = Date.now();
      state.watch = {
        startedAt: new Date(start).toISOString(),
        endsAt: new Date(start + spec.watch.durationMs + extendedBeforeWatchMs).toISOString(),
        alertsFired: [],
        checks: 0,
      };
      state.alerts = initialAlertStates(spec.watch.rules);
      record('started', `Watch window started (${formatDuration(spec.watch.durationMs + extendedBeforeWatchMs)})`, `checks every ${formatDuration(spec.watch.intervalMs)}, auto-rollback ${spec.watch.autoRollback ? 'on' : 'off'}`, 'watch-started');
    }
    const watch = state.watch;
    for (;;) {
      if (state.rollbackRequest || watch.outcome) return;
      if (Date.now() >= Date.parse(watch.endsAt)) {
        watch.outcome = 'completed';
        return;
      }
      if (spec.metrics && spec.watch.rules.length) await watchCheck();
      if (state.rollbackRequest || watch.outcome) return;
      if (state.checksThisRun >= CHECKS_PER_RUN || workflowInfo().historyLength >= HISTORY_BUDGET || workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        if (state.rollbackRequest || watch.outcome) return;
        return continueAsNew<typeof deploymentWorkflow>({ ...input, carried: state });
      }
      const seen = wakeUps;
      const left = Date.parse(watch.endsAt) - Date.now();
      await condition(() => wakeUps !== seen, Math.min(spec.watch.intervalMs, Math.max(left, 1)));
    }
  };

  const watchCheck = async () => {
    const watch = state.watch!;
    let evaluations: RuleEvaluation[];
    try {
      evaluations = await call(WATCH_CHECK, 'evaluateAlertRules', `Watch check ${watch.checks + 1}`, { prometheusUrl: spec.metrics!.prometheusUrl, rules: spec.watch.rules });
    } catch (err) {
      if (isCancellation(err)) throw err;
      record('warning', 'Alert rules could not be evaluated', messageOf(err), `eval-failed:${Math.floor(watch.checks / 60)}`);
      evaluations = [];
    }
    watch.checks++;
    state.checksThisRun++;
    const result = evaluateAlerts(state.alerts, spec.watch.rules, evaluations, Date.now(), spec.watch, { holdRollback: state.paused });
    state.alerts = result.alerts;
    for (const action of result.actions) await applyAlertAction(action);
  };

  /** An alert's value in its rule's unit ("21.6%", "640ms"), as the runbook and the report show it. */
  const valueText = (rule: string, value: number | null): string => {
    if (value === null) return 'n/a';
    return formatMetric(value, spec.watch.rules.find((r) => r.name === rule)?.unit ?? 'none');
  };

  const applyAlertAction = async (action: AlertAction) => {
    const alert = state.alerts.find((a) => a.rule === action.rule);
    const since = alert?.firingSince ?? alert?.activeSince ?? '';
    switch (action.kind) {
      case 'pending':
        record('warning', `Alert pending: ${action.rule}`, `value ${valueText(action.rule, action.value)}`, `pending:${action.rule}:${since}`);
        return;
      case 'fired':
        state.watch!.alertsFired.push({ rule: action.rule, severity: action.severity, firedAt: since, value: action.value });
        record(action.severity === 'critical' ? 'failed' : 'warning', `Alert firing: ${action.rule} (${action.severity})`, `value ${valueText(action.rule, action.value)}`, `fired:${action.rule}:${since}`);
        return;
      case 'cleared':
        record('info', action.wasFiring ? `Alert resolved: ${action.rule}` : `Alert cleared before its for: ${action.rule}`, undefined);
        return;
      case 'unknown':
        record('warning', `No value for ${action.rule} (${action.outcome})`, action.error, `unknown:${action.rule}:${action.outcome}:${Math.floor(state.watch!.checks / 120)}`);
        return;
      case 'page':
        record('warning', `Paged on-call: ${action.rule} firing for ${formatDuration(action.firingForMs)}`, undefined, `page:${action.rule}:${since}`);
        await notify('paged', 'critical', `${action.rule} firing on ${spec.service} ${spec.release}`, `${action.rule} has been firing for ${formatDuration(action.firingForMs)} (value ${valueText(action.rule, action.value)}). ${spec.watch.autoRollback ? `Auto-rollback after ${formatDuration(spec.watch.rollbackAfterMs)} of firing.` : 'Auto-rollback is off: roll back with `shipwatch rollback` if needed.'}`);
        return;
      case 'decide':
        if (action.why === 'paused') {
          record('warning', `Auto-rollback held: ${action.rule} firing, deployment paused`, undefined, `held:${action.rule}:${since}`);
          return;
        }
        record('warning', `Decision needed: ${action.rule} firing for ${formatDuration(action.firingForMs)}, auto-rollback off`, undefined, `decide:${action.rule}:${since}`);
        await notify('paged', 'critical', `Decision needed: ${spec.service} ${spec.release}`, `${action.rule} has been firing for ${formatDuration(action.firingForMs)}. Auto-rollback is off: run \`shipwatch rollback\` or \`shipwatch promote\`.`);
        return;
      case 'rollback':
        requestRollback('alert', `${action.rule} firing for ${formatDuration(action.firingForMs)} (value ${valueText(action.rule, action.value)})`, 'shipwatch (escalation policy)');
        return;
    }
  };

  // ------------------------------------------------------------ rollback procedure (saga)
  const rollBack = async () => {
    const request = state.rollbackRequest!;
    const phaseBefore = state.phase;
    enter('ROLLBACK');
    const started = Date.now();
    const failedSteps: string[] = [];
    state.rollback = {
      ...state.rollback,
      required: true,
      reason: request.reason,
      requestedBy: request.requestedBy,
      trigger: request.trigger,
      startedAt: new Date(started).toISOString(),
    };
    if (state.watch && !state.watch.endedAt) {
      state.watch.outcome = 'rolled_back';
      state.watch.endedAt = new Date(started).toISOString();
    }
    record('started', 'Rollback started', `${request.reason} (by ${request.requestedBy}, during ${phaseBefore})`, 'rollback-started');
    const previous = state.target;
    const step = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        failedSteps.push(`${name}: ${messageOf(err)}`);
        record('failed', `Rollback step failed: ${name}`, messageOf(err), `rollback-failed:${name}`);
      }
    };
    if (state.compensations.includes('rollout') && previous) {
      await step('rollout undo', async () => {
        const result = await call(
          { ...ROLLBACK_STEP, startToCloseTimeout: spec.kubernetes.progressDeadlineMs + DEADLINE_MARGIN_MS },
          'rollbackDeployment',
          `Rollback: rollout undo to revision ${previous.revision} (${releaseOfImage(previous.image)})`,
          {
            rollback: { ...target, toRevision: previous.revision, expectedImage: previous.image, progressDeadlineMs: spec.kubernetes.progressDeadlineMs },
            probe,
          },
        );
        timeline.addAll('ROLLBACK', result.events);
        mergeAvailability(result.availability);
        recordTraffic(result.traffic, { newPods: 0, oldPods: previous.replicas, newPercent: 0 });
        state.rollout.newReady = 0;
        record('ok', `Rollout undone: revision ${result.revision} (${result.image})`, undefined, 'rollback-undo');
      });
      await step('verify old version', async () => {
        const pods = await call(QUICK_CALL, 'verifyPods', `Rollback: verify pods run ${releaseOfImage(previous.image)}`, { ...target, image: previous.image, maxRestarts: spec.kubernetes.maxRestarts });
        record(pods.ok ? 'ok' : 'failed', pods.ok ? `Old version running: ${releaseOfImage(previous.image)}` : 'Old version not running', pods.summary, 'rollback-verify');
        if (!pods.ok) throw new Error(pods.summary);
      });
    } else {
      record('info', 'Nothing rolled out yet: no rollout undo needed', undefined, 'rollback-no-undo');
    }
    if (state.compensations.includes('migrations') && spec.migrations?.rollbackCommand && previous) {
      const command = spec.migrations.rollbackCommand;
      await step('migration rollback', async () => {
        const result = await call(
          { ...ROLLBACK_STEP, startToCloseTimeout: spec.migrations!.timeoutMs + DEADLINE_MARGIN_MS },
          'rollbackMigrations',
          `Rollback: ${command.join(' ')}`,
          {
            namespace: spec.namespace,
            jobName: jobName('migrate-rollback', spec, state.firstRunId),
            image: previous.image,
            command,
            env: spec.migrations!.env,
            timeoutMs: spec.migrations!.timeoutMs,
          },
        );
        if (!result.succeeded) throw new Error(`job ${result.jobName} failed: ${result.logTail.slice(-300)}`);
        state.rollback.migrationsRolledBack = true;
        record('ok', 'Migrations rolled back', command.join(' '), 'rollback-migrations');
      });
    }
    if (spec.smoke && previous) {
      await step('smoke tests on the old version', async () => {
        const result = await call(ROLLBACK_STEP, 'runSmokeSuite', `Rollback: smoke suite on ${releaseOfImage(previous.image)}`, {
          suite: spec.smoke!.suite,
          baseUrl: spec.smoke!.baseUrl,
          secrets: spec.smoke!.secrets,
          release: releaseOfImage(previous.image),
        });
        state.rollback.smokeAfterRollback = result;
        record(result.passed ? 'ok' : 'failed', result.passed ? 'Smoke tests passed on the old version' : 'Smoke tests failed on the old version', undefined, 'rollback-smoke');
        if (!result.passed) throw new Error(result.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`).join('; '));
      });
    }
    const finished = Date.now();
    state.rollback.finishedAt = new Date(finished).toISOString();
    state.rollback.durationMs = finished - started;
    state.rollback.succeeded = failedSteps.length === 0;
    if (failedSteps.length) state.rollback.failedSteps = failedSteps;
    state.issues.push(`rolled back (${request.trigger}): ${request.reason}`);
    if (failedSteps.length === 0) {
      state.outcome = 'ROLLED_BACK';
      record('ok', `Rollback complete in ${formatDuration(state.rollback.durationMs)}`, `back on ${previous ? releaseOfImage(previous.image) : 'the previous version'}`, 'rollback-complete');
      await notify('rolled_back', 'warning', `Rolled back: ${spec.service} ${spec.release}`, `${request.reason} (by ${request.requestedBy}). Back on ${previous ? releaseOfImage(previous.image) : 'the previous version'} in ${formatDuration(state.rollback.durationMs)}.`);
    } else {
      state.outcome = 'MANUAL_ACTION_REQUIRED';
      state.issues.push(...failedSteps.map((f) => `rollback step failed: ${f}`));
      record('failed', 'Rollback failed: manual action required', failedSteps.join('; '), 'manual-action');
      await notify('manual_action', 'critical', `MANUAL ACTION REQUIRED: ${spec.service} rollback failed`, `Rolling back ${spec.release} (${request.reason}) failed: ${failedSteps.join('; ')}. See the timeline of deployment ${state.deploymentId}.`);
    }
  };

  // ------------------------------------------------------------ the run
  const forwardThenWatch = async () => {
    if (!resumed) await forward();
    await watchWindow();
  };

  try {
    await interruptible(forwardThenWatch, () => state.rollbackRequest !== undefined);
  } catch (err) {
    if (err instanceof DeploymentFailed) {
      state.outcome = 'FAILED';
      state.issues.push(err.reason);
      record('failed', 'Deployment failed', err.reason, 'deployment-failed');
      await CancellationScope.nonCancellable(async () => {
        await notify('failed', 'critical', `Deployment failed: ${spec.service} ${spec.release}`, `${err.reason}. Nothing was rolled out.`);
      });
    } else if (err instanceof RollbackNeeded) {
      requestRollback(err.trigger, err.reason, 'shipwatch');
    } else if (isCancellation(err)) {
      // A cancelled deployment (Web UI, `temporal workflow cancel`) is rolled back, never left half-done.
      requestRollback('signal', 'deployment cancelled', 'temporal cancellation');
    } else {
      throw err;
    }
  }
  return CancellationScope.nonCancellable(async () => {
    if (state.rollbackRequest && state.outcome === 'IN_PROGRESS') await rollBack();
    if (state.outcome === 'IN_PROGRESS') {
      state.outcome = 'SUCCEEDED';
      const watch = state.watch!;
      watch.endedAt = new Date().toISOString();
      record('ok', watch.outcome === 'promoted' ? `Watch window ended early: promoted by ${watch.promotedBy ?? 'unknown'}` : 'Watch window completed', `${watch.checks} checks, ${watch.alertsFired.length} alert(s) fired`, 'watch-ended');
    }
    state.finishedAt = new Date().toISOString();
    enter('DONE');
    upsertSearchAttributes([{ key: searchAttributes.outcome, value: state.outcome }]);
    await scheduleReviewReminder();
    await writeReport('Final report written');
    if (state.outcome === 'FAILED') {
      throw ApplicationFailure.create({ type: DEPLOYMENT_FAILED, message: state.issues[state.issues.length - 1] ?? 'deployment failed', nonRetryable: true, details: [buildReport(state, spec)] });
    }
    return buildReport(state, spec);
  });

  /** Starts the post-deployment review reminder as an abandoned child: this deployment closes now. */
  async function scheduleReviewReminder() {
    if (spec.watch.reviewAfterMs <= 0 || state.reviewReminder) return;
    const at = new Date(Date.parse(state.startedAt) + spec.watch.reviewAfterMs).toISOString();
    const workflowId = `${state.deploymentId}-review-${state.firstRunId}`;
    try {
      await startChild(reviewReminderWorkflow, {
        workflowId,
        args: [{ deploymentId: state.deploymentId, service: spec.service, namespace: spec.namespace, release: spec.release, outcome: state.outcome, at, channels: spec.notifications }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `Post-deployment review reminder: ${spec.service} ${spec.release}`,
      });
      state.reviewReminder = { workflowId, at };
      record('info', 'Post-deployment review scheduled', `reminder at ${at}`, 'review-scheduled');
    } catch (err) {
      record('warning', 'Post-deployment review reminder not scheduled', messageOf(err), 'review-scheduled');
    }
  }
}

/**
 * Runs `fn` in a cancellable scope that is cancelled as soon as `stop()` holds, so a rollback
 * request interrupts a running rollout step (whose activity waits for its cancellation).
 */
async function interruptible(fn: () => Promise<void>, stop: () => boolean): Promise<void> {
  const work = new CancellationScope();
  const watcher = new CancellationScope();
  const watching = watcher
    .run(async () => {
      await condition(stop);
      work.cancel();
    })
    .catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
    });
  try {
    await work.run(fn);
  } catch (err) {
    if (isCancellation(err) && stop()) return;
    throw err;
  } finally {
    watcher.cancel();
    await watching;
  }
}

function refuseWith(reason: string | undefined): void {
  if (reason) throw new Error(reason);
}

function rethrowOr(err: unknown, trigger: RollbackTrigger, what: string): never {
  if (isCancellation(err)) throw err;
  throw new RollbackNeeded(trigger, `${what}: ${messageOf(err)}`);
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message && cause.message !== err.message ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/** Deterministic per deployment, so a retried activity finds the Job it already created. */
function jobName(kind: string, spec: DeploySpec, runId: string): string {
  return `${spec.service}-${kind}-${runId.replace(/[^a-z0-9]/g, '').slice(0, 8)}`.slice(0, 63);
}

export type { ActivityEvent };
