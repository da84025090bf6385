/** Step 4: every pod runs the new image and is ready, and (when the spec lists patterns) their logs show no errors. */
import { QUICK_CALL } from '../../activities/options';
import type { DeploymentContext } from './context';
import { RollbackNeeded, rollbackOnFailure } from './failures';

export async function verifyPods(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  ctx.enter('VERIFY_PODS');
  const pods = await ctx
    .runActivity('verifyPods', { ...ctx.ref, image: spec.image, maxRestarts: spec.kubernetes.maxRestarts }, { options: QUICK_CALL, summary: `Verify pods run ${spec.release}` })
    .catch(rollbackOnFailure('verify-failed', 'verifying pods failed'));
  state.pods = pods;
  ctx.record(pods.ok ? 'ok' : 'failed', pods.ok ? `All pods running ${spec.release}` : 'Pod verification failed', pods.summary, 'pods');
  if (!pods.ok) throw new RollbackNeeded('verify-failed', `pods are not all running ${spec.release}: ${pods.summary}`);
  await scanLogs(ctx);
}

async function scanLogs(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  const patterns = spec.kubernetes.logErrorPatterns;
  if (!patterns.length) return;
  const scan = await ctx
    .runActivity('scanPodLogs', { ...ctx.ref, image: spec.image, patterns }, { options: QUICK_CALL, summary: 'Scan the new pods\u2019 logs for errors' })
    .catch(rollbackOnFailure('logs', 'scanning pod logs failed'));
  state.logScan = scan;
  const first = scan.errorLines[0];
  if (first) {
    ctx.record('failed', 'Errors in logs', `${scan.errorLines.length} line(s), first: ${first.pod}: ${first.line}`, 'logs');
    throw new RollbackNeeded('logs', `${scan.errorLines.length} error line(s) in the new pods' logs`);
  }
  ctx.record('ok', 'No errors in logs', `${scan.podsScanned} pod(s) scanned`, 'logs');
}
