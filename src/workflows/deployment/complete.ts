/** The REPORT phase: the deployment is complete; the report is written and the team told, before the watch window opens. */
import { formatDuration } from '../../format';
import { availabilitySentence } from '../report';
import type { DeploymentContext } from './context';

export async function reportComplete(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  ctx.enter('REPORT');
  ctx.record('ok', 'Deployment complete', `${spec.release}: ${availabilitySentence(state.availability)}`, 'deployment-complete');
  await ctx.writeReport('Deployment report written');
  await ctx.notify({
    kind: 'completed',
    severity: 'info',
    title: `Deployment complete: ${spec.service} ${spec.release}`,
    text: `${spec.service} ${spec.release} is live in ${spec.namespace}: ${availabilitySentence(state.availability)}. Watching for ${formatDuration(spec.watch.durationMs)}.`,
  });
}
