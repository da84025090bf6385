/**
 * The rollback procedure (the seed's six steps) as a saga: each forward step that changes the
 * world registers its compensation once it may have changed something (`state.compensations`);
 * the rollback runs the compensations' steps in reverse order of registration, then smoke-tests
 * the old version. It runs non-cancellable; a step that fails is recorded and the procedure goes
 * on, ending in MANUAL_ACTION_REQUIRED. `planRollback` is the table (pure, unit-tested);
 * `rollBack` runs it.
 */
import { DEADLINE_MARGIN_MS, QUICK_CALL, ROLLBACK_STEP } from '../../activities/options';
import { formatDuration, releaseOfImage } from '../../format';
import type { RollbackTarget } from '../../model';
import type { Compensation } from '../state';
import type { DeploymentContext } from './context';
import { messageOf } from './failures';

/** One step of the rollback procedure, named as the timeline and the report name a failed one. */
export type RollbackStep = 'rollout undo' | 'verify old version' | 'migration rollback' | 'smoke tests on the old version';

/** The compensation table: what undoes each forward step, in the order its steps run. */
export const COMPENSATION_STEPS: Readonly<Record<Compensation, readonly RollbackStep[]>> = {
  rollout: ['rollout undo', 'verify old version'],
  migrations: ['migration rollback'],
};

/** What the plan depends on: what was registered, and what the rollback has to go back to. */
export interface RollbackFacts {
  compensations: readonly Compensation[];
  /** The Deployment as found before the rollout was recorded (nothing is undone without it). */
  hasRollbackTarget: boolean;
  /** The spec names `migrations.rollbackCommand`. */
  migrationRollbackCommand: boolean;
  /** The spec has a smoke suite, to run against the old version. */
  smokeSuite: boolean;
}

export interface RollbackPlan {
  steps: RollbackStep[];
  /** The rollout never started: there is no rollout to undo (said on the timeline). */
  nothingRolledOut: boolean;
}

/** The steps of the rollback, in the order they run: compensations last-registered first, then the smoke suite on the old version. */
export function planRollback(facts: RollbackFacts): RollbackPlan {
  const applies = (c: Compensation) => facts.hasRollbackTarget && (c !== 'migrations' || facts.migrationRollbackCommand);
  const registered = [...new Set(facts.compensations)].filter(applies).reverse();
  const steps = registered.flatMap((c) => COMPENSATION_STEPS[c]);
  if (facts.smokeSuite && facts.hasRollbackTarget) steps.push('smoke tests on the old version');
  return { steps, nothingRolledOut: !registered.includes('rollout') };
}

/** The rollback procedure: the plan's steps, each failure recorded, then the outcome and its notification. */
export async function rollBack(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  const request = state.rollbackRequest!;
  const phaseBefore = state.phase;
  ctx.enter('ROLLBACK');
  const started = Date.now();
  state.rollback = { ...state.rollback, required: true, reason: request.reason, requestedBy: request.requestedBy, trigger: request.trigger, startedAt: new Date(started).toISOString() };
  if (state.watch && !state.watch.endedAt) {
    state.watch.outcome = 'rolled_back';
    state.watch.endedAt = new Date(started).toISOString();
  }
  ctx.record('started', 'Rollback started', `${request.reason} (by ${request.requestedBy}, during ${phaseBefore})`, 'rollback-started');
  const previous = state.rollbackTarget;
  const plan = planRollback(factsOf(ctx));
  if (plan.nothingRolledOut) ctx.record('info', 'Nothing rolled out yet: no rollout undo needed', undefined, 'rollback-no-undo');
  const failedSteps: string[] = [];
  for (const step of plan.steps) {
    try {
      await STEPS[step](ctx, previous!);
    } catch (err) {
      failedSteps.push(`${step}: ${messageOf(err)}`);
      ctx.record('failed', `Rollback step failed: ${step}`, messageOf(err), `rollback-failed:${step}`);
    }
  }
  const schemaNote = schemaAhead(ctx, plan);
  const finished = Date.now();
  state.rollback.finishedAt = new Date(finished).toISOString();
  state.rollback.durationMs = finished - started;
  state.rollback.succeeded = failedSteps.length === 0;
  if (failedSteps.length) state.rollback.failedSteps = failedSteps;
  state.issues.push(`rolled back (${request.trigger}): ${request.reason}`);
  const backOn = previous ? releaseOfImage(previous.image) : 'the previous version';
  if (failedSteps.length === 0) {
    state.outcome = 'ROLLED_BACK';
    ctx.record('ok', `Rollback complete in ${formatDuration(state.rollback.durationMs)}`, `back on ${backOn}`, 'rollback-complete');
    await ctx.notify({ kind: 'rolled_back', severity: 'warning', title: `Rolled back: ${spec.service} ${spec.release}`, text: `${request.reason} (by ${request.requestedBy}). Back on ${backOn} in ${formatDuration(state.rollback.durationMs)}.${schemaNote ? ` ${schemaNote}` : ''}` });
  } else {
    state.outcome = 'MANUAL_ACTION_REQUIRED';
    state.issues.push(...failedSteps.map((f) => `rollback step failed: ${f}`));
    ctx.record('failed', 'Rollback failed: manual action required', failedSteps.join('; '), 'manual-action');
    await ctx.notify({
      kind: 'manual_action',
      severity: 'critical',
      title: `MANUAL ACTION REQUIRED: ${spec.service} rollback failed`,
      text: `Rolling back ${spec.release} (${request.reason}) failed: ${failedSteps.join('; ')}.${schemaNote ? ` ${schemaNote}` : ''} See the timeline of deployment ${state.deploymentId}.`,
    });
  }
}

