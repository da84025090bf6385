/**
 * The shipwatch worker: runs deployment workflows and their activities against the real
 * adapters. Settings: TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_*
 * (Temporal), KUBECONFIG (Kubernetes), SHIPWATCH_TASK_QUEUE (default "shipwatch"),
 * SHIPWATCH_METRICS_ADDRESS (host:port of /metrics, /healthz, /readyz; default 0.0.0.0:9464,
 * "off" to disable), SHIPWATCH_LOG_LEVEL, SHIPWATCH_MAX_CACHED_WORKFLOWS (workflows kept in memory
 * between tasks, default 500; fewer trades memory for replays), SHIPWATCH_WORKFLOW_BUNDLE (a workflow bundle
 * made ahead; default dist/workflow-bundle.js beside the built worker, else bundled at start),
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), OTEL_SERVICE_NAME and
 * SHIPWATCH_TRACE_URL (deployment traces over OTLP/HTTP, off when no endpoint is set; src/tracing,
 * the start-up log says which). Secrets that specs reference as env:NAME are read from
 * this process's environment. `npm run worker` (this file) and `shipwatch worker` (an installed
 * package, src/commands/worker.ts) both start it through runWorker().
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { createWatchActivities } from './activities/alert-watch';
import { createReleaseActivities } from './releases';
import type { ActivityDeps } from './activities/types';
import { createRealDeps } from './adapters';
import { temporalSettings } from './connection';
import { setupObservability } from './observability';
import type { Observability } from './observability';
import { TracingSettingError, tracingSettings } from './tracing';
import type { TracingSettings } from './tracing';
import { TASK_QUEUE } from './workflows/messages';

export interface ShipwatchWorkerOptions {
  env?: NodeJS.ProcessEnv;
  /** Ports to use instead of the real adapters (tests). */
  deps?: ActivityDeps;
  taskQueue?: string;
}

export interface ShipwatchWorker {
  worker: Worker;
  observability?: Observability;
  /** Runs until SIGINT/SIGTERM or shutdown(); then closes the connection and the endpoint. */
  run(): Promise<void>;
}

/** A worker setting is malformed; the message names the variable and the accepted form. */
export class WorkerSettingError extends Error {
  override name = 'WorkerSettingError';
}

/** The Temporal frontend did not answer; the message says where and what to do. */
export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
}

function metricsAddress(env: NodeJS.ProcessEnv): { host: string; port: number } | undefined {
  const value = env.SHIPWATCH_METRICS_ADDRESS ?? '0.0.0.0:9464';
  if (value === 'off') return undefined;
  const at = value.lastIndexOf(':');
  const port = Number(value.slice(at + 1));
  if (at < 0 || !Number.isInteger(port)) {
    throw new WorkerSettingError(`SHIPWATCH_METRICS_ADDRESS must be host:port or "off", not "${value}".`);
  }
  return { host: value.slice(0, at), port };
}

/**
 * Workflows kept in the worker's sticky cache between tasks (SHIPWATCH_MAX_CACHED_WORKFLOWS). With
 * the watch evaluator a window wakes a few times an hour, so most windows need not stay cached: one
 * evicted replays its (short) history when it wakes. The default bounds the worker's memory
 * whatever the number of open windows (docs/benchmarks.md has the measured RSS).
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 500;

function maxCachedWorkflows(env: NodeJS.ProcessEnv): number {
  const value = env.SHIPWATCH_MAX_CACHED_WORKFLOWS;
  if (value === undefined || value === '') return DEFAULT_MAX_CACHED_WORKFLOWS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new WorkerSettingError(`SHIPWATCH_MAX_CACHED_WORKFLOWS must be a whole number of workflows (0 or more), not "${value}".`);
  }
  return n;
}

/** OTEL_EXPORTER_OTLP_ENDPOINT and friends; a malformed one is a worker setting error naming the variable. */
function tracing(env: NodeJS.ProcessEnv): TracingSettings {
  try {
    return tracingSettings(env);
  } catch (err) {
    if (err instanceof TracingSettingError) throw new WorkerSettingError(err.message);
    throw err;
  }
}

