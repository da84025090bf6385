/**
 * Step 4: every pod runs the new image and is ready, (when the spec lists patterns) their logs show
 * no errors, and (when the spec names one) the public entry point routes to the new release.
 */
import { isCancellation, patched } from '@temporalio/workflow';
import { QUICK_CALL } from '../../activities/options';
import type { EntryPointResult } from '../../activities/types';
import { ENTRY_POINT_EVENT_KEY, entryPointEvent } from '../../report/entry-point';
import type { DeploymentContext } from './context';
import { messageOf, RollbackNeeded, rollbackOnFailure } from './failures';

/** The public entry point check after the pods (behind a patch: older histories have no such activity). */
export const ENTRY_POINT_PATCH = 'entry-point';

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
  if (spec.entryPoint && patched(ENTRY_POINT_PATCH)) await checkEntryPoint(ctx);
}

/**
 * The Ingress or HTTPRoute routes the public host to the Service, and the health step through it
 * answers as the new release. A wrong or missing route rolls back (users cannot reach the release);
 * a check that could not run is a warning and an issue, never a pass.
 */
async function checkEntryPoint(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  const e = spec.entryPoint!;
  let result: EntryPointResult;
  try {
    result = await ctx.runActivity('checkEntryPoint', { entryPoint: e, release: spec.release }, { options: QUICK_CALL, summary: `Public entry point: ${e.host}${e.path} → Service ${e.service}` });
  } catch (err) {
    if (isCancellation(err)) throw err;
    result = { status: 'not_run', found: 'the check did not complete', detail: messageOf(err) };
  }
  const event = entryPointEvent(result, e);
  ctx.record(event.status, event.title, event.detail, ENTRY_POINT_EVENT_KEY);
  if (result.status === 'failed') throw new RollbackNeeded('verify-failed', `public entry point ${e.host}${e.path}: ${result.detail}`);
  if (result.status === 'not_run') state.issues.push(`${event.title}: ${result.detail}`);
}

async function scanLogs(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  const patterns = spec.kubernetes.logErrorPatterns;
  if (!patterns.length) return;
  const scan = await ctx
    .runActivity('scanPodLogs', { ...ctx.ref, image: spec.image, patterns }, { options: QUICK_CALL, summary: 'Scan the new pods\u2019 logs for errors' })
    .catch(rollbackOnFailure('logs', 'scanning pod logs failed'));
  state.logScan = scan;
  for (const w of scan.waited ?? []) ctx.record('info', `Waited ${(w.ms / 1000).toFixed(1)}s for the log of pod ${w.pod}`, w.why, `log-wait:${w.pod}`);
  const first = scan.errorLines[0];
  if (first) {
    ctx.record('failed', 'Errors in logs', `${scan.errorLines.length} line(s), first: ${first.pod}: ${first.line}`, 'logs');
    throw new RollbackNeeded('logs', `${scan.errorLines.length} error line(s) in the new pods' logs`);
  }
  ctx.record('ok', 'No errors in logs', `${scan.podsScanned} pod(s) scanned`, 'logs');
}
