/**
 * The commands that steer a running deployment through workflow updates, which answer:
 * `rollback`, `promote`, `pause`, `resume`, `extend`. A refused request (too late, already rolled
 * back, not in the watch window) exits with REFUSED and the workflow's own sentence.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { deploymentHandle } from '../cli/connect';
import { withClient } from '../cli/context';
import type { CommandContext } from '../cli/context';
import { ExitCode, ExitError } from '../cli/errors';
import { messages } from '../cli/messages';
import { currentUser } from '../cli/user';
import { parseDuration } from '../spec/duration';
import {
  extendWatchUpdate,
  pauseUpdate,
  promoteUpdate,
  resumeUpdate,
  rollbackUpdate,
} from '../workflows/messages';
import type { CommandAnswer } from '../workflows/messages';

/** One update to one deployment, and whether to answer in JSON. */
interface UpdateRequest<T> {
  id: string;
  json?: boolean;
  update: UpdateDefinition<CommandAnswer, [T]>;
  arg: T;
}

async function sendUpdate<T>(ctx: CommandContext, { id, json, update, arg }: UpdateRequest<T>): Promise<number> {
  const answer = await withClient(ctx, async (cli) => {
    const handle = await deploymentHandle(cli, id);
    try {
      return await handle.executeUpdate(update, { args: [arg] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        return { accepted: false, message: err.cause?.message ?? err.message };
      }
      const text = (err as Error).message ?? '';
      if (/already completed|workflow execution already completed/i.test(text)) {
        return { accepted: false, message: messages.alreadyEnded(handle.workflowId) };
      }
      throw err;
    }
  });
  if (json) ctx.out.data(answer);
  else if (answer.accepted) ctx.out.line(answer.message);
  if (!answer.accepted) throw new ExitError(ExitCode.REFUSED, answer.message);
  return ExitCode.OK;
}

export async function rollbackCommand(opts: { id: string; reason: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  if (!opts.reason.trim()) throw new ExitError(ExitCode.USAGE, messages.rollbackNeedsReason);
  return sendUpdate(ctx, { id: opts.id, json: opts.json, update: rollbackUpdate, arg: { reason: opts.reason, requestedBy: currentUser(ctx.env) } });
}

export async function promoteCommand(opts: { id: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  return sendUpdate(ctx, { id: opts.id, json: opts.json, update: promoteUpdate, arg: { requestedBy: currentUser(ctx.env) } });
}

export async function pauseCommand(opts: { id: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  return sendUpdate(ctx, { id: opts.id, json: opts.json, update: pauseUpdate, arg: { requestedBy: currentUser(ctx.env) } });
}

export async function resumeCommand(opts: { id: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  return sendUpdate(ctx, { id: opts.id, json: opts.json, update: resumeUpdate, arg: { requestedBy: currentUser(ctx.env) } });
}

export async function extendCommand(opts: { id: string; by: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  const byMs = parseDuration(opts.by);
  if (!byMs) throw new ExitError(ExitCode.USAGE, messages.badDuration('--by', opts.by));
  return sendUpdate(ctx, { id: opts.id, json: opts.json, update: extendWatchUpdate, arg: { byMs, requestedBy: currentUser(ctx.env) } });
}
