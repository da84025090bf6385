/** `shipwatch status <id>`: phase, rollout progress, traffic split, alerts and time left in the watch. */
import { deploymentHandle } from '../cli/connect';
import { queryDeployment, withClient } from '../cli/context';
import type { CommandContext } from '../cli/context';
import { exitCodeFor } from '../cli/errors';
import { formatStatus } from '../cli/render';
import { statusQuery } from '../workflows/messages';

export async function statusCommand(opts: { id: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  const status = await withClient(ctx, async (cli) => {
    const handle = await deploymentHandle(cli, opts.id);
    return queryDeployment(cli, handle, statusQuery);
  });
  if (opts.json) ctx.out.data(status);
  else for (const line of formatStatus(ctx.out, status)) ctx.out.line(line);
  return exitCodeFor(status);
}
