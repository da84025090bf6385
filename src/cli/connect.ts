/** Connecting the CLI to Temporal, and turning Temporal's errors into sentences with exit codes. */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { temporalSettings } from '../connection';
import { deploymentWorkflowId } from '../workflows/messages';
import { ExitCode, ExitError } from './errors';
import { messages } from './messages';

export interface CliClient {
  client: Client;
  address: string;
  namespace: string;
  close(): Promise<void>;
}

export async function connectClient(env: NodeJS.ProcessEnv = process.env): Promise<CliClient> {
  const settings = temporalSettings(env);
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...(settings.connectionOptions as object),
      address: settings.address,
      connectTimeout: '3s',
    });
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    throw new ExitError(ExitCode.UNREACHABLE, messages.temporalUnreachable(settings.address, (err as Error).message));
  }
  return {
    client: new Client({ connection, namespace: settings.namespace }),
    address: settings.address,
    namespace: settings.namespace,
    close: () => connection.close(),
  };
}

/**
 * A deployment is named by its workflow ID ("deploy-production-user-management") or, shorter,
 * by "namespace/service".
 */
export function resolveDeploymentId(idOrName: string): string {
  const slash = idOrName.split('/');
  if (slash.length === 2 && slash[0] && slash[1]) return deploymentWorkflowId(slash[0], slash[1]);
  return idOrName;
}

/** The latest run of a deployment; a clear NOT_FOUND error when there is none. */
export async function deploymentHandle(cli: CliClient, idOrName: string): Promise<WorkflowHandle> {
  return (await describedDeployment(cli, idOrName)).handle;
}

/** The latest run of a deployment with the description that found it (one round trip for a caller that reads the memo); NOT_FOUND as deploymentHandle. */
export async function describedDeployment(cli: CliClient, idOrName: string): Promise<{ handle: WorkflowHandle; description: WorkflowExecutionDescription }> {
  const id = resolveDeploymentId(idOrName);
  const handle = cli.client.workflow.getHandle(id);
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ExitError(ExitCode.NOT_FOUND, messages.notFound(id, cli.namespace));
    throw err;
  }
}
