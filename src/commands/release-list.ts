/** `shipwatch list --releases`: release trains, newest first, with their services and how they ended. */
import { wholeCount, withClient } from '../cli/context';
import type { CommandContext } from '../cli/context';
import { ExitCode } from '../cli/errors';
import { searchAttributes } from '../workflows/messages';
import { releaseSearchAttributes } from '../workflows/release/messages';

export interface ReleaseListRow {
  releaseId: string;
  name: string;
  services: string[];
  outcome: string;
  status: string;
  startedAt: string;
}

export async function releaseListCommand(opts: { limit?: number | string; json?: boolean }, ctx: CommandContext): Promise<number> {
  const limit = wholeCount('--limit', opts.limit, 20);
  const rows = await withClient(ctx, async (cli) => {
    const found: ReleaseListRow[] = [];
    for await (const wf of cli.client.workflow.list({ query: 'WorkflowType = "releaseWorkflow"', pageSize: limit })) {
      const attrs = wf.typedSearchAttributes;
      found.push({
        releaseId: wf.workflowId,
        name: attrs.get(releaseSearchAttributes.train) ?? wf.workflowId.replace(/^release-/, ''),
        services: attrs.get(releaseSearchAttributes.services) ?? [],
        outcome: attrs.get(searchAttributes.outcome) ?? 'unknown',
        status: wf.status.name,
        startedAt: wf.startTime.toISOString(),
      });
      if (found.length >= limit) break;
    }
    return found;
  });
  if (opts.json) ctx.out.data(rows);
  else if (!rows.length) ctx.out.line('No releases.');
  else for (const r of rows) ctx.out.line(`${r.startedAt}  ${r.name.padEnd(24)} ${r.outcome.padEnd(22)} ${r.services.join(', ')}  (${r.releaseId})`);
  return ExitCode.OK;
}
