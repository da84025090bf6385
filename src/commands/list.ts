/** `shipwatch list [--service] [--namespace] [--state]`: deployments as Temporal's visibility sees them. */
import { wholeCount, withClient } from '../cli/context';
import type { CommandContext } from '../cli/context';
import { ExitCode, ExitError } from '../cli/errors';
import { messages } from '../cli/messages';
import { searchAttributes } from '../workflows/messages';

const STATES = ['running', 'succeeded', 'rolled-back', 'failed', 'manual-action'] as const;
type State = (typeof STATES)[number];

const OUTCOME: Record<State, string> = {
  running: 'IN_PROGRESS',
  succeeded: 'SUCCEEDED',
  'rolled-back': 'ROLLED_BACK',
  failed: 'FAILED',
  'manual-action': 'MANUAL_ACTION_REQUIRED',
};

export interface ListOptions {
  service?: string;
  namespace?: string;
  state?: string;
  /** At most this many (a number, or the flag's text). */
  limit?: number | string;
  json?: boolean;
}

/** The visibility query for the filters; values are quoted so a name cannot change the query. */
export function listQuery(opts: ListOptions): string {
  const quote = (v: string) => `'${v.replace(/'/g, "\\'")}'`;
  const clauses = [`WorkflowType = 'deploymentWorkflow'`];
  if (opts.service) clauses.push(`${searchAttributes.service.name} = ${quote(opts.service)}`);
  if (opts.namespace) clauses.push(`${searchAttributes.namespace.name} = ${quote(opts.namespace)}`);
  if (opts.state) {
    if (!(STATES as readonly string[]).includes(opts.state)) {
      throw new ExitError(ExitCode.USAGE, messages.badChoice('--state', STATES, opts.state));
    }
    clauses.push(`${searchAttributes.outcome.name} = ${quote(OUTCOME[opts.state as State])}`);
  }
  return clauses.join(' AND ');
}

export async function listCommand(opts: ListOptions, ctx: CommandContext): Promise<number> {
  const query = listQuery(opts);
  const limit = wholeCount('--limit', opts.limit, 50);
  const rows = await withClient(ctx, async (cli) => {
    const found = [];
    // A page of what is shown, not the server's default of 1,000: each deployment comes with its memo (its timeline).
    for await (const wf of cli.client.workflow.list({ query, pageSize: limit })) {
      const attrs = wf.typedSearchAttributes;
      found.push({
        id: wf.workflowId,
        runId: wf.runId,
        service: attrs.get(searchAttributes.service) ?? '',
        namespace: attrs.get(searchAttributes.namespace) ?? '',
        release: attrs.get(searchAttributes.release) ?? '',
        phase: attrs.get(searchAttributes.phase) ?? '',
        outcome: attrs.get(searchAttributes.outcome) ?? '',
        status: wf.status.name,
        startedAt: wf.startTime.toISOString(),
        closedAt: wf.closeTime?.toISOString(),
      });
      if (found.length >= limit) break;
    }
    return found;
  });
  if (opts.json) {
    ctx.out.data(rows);
    return ExitCode.OK;
  }
  if (!rows.length) {
    ctx.out.line(messages.noDeploymentsMatch);
    return ExitCode.OK;
  }
  ctx.out.line(['STARTED'.padEnd(20), 'SERVICE'.padEnd(22), 'NAMESPACE'.padEnd(14), 'RELEASE'.padEnd(12), 'STATE'.padEnd(24), 'ID'].join(' '));
  for (const r of rows) {
    const state = r.outcome && r.outcome !== 'IN_PROGRESS' ? r.outcome : r.status === 'RUNNING' ? `RUNNING (${r.phase})` : r.status;
    ctx.out.line(
      [r.startedAt.slice(0, 19).replace('T', ' ').padEnd(20), r.service.padEnd(22), r.namespace.padEnd(14), r.release.padEnd(12), state.padEnd(24), r.id].join(' '),
    );
  }
  return ExitCode.OK;
}
