/**
 * The shipwatch worker: runs deployment workflows and their activities against the real
 * adapters. Settings: TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_*
 * (Temporal), KUBECONFIG (Kubernetes), SHIPWATCH_TASK_QUEUE (default "shipwatch"),
 * SHIPWATCH_METRICS_ADDRESS (host:port of /metrics, /healthz, /readyz; default 0.0.0.0:9464,
 * "off" to disable), SHIPWATCH_LOG_LEVEL, SHIPWATCH_MAX_CACHED_WORKFLOWS (deployment and release
 * workflows kept in memory between tasks, default 500; fewer trades memory for replays),
 * SHIPWATCH_MAX_CACHED_EVALUATORS (watch evaluators kept in memory, default 128), SHIPWATCH_WORKFLOW_BUNDLE (a workflow bundle
 * made ahead; default dist/workflow-bundle.js, or dist/workflow-bundle-untraced.js when tracing is
 * off, beside the built worker, else bundled at start), SHIPWATCH_WORKFLOW_SOURCE_MAPS ("off": the
 * bundle's source map left out, less memory per workflow thread, workflow stack traces in bundle lines),
 * SHIPWATCH_WORKFLOW_STACK_TRACES and SHIPWATCH_WORKFLOW_DEADLOCK_DETECTION ("off": the SDK's
 * promise hook for the `__stack_trace` query, and its timeout on each call into a workflow, left
 * out of the workflow threads; less CPU per workflow task, src/workflow-threads.ts),
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), OTEL_SERVICE_NAME and
 * SHIPWATCH_TRACE_URL (deployment traces over OTLP/HTTP, off when no endpoint is set; src/tracing,
 * the start-up log says which). Secrets that specs reference as env:NAME are read from
 * this process's environment. `npm run worker` (this file) and `shipwatch worker` (an installed
 * package, src/commands/worker.ts) both start it through runWorker().
 *
 * One process polls two task queues: the deployments' (SHIPWATCH_TASK_QUEUE) and the watch
 * evaluators' (the same name + "-evaluators", evaluatorTaskQueue). Each has its own workflow
 * thread and sticky cache, so thousands of windows neither push the evaluators out of the cache
 * nor queue their tasks behind the windows' (docs/benchmarks.md, Session 6). SHIPWATCH_WORKER_QUEUES
 * ("deployments", "evaluators", or both, comma-separated; the default both) has a process poll
 * one of them: evaluators in processes of their own keep each slot's evaluation (every rule of a
 * fleet's windows, planned, asked and answered) off the thread that answers the windows' queries
 * and rollbacks (docs/production.md). An evaluators-only process needs no Kubernetes config: its
 * only activity asks Prometheus.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { NativeConnection, Runtime } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import { createActivities, createEvaluationActivities } from './activities';
import { createWatchActivities, evaluatorTaskQueue } from './activities/alert-watch';
import { createReleaseActivities } from './releases';
import type { ActivityDeps } from './activities/types';
import { createRealDeps } from './adapters';
import { createPrometheusMetrics } from './activities/metrics';
import { temporalSettings } from './connection';
import { WORKFLOW_BUNDLES, setupObservability } from './observability';
import type { Observability } from './observability';
import { TracingSettingError, tracingSettings } from './tracing';
import type { TracingSettings } from './tracing';
import { TASK_QUEUE } from './workflows/messages';
import { TIMELINE_MEMO_MAX_BYTES } from './workflows/timeline';
import { withoutSourceMap } from './workflow-bundle';
import { workerClass } from './workflow-threads';

/** The memo size the worker warns above: a full timeline memo and the deployment's other memo fields. */
const MEMO_WARN_BYTES = TIMELINE_MEMO_MAX_BYTES + 64 * 1024;

export interface ShipwatchWorkerOptions {
  env?: NodeJS.ProcessEnv;
  /** Ports to use instead of the real adapters (tests). */
  deps?: ActivityDeps;
  taskQueue?: string;
}

export interface ShipwatchWorker {
  /** Deployments and releases, on the task queue they are started on (unless SHIPWATCH_WORKER_QUEUES leaves them out). */
  worker?: Worker;
  /** The watch evaluators, on evaluatorTaskQueue(the deployments' queue) (unless SHIPWATCH_WORKER_QUEUES leaves them out). */
  evaluatorWorker?: Worker;
  /** Every worker this process runs: the deployments' and the evaluators', or the one SHIPWATCH_WORKER_QUEUES names. */
  workers: Worker[];
  observability?: Observability;
  /** Runs until SIGINT/SIGTERM or shutdown(); then closes the connection and the endpoint. */
  run(): Promise<void>;
  /** Stops polling every queue; run() resolves once every worker is done. */
  shutdown(): void;
}

