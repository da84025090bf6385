/**
 * The errors adapters throw to say "retrying will not help": each has a `type` that
 * `createActivities` turns into a non-retryable `ApplicationFailure` of the same type, so the
 * workflow can tell a bad manifest from a flaky API server. Anything else an adapter throws
 * (timeouts, 409 conflicts, 5xx, connection resets) is retried by the activity's retry policy.
 *
 * Pure module (no I/O, no Node built-ins): the workflow's activity options import the type names.
 */

/** Failure types: the `type` of the ApplicationFailure a permanent error becomes. */
export const FailureType = {
  /** Any permanent error without a more precise type. */
  Permanent: 'PermanentError',
  /** A namespace, Deployment, revision, pod, file or endpoint that does not exist (HTTP 404). */
  NotFound: 'NotFoundError',
  /** The credentials lack a permission (HTTP 401/403): a person has to fix RBAC or a token. */
  Forbidden: 'ForbiddenError',
  /** Input that can never succeed: an invalid manifest (HTTP 422), a bad command, a bad query. */
  InvalidInput: 'InvalidInputError',
  /** A secret reference (`env:NAME`, `file:PATH`) that cannot be resolved on this worker. */
  SecretUnavailable: 'SecretUnavailableError',
  /** The rollout (or rollback) did not progress before its deadline (Kubernetes ProgressDeadlineExceeded). */
  ProgressDeadlineExceeded: 'ProgressDeadlineExceededError',
  /** The rollout failed before its deadline: new pods crash-looping, failing or unschedulable beyond a bound. */
  RolloutFailed: 'RolloutFailedError',
  /** The migration Job ran and failed: the schema is in the state the Job left it. */
  MigrationFailed: 'MigrationFailedError',
  /** A database backup ran and produced no usable dump (pg_dump failed, pg_restore --list failed). */
  BackupFailed: 'BackupFailedError',
  /** The rollback target is gone (revision no longer in ReplicaSet history, image mismatch after undo). */
  RollbackImpossible: 'RollbackImpossibleError',
} as const;
export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** Every type a retry policy must not retry. */
export const NON_RETRYABLE_TYPES: FailureTypeName[] = Object.values(FailureType);

/** An error retrying cannot fix. Subclasses only set the type; `details` must be plain JSON. */
export class PermanentError extends Error {
  readonly type: FailureTypeName;
  readonly details?: unknown;
  /** Marker so the predicate also works across module copies (e.g. the workflow bundle). */
  readonly permanent = true as const;
  constructor(message: string, options: { type?: FailureTypeName; details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'PermanentError';
    this.type = options.type ?? FailureType.Permanent;
    if (options.details !== undefined) this.details = options.details;
  }
}

export class NotFoundError extends PermanentError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { ...options, type: FailureType.NotFound });
    this.name = 'NotFoundError';
  }
}

export class ForbiddenError extends PermanentError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { ...options, type: FailureType.Forbidden });
    this.name = 'ForbiddenError';
  }
}

export class InvalidInputError extends PermanentError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { ...options, type: FailureType.InvalidInput });
    this.name = 'InvalidInputError';
  }
}

export class SecretUnavailableError extends PermanentError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { ...options, type: FailureType.SecretUnavailable });
    this.name = 'SecretUnavailableError';
  }
}

export class ProgressDeadlineExceededError extends PermanentError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { ...options, type: FailureType.ProgressDeadlineExceeded });
    this.name = 'ProgressDeadlineExceededError';
  }
}

export class RolloutFailedError extends PermanentError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { ...options, type: FailureType.RolloutFailed });
    this.name = 'RolloutFailedError';
  }
}

export class MigrationFailedError extends PermanentError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { ...options, type: FailureType.MigrationFailed });
    this.name = 'MigrationFailedError';
  }
}

export class BackupFailedError extends PermanentError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { ...options, type: FailureType.BackupFailed });
    this.name = 'BackupFailedError';
  }
}

export class RollbackImpossibleError extends PermanentError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { ...options, type: FailureType.RollbackImpossible });
    this.name = 'RollbackImpossibleError';
  }
}

/** True for any permanent error (by class or by the `permanent` marker). */
export function isPermanentError(err: unknown): err is PermanentError {
  return (
    err instanceof PermanentError ||
    (typeof err === 'object' &&
      err !== null &&
      (err as { permanent?: unknown }).permanent === true &&
      typeof (err as { type?: unknown }).type === 'string')
  );
}

/**
 * Maps an HTTP status from an outside API to the permanent error it means, or undefined when the
 * call may succeed on retry (408, 409, 429, 5xx, anything unknown).
 */
export function permanentErrorForStatus(status: number, message: string, cause?: unknown): PermanentError | undefined {
  const options = cause !== undefined ? { cause } : {};
  if (status === 401 || status === 403) return new ForbiddenError(message, options);
  if (status === 404 || status === 410) return new NotFoundError(message, options);
  if (status === 400 || status === 422) return new InvalidInputError(message, options);
  return undefined;
}
