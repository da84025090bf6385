/**
 * `shipwatch worker`: runs a worker from an installed package, with the same settings as
 * `npm run worker` (src/worker.ts lists them: TEMPORAL_*, KUBECONFIG, SHIPWATCH_*, and the secrets
 * specs reference as env:NAME). The flags override their environment variables.
 */
import type { CommandContext } from '../cli/context';
import { ExitCode, ExitError } from '../cli/errors';

export interface WorkerCommandOptions {
  /** Accepted like every command's; the worker logs through its own logger (SHIPWATCH_LOG_LEVEL). */
  json?: boolean;
  taskQueue?: string;
  /** Which queues to poll: "deployments", "evaluators" or both (SHIPWATCH_WORKER_QUEUES). */
  queues?: string;
  metricsAddress?: string;
  namespace?: string;
  address?: string;
}

/** The worker's environment: the process's, with each given flag in place of its variable. */
export function workerEnv(opts: WorkerCommandOptions, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const flags: [Exclude<keyof WorkerCommandOptions, 'json'>, string][] = [
    ['address', 'TEMPORAL_ADDRESS'],
    ['namespace', 'TEMPORAL_NAMESPACE'],
    ['taskQueue', 'SHIPWATCH_TASK_QUEUE'],
    ['queues', 'SHIPWATCH_WORKER_QUEUES'],
    ['metricsAddress', 'SHIPWATCH_METRICS_ADDRESS'],
  ];
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [flag, name] of flags) if (opts[flag] !== undefined) out[name] = opts[flag];
  return out;
}

/** Runs until SIGINT/SIGTERM; a bad setting or an unreachable Temporal ends it with its exit code. */
export async function workerCommand(opts: WorkerCommandOptions, ctx: CommandContext): Promise<number> {
  const { runWorker, TemporalUnreachableError, WorkerSettingError } = await import('../worker');
  try {
    await runWorker(workerEnv(opts, ctx.env));
  } catch (err) {
    if (err instanceof WorkerSettingError) throw new ExitError(ExitCode.USAGE, err.message);
    if (err instanceof TemporalUnreachableError) throw new ExitError(ExitCode.UNREACHABLE, err.message);
    throw err;
  }
  return ExitCode.OK;
}