/** KUBECONFIG, ~/.kube/config or the in-cluster service account, as kubectl finds them. */
function loadKubeConfig(env: NodeJS.ProcessEnv): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault();
    if (!kubeConfig.getCurrentCluster()) throw new Error('it names no current cluster');
  } catch (err) {
    throw new WorkerSettingError(
      `Cannot load the Kubernetes config (${env.KUBECONFIG ? `KUBECONFIG=${env.KUBECONFIG}` : '~/.kube/config or the in-cluster service account'}): ${(err as Error).message}. Point KUBECONFIG at a kubeconfig file.`,
    );
  }
  return kubeConfig;
}

export async function createShipwatchWorker(options: ShipwatchWorkerOptions = {}): Promise<ShipwatchWorker> {
  const env = options.env ?? process.env;
  const address = metricsAddress(env);
  const deps = options.deps ?? createRealDeps({ kubeConfig: loadKubeConfig(env) });
  const observability = address
    ? await setupObservability({ ...address, log: { level: env.SHIPWATCH_LOG_LEVEL ?? 'info' }, tracing: tracing(env) })
    : undefined;
  if (observability) Runtime.install(observability.runtimeOptions);

  const settings = temporalSettings(env);
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(settings.connectionOptions);
  } catch (err) {
    await observability?.close();
    throw new TemporalUnreachableError(
      `Cannot reach Temporal at ${settings.address}: ${(err as Error).message}. Start a local one with 'npm run temporal', or set TEMPORAL_ADDRESS.`,
    );
  }
  // `npm run build` bundles the workflows ahead (tools/bundle-workflows.ts, with the observability
  // interceptors inside); from source, the worker bundles them itself at start.
  // SHIPWATCH_WORKFLOW_BUNDLE names a bundle made ahead (the bench points at dist/workflow-bundle.js from source).
  const prebuilt = env.SHIPWATCH_WORKFLOW_BUNDLE || join(__dirname, '..', 'workflow-bundle.js');
  if (env.SHIPWATCH_WORKFLOW_BUNDLE && !existsSync(prebuilt)) {
    throw new WorkerSettingError(`SHIPWATCH_WORKFLOW_BUNDLE names ${prebuilt}, which does not exist: run 'npm run build' (it writes dist/workflow-bundle.js) or unset it.`);
  }
  const workflows = existsSync(prebuilt)
    ? { workflowBundle: { codePath: prebuilt } }
    : { workflowsPath: require.resolve('./workflows') };
  const maxCached = maxCachedWorkflows(env);
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: options.taskQueue ?? env.SHIPWATCH_TASK_QUEUE ?? TASK_QUEUE,
    ...workflows,
    maxCachedWorkflows: maxCached,
    activities: { ...createActivities(deps), ...createWatchActivities(), ...createReleaseActivities() },
    ...(observability
      ? {
          interceptors:
            'workflowBundle' in workflows ? { activity: observability.interceptors.activity ?? [] } : observability.interceptors,
          sinks: observability.sinks,
        }
      : {}),
  });
  observability?.attachWorker(worker);
  return {
    worker,
    ...(observability ? { observability } : {}),
    async run() {
      try {
        await worker.run();
      } finally {
        await connection.close();
        await observability?.close();
      }
    },
  };
}

/**
 * Starts a worker with the settings in `env` and runs it until SIGINT/SIGTERM: the one entry point
 * of `npm run worker` and `shipwatch worker`, so both read the same settings the same way.
 */
export async function runWorker(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const shipwatch = await createShipwatchWorker({ env });
  const { worker, observability } = shipwatch;
  const log = observability?.logger;
  const line = `shipwatch worker polling task queue "${worker.options.taskQueue}" in namespace "${worker.options.namespace}"`;
  if (log) log.info(line);
  else console.log(line);
  await shipwatch.run();
}

if (require.main === module) {
  runWorker().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
