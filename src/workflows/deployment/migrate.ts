/**
 * Step 2: the database migrations, as a Kubernetes Job running the new image. The migration
 * rollback is registered as a compensation before the Job runs: a cancelled Job may have applied
 * part of it, and migrating to the rollback target is idempotent. A failure ends the deployment
 * FAILED (nothing is rolled out yet), naming the backup taken before.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, patched } from '@temporalio/workflow';
import { DEADLINE_MARGIN_MS, LONG_RUNNING } from '../../activities/options';
import type { DeploymentContext } from './context';
import { DeploymentFailed, RollbackNeeded, messageOf } from './failures';

export async function migrate(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  const migrations = spec.migrations;
  if (!migrations) return;
  ctx.enter('MIGRATE');
  ctx.record('started', 'Migrations started', migrations.command.join(' '), 'migrations-started');
  if (migrations.rollbackCommand) state.compensations.push('migrations');
  const failWith = (why: string) =>
    new DeploymentFailed(`migrations failed: ${why}${state.backup ? `; the backup taken before them is at ${state.backup.location}` : ''}`);
  try {
    state.migrations = await ctx.runActivity(
      'runMigrations',
      { namespace: spec.namespace, jobName: ctx.jobName('migrate'), runId: state.firstRunId, image: spec.image, command: migrations.command, env: migrations.env, timeoutMs: migrations.timeoutMs },
      { options: { ...LONG_RUNNING, startToCloseTimeout: migrations.timeoutMs + DEADLINE_MARGIN_MS }, summary: `Migrations: ${migrations.command.join(' ')}` },
    );
  } catch (err) {
    if (isCancellation(err) || state.rollbackRequest) stoppedByRollback(ctx, err);
    if (isCancellation(err)) throw err;
    // A Job that could not be stopped still goes to the rollback (it used to end FAILED): behind a patch.
    if (state.rollbackRequest && patched('migration-stop-rollback')) throw new RollbackNeeded(state.rollbackRequest.trigger, state.rollbackRequest.reason);
    keepThrownResult(ctx, err);
    throw failWith(messageOf(err));
  }
  const m = state.migrations;
  if (!m.succeeded) {
    ctx.record('failed', `Migration failed${m.failed ? `: ${m.failed}` : ''}`, `${m.reason ?? `job ${m.jobName} did not succeed`}; applied before: ${m.applied.join(', ') || 'none'}`, 'migrations-failed');
    throw failWith(`${m.failed ? `${m.failed} failed in ` : ''}${m.reason ?? `job ${m.jobName} did not succeed`}: ${m.logTail.trim().split('\n').slice(-3).join(' / ').slice(-300)}`);
  }
  ctx.record('ok', 'Migrations applied successfully', state.migrations.applied.join(', ') || 'nothing to apply', 'migrations');
}

/** An adapter that throws MigrationFailedError with the Job's results in its details (older workers): the report keeps them. */
function keepThrownResult(ctx: DeploymentContext, err: unknown): void {
  const details = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.details?.[0] : undefined;
  if (!details || typeof details !== 'object') return;
  const d = details as { jobName?: string; applied?: string[]; logTail?: string };
  if (typeof d.jobName !== 'string') return;
  ctx.state.migrations = { jobName: d.jobName, succeeded: false, applied: Array.isArray(d.applied) ? d.applied : [], durationMs: 0, logTail: d.logTail ?? '', reason: messageOf(err) };
}

/**
 * The migration Job was running when a rollback was requested: the adapter stopped it (deleted
 * with its pods) or says it could not. Either way it may have applied part of its migrations: the
 * state says so, for the rollback (which runs the migration rollback, or says what to run) and the report.
 */
function stoppedByRollback(ctx: DeploymentContext, err: unknown): void {
  const jobName = ctx.jobName('migrate');
  const stopped = isCancellation(err);
  ctx.state.migrations = {
    jobName,
    succeeded: false,
    applied: [],
    stopped: true,
    reason: stopped ? `stopped by the rollback (deleted with its pods) while running: it may have applied part of its migrations` : `not stopped by the rollback: ${messageOf(err)}`,
    durationMs: 0,
    logTail: '',
  };
  ctx.record(stopped ? 'warning' : 'failed', stopped ? `Migration job stopped: ${jobName}` : `Migration job NOT stopped: ${jobName}`, ctx.state.migrations.reason, 'migrations-stopped');
  if (!stopped) ctx.state.issues.push(`migration job ${jobName} could not be stopped: ${messageOf(err)}`);
}
