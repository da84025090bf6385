/** Step 5: the smoke suite against the new version; a failed suite rolls back. */
import { LONG_RUNNING } from '../../activities/options';
import type { DeploymentContext } from './context';
import { RollbackNeeded, rollbackOnFailure } from './failures';

export async function smoke(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  if (!spec.smoke) return;
  ctx.enter('SMOKE');
  const { suite, baseUrl, secrets } = spec.smoke;
  ctx.record('started', 'Smoke tests started', suite.name, 'smoke-started');
  const result = await ctx
    .runActivity('runSmokeSuite', { suite, baseUrl, secrets, release: spec.release }, { options: { ...LONG_RUNNING }, summary: `Smoke suite ${suite.name} on ${spec.release}` })
    .catch(rollbackOnFailure('smoke-failed', 'the smoke suite could not run'));
  state.smoke = result;
  const failed = result.steps.filter((s) => !s.ok);
  ctx.record(
    result.passed ? 'ok' : 'failed',
    result.passed ? 'Smoke tests passed' : 'Smoke tests failed',
    result.passed ? `${result.steps.length} steps, avg ${Math.round(result.averageMs)}ms` : failed.map((s) => `${s.name}: ${s.detail}`).join('; '),
    'smoke',
  );
  if (!result.passed) throw new RollbackNeeded('smoke-failed', `smoke tests failed: ${failed.map((s) => s.name).join(', ')}`);
}