/** The task queues a worker process can poll (SHIPWATCH_WORKER_QUEUES). */
export const WORKER_QUEUES = ['deployments', 'evaluators'] as const;
export type WorkerQueue = (typeof WORKER_QUEUES)[number];

/** SHIPWATCH_WORKER_QUEUES: which queues this process polls; both unless it names fewer. */
export function workerQueues(env: NodeJS.ProcessEnv): WorkerQueue[] {
  const value = env.SHIPWATCH_WORKER_QUEUES;
  if (value === undefined || value.trim() === '') return [...WORKER_QUEUES];
  const names = value.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(WORKER_QUEUES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new WorkerSettingError(
      `SHIPWATCH_WORKER_QUEUES must be "deployments", "evaluators" or "deployments,evaluators" (the default), not "${value}": ${unknown.map((n) => `"${n}"`).join(', ')} is not a queue a worker polls.`,
    );
  }
  return WORKER_QUEUES.filter((q) => names.includes(q));
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

/**
 * Watch evaluators kept in the evaluators' own sticky cache (SHIPWATCH_MAX_CACHED_EVALUATORS): 32
 * shards per Prometheus and interval (src/workflows/evaluator-messages.ts), each holding 1/32 of the
 * windows. Cached, an evaluator's task is a few milliseconds; evicted, it replays its whole history.
 */
export const DEFAULT_MAX_CACHED_EVALUATORS = 128;

/**
 * Evaluations the evaluators' worker runs at once. Each evaluator's evaluation waits in the worker
 * for its slot (patch evaluator-evaluation-waits), so every evaluator it runs holds one for most
 * of the interval: twice the evaluators it caches (an evaluator beyond the cache replays its
 * history every slot anyway), and never fewer than the SDK's default of 100.
 */
export function evaluationsAtOnce(cachedEvaluators: number): number {
  return Math.max(100, 2 * cachedEvaluators);
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, what: string): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new WorkerSettingError(`${name} must be a whole number of ${what} (0 or more), not "${value}".`);
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

/** An "on" (the default) or "off" setting: SHIPWATCH_WORKFLOW_SOURCE_MAPS, SHIPWATCH_WORKFLOW_STACK_TRACES, SHIPWATCH_WORKFLOW_DEADLOCK_DETECTION. */
export function onOff(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name];
  if (value === undefined || value === '' || value === 'on') return true;
  if (value === 'off') return false;
  throw new WorkerSettingError(`${name} must be "on" or "off", not "${value}".`);
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
  const queues = workerQueues(env);
  // An evaluators-only process asks Prometheus and nothing else: no Kubernetes config to load.
  const deps = queues.includes('deployments') ? (options.deps ?? createRealDeps({ kubeConfig: loadKubeConfig(env) })) : undefined;
  const metrics = (deps ?? options.deps)?.metrics ?? createPrometheusMetrics();
  const address = metricsAddress(env);
  const sourceMaps = onOff(env, 'SHIPWATCH_WORKFLOW_SOURCE_MAPS');
  const WorkerClass = workerClass({ stackTraces: onOff(env, 'SHIPWATCH_WORKFLOW_STACK_TRACES'), deadlockDetection: onOff(env, 'SHIPWATCH_WORKFLOW_DEADLOCK_DETECTION') });
  const observability = address
    ? await setupObservability({ ...address, log: { level: env.SHIPWATCH_LOG_LEVEL ?? 'info' }, tracing: tracing(env) })
    : undefined;
  if (observability) Runtime.install(observability.runtimeOptions);

  const settings = temporalSettings(env);
  let connection: NativeConnection;
  try {
    // The SDK logs a warning for each memo over 2 KiB it sends; the deployments keep their timeline
    // in theirs, up to TIMELINE_MEMO_MAX_BYTES by design, and a window's short runs hand it over
    // at each continue-as-new (1,000 warnings as 1,000 windows opened, before this).
    connection = await NativeConnection.connect({ ...settings.connectionOptions, payloadLimits: { memoWarnSize: MEMO_WARN_BYTES } });
  } catch (err) {
    await observability?.close();
    throw new TemporalUnreachableError(
      `Cannot reach Temporal at ${settings.address}: ${(err as Error).message}. Start a local one with 'npm run temporal', or set TEMPORAL_ADDRESS.`,
    );
  }
  // `npm run build` bundles the workflows ahead (tools/bundle-workflows.ts, with the observability
  // interceptors inside: the untraced bundle when tracing is off); from source, the worker bundles
  // them itself at start. SHIPWATCH_WORKFLOW_BUNDLE names a bundle made ahead (the bench's).
  const tracingOn = observability?.tracing.settings.enabled ?? false;
  const built = (tracingOn ? [WORKFLOW_BUNDLES.traced] : [WORKFLOW_BUNDLES.untraced, WORKFLOW_BUNDLES.traced]).map((f) => join(__dirname, '..', f));
  if (env.SHIPWATCH_WORKFLOW_BUNDLE && !existsSync(env.SHIPWATCH_WORKFLOW_BUNDLE)) {
    throw new WorkerSettingError(
      `SHIPWATCH_WORKFLOW_BUNDLE names ${env.SHIPWATCH_WORKFLOW_BUNDLE}, which does not exist: run 'npm run build' (it writes dist/${WORKFLOW_BUNDLES.traced} and dist/${WORKFLOW_BUNDLES.untraced}) or unset it.`,
    );
  }
  const prebuilt = env.SHIPWATCH_WORKFLOW_BUNDLE || built.find((f) => existsSync(f));
  const bundle = !prebuilt ? undefined : sourceMaps ? { codePath: prebuilt } : { code: withoutSourceMap(readFileSync(prebuilt, 'utf8'), prebuilt) };
  const workflows = bundle ? { workflowBundle: bundle } : { workflowsPath: require.resolve('./workflows') };
  const taskQueue = options.taskQueue ?? env.SHIPWATCH_TASK_QUEUE ?? TASK_QUEUE;
  const interceptors = observability
    ? {
        interceptors: 'workflowBundle' in workflows ? { activity: observability.interceptors.activity ?? [] } : observability.interceptors,
        sinks: observability.sinks,
      }
    : {};
  const common = { connection, namespace: settings.namespace, ...workflows, ...interceptors };
  const worker = deps
    ? await WorkerClass.create({
        ...common,
        activities: {
          ...createActivities(deps),
          ...createWatchActivities({ evaluatorTaskQueue: evaluatorTaskQueue(taskQueue) }),
          ...createReleaseActivities(),
        },
        taskQueue,
        maxCachedWorkflows: wholeNumber(env, 'SHIPWATCH_MAX_CACHED_WORKFLOWS', DEFAULT_MAX_CACHED_WORKFLOWS, 'workflows'),
      })
    : undefined;
  // The evaluators run one activity, the evaluation.
  const cachedEvaluators = wholeNumber(env, 'SHIPWATCH_MAX_CACHED_EVALUATORS', DEFAULT_MAX_CACHED_EVALUATORS, 'evaluators');
  const evaluatorWorker = queues.includes('evaluators')
    ? await WorkerClass.create({
        ...common,
        activities: createEvaluationActivities(metrics),
        taskQueue: evaluatorTaskQueue(taskQueue),
        maxCachedWorkflows: cachedEvaluators,
        maxConcurrentActivityTaskExecutions: evaluationsAtOnce(cachedEvaluators),
      })
    : undefined;
  const workers = [worker, evaluatorWorker].filter((w): w is Worker => w !== undefined);
  const shutdown = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  // Ready while every worker polls; otherwise the state of one that does not.
  observability?.attachWorker({ getState: () => workers.map((w) => w.getState()).find((state) => state !== 'RUNNING') ?? 'RUNNING' });
  return {
    ...(worker ? { worker } : {}),
    ...(evaluatorWorker ? { evaluatorWorker } : {}),
    workers,
    ...(observability ? { observability } : {}),
    shutdown,
    async run() {
      try {
        // One worker failing stops the other: a process polling one of its two queues would look alive.
        const runs = await Promise.allSettled(
          workers.map(async (w) => {
            try {
              await w.run();
            } catch (err) {
              shutdown();
              throw err;
            }
          }),
        );
        const failed = runs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
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
  const { observability, workers } = shipwatch;
  const log = observability?.logger;
  const line = `shipwatch worker polling task queue${workers.length > 1 ? 's' : ''} ${workers.map((w) => `"${w.options.taskQueue}"`).join(' and ')} in namespace "${workers[0]!.options.namespace}"`;
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
