/**
 * Pre-deployment verification (the seed's `pre-deploy-check.sh`): the approved plan is recorded,
 * the cluster answers and the Deployment is found healthy, rollback readiness is verified and the
 * metrics baseline is captured. Nothing changes here; any failure ends the deployment FAILED.
 */
import { QUICK_CALL } from '../../activities/options';
import { releaseOfImage } from '../../format';
import type { RollbackTarget } from '../../model';
import type { DeploySpec } from '../../spec/types';
import type { DeploymentContext } from './context';
import { DeploymentFailed, messageOf } from './failures';

export async function precheck(ctx: DeploymentContext): Promise<void> {
  const { spec, state, ref } = ctx;
  ctx.enter('PRECHECK');
  ctx.record('started', 'Deployment started', `${spec.service} ${spec.release} (${spec.image}) by ${state.requestedBy}`, 'deployment-started');
  recordApprovedPlan(ctx);
  let found: RollbackTarget;
  try {
    found = await ctx.runActivity('readTarget', ref, { options: QUICK_CALL, summary: `Pre-deploy check: read deployment/${ref.deployment}` });
  } catch (err) {
    throw new DeploymentFailed(`pre-deploy check failed: cannot read deployment/${ref.deployment} in ${ref.namespace}: ${messageOf(err)}`);
  }
  state.rollbackTarget = found;
  state.rollout.replicas = found.replicas;
  ctx.record('ok', 'Cluster reachable, target found', `deployment/${found.deployment}: ${found.readyReplicas}/${found.replicas} ready, revision ${found.revision}, ${found.image}`, 'target');
  if (!found.healthy) {
    throw new DeploymentFailed(`pre-deploy check failed: deployment/${found.deployment} is not healthy: ${found.problems.join('; ') || 'unknown reason'}`);
  }
  if (!found.revisions.includes(found.revision) || found.revision < 1) {
    throw new DeploymentFailed(`rollback readiness failed: revision ${found.revision} of deployment/${found.deployment} is not in its ReplicaSet history, so there is nothing to roll back to`);
  }
  state.rollback.readiness = rollbackReadiness(found, spec);
  const schemaStays = spec.migrations !== undefined && !spec.migrations.rollbackCommand;
  if (schemaStays) state.issues.push('no migration rollback target: a rollback leaves the new schema in place');
  ctx.record(schemaStays ? 'warning' : 'ok', 'Rollback readiness', state.rollback.readiness, 'readiness');
  await captureBaseline(ctx);
  await ctx.notify({
    kind: 'started',
    severity: 'info',
    title: `Deployment started: ${spec.service} ${spec.release}`,
    text: `${spec.service} ${releaseOfImage(found.image)} → ${spec.release} in ${spec.namespace}, by ${state.requestedBy}${spec.change ? ` (${spec.change.reference})` : ''}`,
  });
}

/** "Verified: revision 4 (v0.9.0) to return to; migrations roll back with: …", the report's rollback readiness line. */
export function rollbackReadiness(found: RollbackTarget, spec: DeploySpec): string {
  const migrationNote = spec.migrations
    ? spec.migrations.rollbackCommand
      ? `; migrations roll back with: ${spec.migrations.rollbackCommand.join(' ')} (image ${found.image})`
      : '; migrations are NOT rolled back (no migrations.rollbackCommand in the spec)'
    : '';
  return `Verified: revision ${found.revision} (${releaseOfImage(found.image)}) to return to${migrationNote}`;
}

function recordApprovedPlan(ctx: DeploymentContext): void {
  const { change } = ctx.spec;
  if (change) {
    ctx.record('ok', 'Approved plan recorded', `${change.reference}${change.approvedBy ? ` approved by ${change.approvedBy}` : ''}${change.url ? ` (${change.url})` : ''}`, 'change');
  } else {
    ctx.record('warning', 'No approved plan referenced', 'the spec has no change.reference');
    ctx.state.issues.push('no approved plan (change.reference) in the spec');
  }
}

/** The pre-deploy metrics the METRICS phase compares against; a baseline that cannot be read stops the deployment. */
async function captureBaseline(ctx: DeploymentContext): Promise<void> {
  const { metrics } = ctx.spec;
  if (!metrics) return;
  try {
    const baseline = await ctx.runActivity('captureBaseline', { prometheusUrl: metrics.prometheusUrl, checks: metrics.checks }, { options: QUICK_CALL, summary: 'Pre-deploy check: capture the metrics baseline' });
    ctx.state.baseline = baseline;
    const missing = baseline.values.filter((v) => v.outcome !== 'ok');
    ctx.record(missing.length ? 'warning' : 'ok', 'Baseline metrics captured', missing.length ? `no value for: ${missing.map((m) => `${m.name} (${m.outcome})`).join(', ')}` : `${baseline.values.length} metrics`, 'baseline');
  } catch (err) {
    throw new DeploymentFailed(`pre-deploy check failed: cannot capture the baseline metrics: ${messageOf(err)}`);
  }
}
