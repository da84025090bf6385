/** What every command gets: where to write, how to reach Temporal, and a deadline-bounded query. */
import type { WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
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

/** A query that fails with a sentence, not a stack trace, when no worker answers within 15 s. */
export async function queryDeployment<R, A extends unknown[]>(
  cli: CliClient,
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
