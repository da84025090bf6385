/** `shipwatch timeline <id> [--follow]`: every event of a deployment, live with --follow. */
import { deploymentHandle } from '../cli/connect';
import { readTimeline, withClient } from '../cli/context';
import type { CommandContext } from '../cli/context';
import { ExitCode } from '../cli/errors';
import { followDeployment } from '../cli/follow';
import { formatEvent } from '../cli/render';

export interface TimelineOptions {
  id: string;
  follow?: boolean;
  json?: boolean;
  /** Poll interval for --follow. */
  intervalMs?: number;
}

export async function timelineCommand(opts: TimelineOptions, ctx: CommandContext): Promise<number> {
  return withClient(ctx, async (cli) => {
    if (opts.follow) return followDeployment(cli, opts.id, ctx, opts);
    const handle = await deploymentHandle(cli, opts.id);
    const events = await readTimeline(cli, handle);
    if (opts.json) ctx.out.data(events);
    else for (const e of events) ctx.out.line(formatEvent(ctx.out, e));
    return ExitCode.OK;
  });
}
