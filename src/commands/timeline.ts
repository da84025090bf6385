/** `shipwatch timeline <id> [--follow]`: every event of a deployment, live with --follow. */
import { describedDeployment } from '../cli/connect';
import { timelineOf, withClient } from '../cli/context';
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
    // The describe that finds the deployment holds its memo: the timeline is read from it, no second round trip.
    const { handle, description } = await describedDeployment(cli, opts.id);
    const { events } = await timelineOf(cli, handle, 0, description);
    if (opts.json) ctx.out.data(events);
    else for (const e of events) ctx.out.line(formatEvent(ctx.out, e));
    return ExitCode.OK;
  });
}