function factsOf(ctx: DeploymentContext): RollbackFacts {
  const { spec, state } = ctx;
  return {
    compensations: state.compensations,
    hasRollbackTarget: state.rollbackTarget !== undefined,
    migrationRollbackCommand: spec.migrations?.rollbackCommand !== undefined,
    smokeSuite: spec.smoke !== undefined,
  };
}

type StepRun = (ctx: DeploymentContext, previous: RollbackTarget) => Promise<void>;

/** How each step runs; a step throws to say it failed. */
const STEPS: Record<RollbackStep, StepRun> = {
  'rollout undo': async (ctx, previous) => {
    const { spec, state } = ctx;
    const deadlineMs = spec.kubernetes.progressDeadlineMs;
    const result = await ctx.runActivity(
      'rollbackDeployment',
      { rollback: { ...ctx.ref, toRevision: previous.revision, expectedImage: previous.image, progressDeadlineMs: deadlineMs }, probe: ctx.probe },
      { options: { ...ROLLBACK_STEP, startToCloseTimeout: deadlineMs + DEADLINE_MARGIN_MS }, summary: `Rollback: rollout undo to revision ${previous.revision} (${releaseOfImage(previous.image)})` },
    );
    ctx.timeline.addAll('ROLLBACK', result.events);
    ctx.addAvailability(result.availability);
    ctx.recordTraffic(result.traffic, { newPods: 0, oldPods: previous.replicas, newPercent: 0 });
    state.rollout.newReady = 0;
    ctx.record('ok', `Rollout undone: revision ${result.revision} (${result.image})`, undefined, 'rollback-undo');
  },

  'verify old version': async (ctx, previous) => {
    const release = releaseOfImage(previous.image);
    const pods = await ctx.runActivity('verifyPods', { ...ctx.ref, image: previous.image, maxRestarts: ctx.spec.kubernetes.maxRestarts }, { options: QUICK_CALL, summary: `Rollback: verify pods run ${release}` });
    ctx.record(pods.ok ? 'ok' : 'failed', pods.ok ? `Old version running: ${release}` : 'Old version not running', pods.summary, 'rollback-verify');
    if (!pods.ok) throw new Error(pods.summary);
  },

  'migration rollback': async (ctx, previous) => {
    const { spec, state } = ctx;
    const migrations = spec.migrations!;
    const command = migrations.rollbackCommand!;
    const result = await ctx.runActivity(
      'rollbackMigrations',
      { namespace: spec.namespace, jobName: ctx.jobName('migrate-rollback'), runId: state.firstRunId, image: previous.image, command, env: migrations.env, timeoutMs: migrations.timeoutMs },
      { options: { ...ROLLBACK_STEP, startToCloseTimeout: migrations.timeoutMs + DEADLINE_MARGIN_MS }, summary: `Rollback: ${command.join(' ')}` },
    );
    if (!result.succeeded) throw new Error(`job ${result.jobName} failed: ${result.logTail.slice(-300)}`);
    state.rollback.migrationsRolledBack = true;
    ctx.record('ok', 'Migrations rolled back', command.join(' '), 'rollback-migrations');
  },

  'smoke tests on the old version': async (ctx, previous) => {
    const { suite, baseUrl, secrets } = ctx.spec.smoke!;
    const release = releaseOfImage(previous.image);
    const result = await ctx.runActivity('runSmokeSuite', { suite, baseUrl, secrets, release }, { options: ROLLBACK_STEP, summary: `Rollback: smoke suite on ${release}` });
    ctx.state.rollback.smokeAfterRollback = result;
    ctx.record(result.passed ? 'ok' : 'failed', result.passed ? 'Smoke tests passed on the old version' : 'Smoke tests failed on the old version', undefined, 'rollback-smoke');
    if (!result.passed) throw new Error(result.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`).join('; '));
  },
};

/**
 * A migration Job stopped by the rollback may have applied part of its migrations. With a
 * migration rollback in the plan it is undone; without one the schema may be ahead of the old
 * version: said on the timeline, in the issues and in the notification, with what to run.
 */
function schemaAhead(ctx: DeploymentContext, plan: RollbackPlan): string | undefined {
  const { spec, state } = ctx;
  if (!state.migrations?.stopped || plan.steps.includes('migration rollback')) return undefined;
  const restore = state.backup && spec.database ? `shipwatch restore --backup ${state.backup.location} --to ${spec.database.url} --yes` : undefined;
  const note = `The schema may be ahead of ${state.rollbackTarget ? releaseOfImage(state.rollbackTarget.image) : 'the old version'}: migration job ${state.migrations.jobName} was stopped while running and the spec has no migrations.rollbackCommand. Check the schema${restore ? `, and if needed restore the backup: ${restore}` : ' and repair it by hand (no backup was taken)'}.`;
  ctx.record('warning', 'Schema may be ahead of the old version', note, 'schema-ahead');
  state.issues.push(note);
  return note;
}
