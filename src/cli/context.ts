/** What every command gets: where to write, how to reach Temporal, a deadline-bounded query, and the timeline read. */
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import type { TimelineEvent } from '../model';
import { timelineQuery } from '../workflows/messages';
import { timelineFromMemo } from '../workflows/timeline';
import { connectClient } from './connect';
import type { CliClient } from './connect';
import { ExitCode, ExitError } from './errors';
import { messages } from './messages';
import type { Output } from './output';

export interface CommandContext {
  out: Output;
  env: NodeJS.ProcessEnv;
  connect(): Promise<CliClient>;
}

export function defaultContext(out: Output): CommandContext {
  return { out, env: process.env, connect: () => connectClient(process.env) };
}

/** Runs `fn` with a connected client and always closes the connection. */
export async function withClient<T>(ctx: CommandContext, fn: (cli: CliClient) => Promise<T>): Promise<T> {
  const cli = await ctx.connect();
  try {
    return await fn(cli);
  } finally {
    await cli.close();
  }
}

/** A `--limit`-style flag as a whole number of 1 or more (`fallback` when not given); anything else exits USAGE naming the flag and the text. */
export function wholeCount(flag: string, value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1) throw new ExitError(ExitCode.USAGE, messages.badCount(flag, value));
  return n;
}

/** A query that fails with a sentence, not a stack trace, when no worker answers within 15 s. */
export async function queryDeployment<R, A extends unknown[]>(
  cli: Pick<CliClient, 'client'>,
  handle: WorkflowHandle,
  query: QueryDefinition<R, A>,
  ...args: A
): Promise<R> {
  try {
    return await cli.client.withDeadline(Date.now() + 15_000, () => handle.query(query, ...args));
  } catch (err) {
    const text = String((err as Error).message ?? err);
    if (/deadline|timed? ?out|no poller|DEADLINE_EXCEEDED/i.test(text)) {
      throw new ExitError(ExitCode.FAILED, messages.noWorker(handle.workflowId));
    }
    throw err;
  }
}

/**
 * A deployment's timeline events after `afterSeq`: from the run's memo, which the Temporal server
 * answers alone (no worker, no replay: a deployment in its watch window is rarely in a worker's
 * cache); from the workflow (a query) when the memo holds none — a run from before the timeline
 * was kept there, or one whose first workflow task has not completed. `description`: one the caller
 * already has (`describedDeployment`). `source` says which answered (the bench counts them).
 */
export async function timelineOf(
  cli: Pick<CliClient, 'client'>,
  handle: WorkflowHandle,
  afterSeq = 0,
  description?: WorkflowExecutionDescription,
): Promise<{ events: TimelineEvent[]; source: 'memo' | 'query' }> {
  const described = description ?? (await cli.client.withDeadline(Date.now() + 15_000, () => handle.describe()));
  const events = timelineFromMemo(described.memo);
  if (events) return { events: events.filter((e) => e.seq > afterSeq), source: 'memo' };
  return { events: await queryDeployment(cli, handle, timelineQuery, { afterSeq }), source: 'query' };
}

/** The timeline events after `afterSeq` (timelineOf), wherever they came from. */
export async function readTimeline(
  cli: Pick<CliClient, 'client'>,
  handle: WorkflowHandle,
  afterSeq = 0,
): Promise<TimelineEvent[]> {
  return (await timelineOf(cli, handle, afterSeq)).events;
}
