/** `shipwatch report <id> [--format md|json] [-o file]`: the deployment report, live or final. */
import { writeFile } from 'node:fs/promises';
import { deploymentHandle } from '../cli/connect';
import { queryDeployment, withClient } from '../cli/context';
import type { CommandContext } from '../cli/context';
import { ExitCode } from '../cli/errors';
import { messages } from '../cli/messages';
import { renderJson, renderMarkdown } from '../report/render';
import { reportQuery } from '../workflows/messages';

export async function reportCommand(
  opts: { id: string; format: 'md' | 'json'; output?: string; json?: boolean },
  ctx: CommandContext,
): Promise<number> {
  const report = await withClient(ctx, async (cli) => {
    const handle = await deploymentHandle(cli, opts.id);
    return queryDeployment(cli, handle, reportQuery);
  });
  const text = opts.format === 'json' || opts.json ? renderJson(report) : renderMarkdown(report);
  if (opts.output) {
    await writeFile(opts.output, text.endsWith('\n') ? text : `${text}\n`);
    ctx.out.error(messages.reportWritten(opts.output));
  } else ctx.out.line(text.replace(/\n$/, ''));
  return ExitCode.OK;
}
