/** `shipwatch timeline <id> [--follow]`: every event of a deployment, live with --follow. */
import type { TimelineEvent } from '../activities/types';
import { deploymentHandle } from '../cli/connect';
import type { CliClient } from '../cli/connect';
import { queryDeployment, withClient } from '../cli/context';
import type { CommandContext } from '../cli/context';
import { formatEvent, formatStatusLine } from '../cli/render';
import { statusQuery, timelineQuery } from '../workflows/messages';
import { exitCodeFor } from './status';

export interface TimelineOptions {
  id: string;
  follow?: boolean;
  json?: boolean;
  /** Poll interval for --follow. */
  intervalMs?: number;
}

export async function timelineCommand(opts: TimelineOptions, ctx: CommandContext): Promise<number> {
  return withClient(ctx, async (cli) => {
    const handle = await deploymentHandle(cli, opts.id);
    if (!opts.follow) {
      const events = await queryDeployment(cli, handle, timelineQuery, {});
      if (opts.json) ctx.out.data(events);
      else for (const e of events) ctx.out.line(formatEvent(ctx.out, e));
      return 0;
    }
    return followDeployment(cli, opts.id, ctx, opts);
  });
}

/**
 * Prints new timeline events as they happen (one JSON object per line with --json) and a live
 * status line on a terminal, until the deployment ends. Returns the exit code of its outcome.
 */
export async function followDeployment(
  cli: CliClient,
  id: string,
  ctx: CommandContext,
  opts: { json?: boolean; intervalMs?: number } = {},
): Promise<number> {
  const handle = await deploymentHandle(cli, id);
  let afterSeq = 0;
  const print = (events: TimelineEvent[]) => {
    for (const e of events) {
      afterSeq = Math.max(afterSeq, e.seq);
      if (opts.json) ctx.out.line(JSON.stringify(e));
      else ctx.out.line(formatEvent(ctx.out, e));
    }
  };
  for (;;) {
    print(await queryDeployment(cli, handle, timelineQuery, { afterSeq }));
    const status = await queryDeployment(cli, handle, statusQuery);
    if (status.outcome !== 'IN_PROGRESS') {
      print(await queryDeployment(cli, handle, timelineQuery, { afterSeq }));
      if (!opts.json) ctx.out.line(`Deployment ${status.deploymentId} ended: ${status.outcome}`);
      return exitCodeFor(status);
    }
    if (!opts.json) ctx.out.status(formatStatusLine(status));
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1_000));
  }
}
