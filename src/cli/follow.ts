/** Following a deployment to its end: new timeline events as they happen and a live status line (`timeline --follow`, `deploy --wait`). */
import type { TimelineEvent } from '../model';
import { statusQuery } from '../workflows/messages';
import { deploymentHandle } from './connect';
import type { CliClient } from './connect';
import { queryDeployment, readTimeline } from './context';
import type { CommandContext } from './context';
import { exitCodeFor } from './errors';
import { messages } from './messages';
import { formatEvent, formatStatusLine } from './render';

export interface FollowOptions {
  json?: boolean;
  /** How often to ask for new events. */
  intervalMs?: number;
}

/**
 * Prints new timeline events as they happen (one JSON object per line with --json) and a live
 * status line on a terminal, until the deployment ends. Returns the exit code of its outcome.
 */
export async function followDeployment(cli: CliClient, id: string, ctx: CommandContext, opts: FollowOptions = {}): Promise<number> {
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
    print(await readTimeline(cli, handle, afterSeq));
    const status = await queryDeployment(cli, handle, statusQuery);
    if (status.outcome !== 'IN_PROGRESS') {
      print(await readTimeline(cli, handle, afterSeq));
      if (!opts.json) ctx.out.line(messages.ended(status.deploymentId, status.outcome));
      return exitCodeFor(status);
    }
    if (!opts.json) ctx.out.status(formatStatusLine(status));
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1_000));
  }
}
