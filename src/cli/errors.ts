/**
 * Exit codes of the `shipwatch` CLI and the one error type that carries them. Scripts rely on
 * these numbers: they are documented in docs/cli.md and never reused for another meaning.
 */
import type { DeploymentOutcome } from '../model';

export const ExitCode = {
  OK: 0,
  /** The deployment failed (and nothing needed rolling back, or it was rolled back automatically — see ROLLED_BACK). */
  FAILED: 1,
  /** Bad input or usage: an invalid spec, an unknown flag, a missing argument. */
  USAGE: 2,
  /** The deployment was rolled back. */
  ROLLED_BACK: 3,
  /** Temporal cannot be reached. */
  UNREACHABLE: 4,
  /** A rollback failed: a person must act. */
  MANUAL_ACTION: 5,
  /** No such deployment. */
  NOT_FOUND: 6,
  /** The request was refused: another deployment is active, a rollback is too late, … */
  REFUSED: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is a sentence for a person, and whose code is the process exit code. */
export class ExitError extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExitError';
  }
}

export function isExitError(err: unknown): err is ExitError {
  return err instanceof ExitError;
}

/** The exit code that says how a deployment ended (OK while it is still running). */
export function exitCodeFor(status: { outcome: DeploymentOutcome }): ExitCode {
  switch (status.outcome) {
    case 'ROLLED_BACK':
      return ExitCode.ROLLED_BACK;
    case 'FAILED':
      return ExitCode.FAILED;
    case 'MANUAL_ACTION_REQUIRED':
      return ExitCode.MANUAL_ACTION;
    default:
      return ExitCode.OK;
  }
}
