/**
 * Starting a deployment from a client (the CLI, tests): the workflow ID is derived from
 * (namespace, service) and started with conflict policy FAIL, so Temporal itself refuses a second
 * active deployment of the same service; the refusal becomes a DeploymentAlreadyActiveError that
 * names the active release and how to supersede it.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { DeploySpec } from './spec/types';
import { formatDuration } from './format';
import type { DeploymentStatus } from './model';
import { TASK_QUEUE, deploymentWorkflowId, promoteUpdate, searchAttributes, statusQuery } from './workflows/messages';
import type { DeploymentInput } from './workflows/messages';
import type { deploymentWorkflow } from './workflows/deployment';

export type DeploymentHandle = WorkflowHandleWithFirstExecutionRunId<typeof deploymentWorkflow>;

export interface StartDeploymentOptions {
  requestedBy: string;
  taskQueue?: string;
  /**
   * If a deployment of this service is in its watch window, promote it (accept its release, end
   * its watch) and start this one. A deployment still rolling out is never superseded: roll it
   * back or wait.
   */
  supersede?: boolean;
  /** Set the Shipwatch* search attributes at start (the server must have them registered). */
  searchAttributes?: boolean;
}

/** A deployment of the same service is still active: Temporal refused to start a second. */
export class DeploymentAlreadyActiveError extends Error {
  constructor(
    message: string,
    readonly workflowId: string,
    readonly active?: DeploymentStatus,
  ) {
    super(message);
    this.name = 'DeploymentAlreadyActiveError';
  }
}

export async function startDeployment(client: Client, spec: DeploySpec, options: StartDeploymentOptions): Promise<DeploymentHandle> {
  const workflowId = deploymentWorkflowId(spec.namespace, spec.service);
  const start = () =>
    client.workflow.start<typeof deploymentWorkflow>('deploymentWorkflow', {
      workflowId,
      taskQueue: options.taskQueue ?? TASK_QUEUE,
      args: [{ spec, requestedBy: options.requestedBy } satisfies DeploymentInput],
      // One active deployment per (namespace, service): a running one makes start fail; a closed
      // one (any outcome) may be followed by a new run.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      memo: { release: spec.release, image: spec.image, requestedBy: options.requestedBy, ...(spec.change ? { change: spec.change.reference } : {}) },
      staticSummary: `Deploy ${spec.service} ${spec.release} to ${spec.namespace}`,
      staticDetails: [
        `**${spec.service}** ${spec.release} (\`${spec.image}\`) → namespace \`${spec.namespace}\``,
        `requested by ${options.requestedBy}${spec.change ? `, plan ${spec.change.reference}` : ''}`,
        `watch window ${formatDuration(spec.watch.durationMs)}, checks every ${formatDuration(spec.watch.intervalMs)}, auto-rollback ${spec.watch.autoRollback ? 'on' : 'off'}`,
      ].join('\n\n'),
      ...(options.searchAttributes !== false
        ? {
            typedSearchAttributes: new TypedSearchAttributes([
              { key: searchAttributes.service, value: spec.service },
              { key: searchAttributes.namespace, value: spec.namespace },
              { key: searchAttributes.release, value: spec.release },
              { key: searchAttributes.phase, value: 'PRECHECK' },
              { key: searchAttributes.outcome, value: 'IN_PROGRESS' },
            ]),
          }
        : {}),
    });
  try {
    return await start();
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const active = client.workflow.getHandle<typeof deploymentWorkflow>(workflowId);
    const status = await active.query(statusQuery).catch(() => undefined);
    if (options.supersede && status?.phase === 'WATCH') {
      await active.executeUpdate(promoteUpdate, { args: [{ requestedBy: `${options.requestedBy} (superseded by ${spec.release})` }] });
      await active.result().catch(() => undefined);
      return start();
    }
    throw new DeploymentAlreadyActiveError(alreadyActiveMessage(spec, workflowId, status, options.supersede === true), workflowId, status);
  }
}

function alreadyActiveMessage(spec: DeploySpec, workflowId: string, status: DeploymentStatus | undefined, triedSupersede: boolean): string {
  const what = status ? `${status.release} (${status.image}), phase ${status.phase}` : 'a deployment';
  const lines = [`${spec.service} in ${spec.namespace} already has an active deployment: ${what} — workflow ${workflowId}.`];
  if (triedSupersede && status) lines.push(`It cannot be superseded while in ${status.phase}: only a deployment in its watch window can.`);
  lines.push(
    'To deploy anyway: `shipwatch rollback` it, `shipwatch promote` it (accept it and end its watch window),',
    'or run deploy again with `--supersede` (promotes the active one once it is in its watch window).',
  );
  return lines.join('\n');
}
