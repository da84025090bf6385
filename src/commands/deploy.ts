/** `shipwatch deploy -f spec.yaml`: validate, start the deployment workflow, optionally follow it. */
import { withClient } from '../cli/context';
import type { CommandContext } from '../cli/context';
import { ExitCode, ExitError } from '../cli/errors';
import { followDeployment } from '../cli/follow';
import { messages, webUiUrl } from '../cli/messages';
import { loadSpecOrExit } from '../cli/spec';
import { currentUser } from '../cli/user';
import { DeploymentAlreadyActiveError, startDeployment } from '../deployments';

export interface DeployOptions {
  file: string;
  release?: string;
  image?: string;
  wait?: boolean;
  supersede?: boolean;
  json?: boolean;
}

export async function deployCommand(opts: DeployOptions, ctx: CommandContext): Promise<number> {
  const spec = await loadSpecOrExit(opts.file, { release: opts.release, image: opts.image });
  return withClient(ctx, async (cli) => {
    let handle;
    try {
      handle = await startDeployment(cli.client, spec, {
        requestedBy: currentUser(ctx.env),
        ...(opts.supersede ? { supersede: true } : {}),
        ...(ctx.env.SHIPWATCH_TASK_QUEUE ? { taskQueue: ctx.env.SHIPWATCH_TASK_QUEUE } : {}),
      });
    } catch (err) {
      if (err instanceof DeploymentAlreadyActiveError) throw new ExitError(ExitCode.REFUSED, err.message);
      throw err;
    }
    const uiUrl = webUiUrl(cli.namespace, handle.workflowId, ctx.env);
    if (opts.json && !opts.wait) ctx.out.data({ deploymentId: handle.workflowId, runId: handle.firstExecutionRunId, release: spec.release, uiUrl });
    else if (!opts.json) ctx.out.line(messages.started(handle.workflowId, spec.release, uiUrl));
    if (!opts.wait) return ExitCode.OK;
    return followDeployment(cli, handle.workflowId, ctx, { json: opts.json });
  });
}
