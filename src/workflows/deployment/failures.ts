/**
 * How the forward path stops: `DeploymentFailed` (nothing rolled out, the deployment ends FAILED)
 * or `RollbackNeeded` (the rollback procedure runs). Workflow-internal: neither leaves the
 * workflow; the finish turns them into an outcome.
 */
import { isCancellation } from '@temporalio/workflow';
import type { RollbackTrigger } from '../state';

/** Failure type of a deployment that ended without rolling anything out (bad precheck, migrations). */
export const DEPLOYMENT_FAILED = 'DeploymentFailed';
/** Failure type of a deployment that was rolled back: Temporal (and its Web UI) shows it Failed, the report in the details. */
export const DEPLOYMENT_ROLLED_BACK = 'DeploymentRolledBack';
/** Failure type of a deployment whose rollback did not complete: a person has to act. */
export const MANUAL_ACTION_REQUIRED = 'ManualActionRequired';

/** Stops the forward path: nothing to undo, the deployment ends FAILED. */
export class DeploymentFailed extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DeploymentFailed';
  }
}

/** Stops the forward path: the rollback procedure runs. */
export class RollbackNeeded extends Error {
  constructor(
    readonly trigger: RollbackTrigger,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'RollbackNeeded';
  }
}

/** A failed activity of the forward path as a rollback request; a cancellation stays a cancellation. */
export function rollbackOnFailure(trigger: RollbackTrigger, what: string): (err: unknown) => never {
  return (err: unknown) => {
    if (isCancellation(err)) throw err;
    throw new RollbackNeeded(trigger, `${what}: ${messageOf(err)}`);
  };
}

/** An error's message, with its cause's when that says more (an ActivityFailure's cause is the activity's error). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message && cause.message !== err.message ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}
