/**
 * The worker's own observability in one call: structured JSON logs (also for the Temporal
 * Runtime, so activity logs carry workflowId/runId/activityId), shipwatch's metrics fed by worker
 * interceptors, the SDK's Prometheus exporter, the /metrics, /healthz, /readyz endpoint, and
 * deployment traces over OTLP when tracing is configured (../tracing).
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { InjectedSinks, RuntimeOptions, WorkerInterceptors } from '@temporalio/worker';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { TRACING_WORKFLOW_INTERCEPTOR_MODULE, setupTracing } from '../tracing';
import type { Tracing, TracingSettings } from '../tracing';
import { activityMetricsInterceptor } from './activity-interceptor';
import { PinoTemporalLogger, createLogger } from './logger';
import type { LoggerOptions, PinoLogger } from './logger';
import { ShipwatchMetrics } from './metrics';
import { startObservabilityServer } from './server';
import type { HealthState, ObservabilityServer } from './server';
import type { ShipwatchSinks } from './sinks';

export { createLogger, PinoTemporalLogger } from './logger';
export type { LoggerOptions, PinoLogger } from './logger';
export { ShipwatchMetrics } from './metrics';
export { startObservabilityServer } from './server';
export type { HealthState, ObservabilityServer, ObservabilityServerOptions } from './server';
export { activityMetricsInterceptor, WATCHED_ACTIVITIES } from './activity-interceptor';
export type { ShipwatchSinks, DeploymentRef, DeploymentEnd } from './sinks';
export { METRIC } from './metric-names';

/** Path of the workflow interceptor module, for `bundleWorkflowCode({ workflowInterceptorModules })`. */
export const WORKFLOW_INTERCEPTOR_MODULE = require.resolve('./workflow-interceptors');

/** Every workflow interceptor module of a shipwatch bundle: metrics, then tracing. */
export const WORKFLOW_INTERCEPTOR_MODULES = [WORKFLOW_INTERCEPTOR_MODULE, TRACING_WORKFLOW_INTERCEPTOR_MODULE];

/**
 * The workflow interceptor modules of a worker that does or does not export traces. The tracing
 * module costs every cached workflow about 550 KiB (its own OpenTelemetry modules and tracer
 * provider; docs/benchmarks.md), so a worker with tracing off leaves it out. Neither module issues
 * a command, so a run started under one bundle replays under the other.
 */
export function workflowInterceptorModules(tracing: boolean): string[] {
  return tracing ? WORKFLOW_INTERCEPTOR_MODULES : [WORKFLOW_INTERCEPTOR_MODULE];
}

/** The bundles `npm run build` writes into dist/ (tools/bundle-workflows.ts): with and without the tracing interceptors. */
export const WORKFLOW_BUNDLES = { traced: 'workflow-bundle.js', untraced: 'workflow-bundle-untraced.js' } as const;

export interface ObservabilityOptions {
  /** Address of the /metrics, /healthz, /readyz server; default 0.0.0.0 (a container's probe comes from outside). */
  host?: string;
  /** Port of that server; default 9464, 0 picks a free one. */
  port?: number;
  /**
   * Port of the Temporal SDK's own Prometheus exporter (bound on 127.0.0.1, merged into /metrics);
   * 0 picks a free one (default), false turns SDK metrics off.
   */
  sdkMetricsPort?: number | false;
  /** A ready logger, or options for a new one. */
  logger?: PinoLogger;
  log?: LoggerOptions;
  /** Node process metrics (memory, event loop lag) as shipwatch_process_*; default true. */
  processMetrics?: boolean;
  /** Deployment tracing (tracingSettings(env) from ../tracing); default off. */
  tracing?: TracingSettings;
}

/** The part of a Temporal Worker the health endpoints read. */
export interface WorkerLike {
  getState(): string;
}

export interface Observability {
  logger: PinoLogger;
  metrics: ShipwatchMetrics;
  /** For `Runtime.install(runtimeOptions)`, before any connection or worker is created. */
  runtimeOptions: RuntimeOptions;
  /** For `Worker.create({ interceptors })`. With a prebuilt workflowBundle, pass `workflowInterceptorModules` to the bundler instead. */
  interceptors: WorkerInterceptors;
  workflowInterceptorModules: string[];
  /** For `Worker.create({ sinks })`: the metrics sink and the tracing exporter sink. */
  sinks: InjectedSinks<ShipwatchSinks & OpenTelemetrySinks>;
  /** Deployment tracing: on (exporting over OTLP) or off, as the start-up log says. */
  tracing: Tracing;
  server: ObservabilityServer;
  /** The SDK exporter's URL, when on. */
  sdkMetricsUrl?: string;
  /** Lets /healthz, /readyz and shipwatch_worker_running follow this worker. */
  attachWorker(worker: WorkerLike): void;
  close(): Promise<void>;
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Worker states in which the process is still useful (liveness); RUNNING alone is ready. */
const LIVE_STATES = new Set(['INITIALIZED', 'RUNNING', 'DRAINING', 'DRAINED', 'STOPPING']);

export async function setupObservability(options: ObservabilityOptions = {}): Promise<Observability> {
  const logger = options.logger ?? createLogger(options.log);
  const metrics = new ShipwatchMetrics({ processMetrics: options.processMetrics ?? true });
  const sdkPort = options.sdkMetricsPort === false ? undefined : options.sdkMetricsPort || (await freeLoopbackPort());
  const sdkMetricsUrl = sdkPort === undefined ? undefined : `http://127.0.0.1:${sdkPort}/metrics`;

  let worker: WorkerLike | undefined;
  const health = (): HealthState => {
    if (!worker) return { live: true, ready: false, detail: 'STARTING' };
    const state = worker.getState();
    return { live: LIVE_STATES.has(state), ready: state === 'RUNNING', detail: state };
  };
  metrics.workerRunningFrom(() => worker?.getState() === 'RUNNING');

  const runtimeOptions: RuntimeOptions = {
    logger: new PinoTemporalLogger(logger),
    telemetryOptions: {
      // Core's own logs go through the same JSON logger instead of straight to the console.
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      ...(sdkPort !== undefined
        ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkPort}`, countersTotalSuffix: true, useSecondsForDurations: true } } }
        : {}),
    },
  };

  const tracing = setupTracing(options.tracing ?? { enabled: false, reason: 'not configured' }, { warn: (message) => logger.warn(message) });
  logger.info({ tracing: tracing.settings.enabled, ...(tracing.settings.enabled ? { otlpTracesUrl: tracing.settings.tracesUrl } : {}) }, tracing.description);

  const sinks: InjectedSinks<ShipwatchSinks & OpenTelemetrySinks> = {
    ...tracing.sinks,
    shipwatchMetrics: {
      running: { fn: (_info, ref) => metrics.deploymentRunning(ref), callDuringReplay: true },
      started: {
        fn: (info, ref) => {
          metrics.deploymentStarted(ref, info.runId);
          logger.info({ workflowId: ref.workflowId, service: ref.service, namespace: ref.namespace, release: ref.release }, 'deployment started');
        },
      },
      watchReported: { fn: (_info, r) => metrics.watchCheckCompleted(r.workflowId, Date.parse(r.at), r.heardEveryMs) },
      finished: {
        fn: (info, end) => {
          metrics.deploymentFinished(end, info.runId);
          logger.info(
            { workflowId: end.workflowId, service: end.service, namespace: end.namespace, release: end.release, outcome: end.outcome, rollbackTrigger: end.rollbackTrigger },
            'deployment finished',
          );
        },
      },
    },
  };

  const server = await startObservabilityServer({
    host: options.host ?? '0.0.0.0',
    port: options.port ?? 9464,
    registry: metrics.registry,
    ...(sdkMetricsUrl ? { sdkMetricsUrl } : {}),
    health,
  });
  logger.info({ url: server.url, sdkMetricsUrl }, 'observability endpoint listening (/metrics, /healthz, /readyz)');

  const workflowModules = workflowInterceptorModules(tracing.settings.enabled);
  return {
    logger,
    metrics,
    runtimeOptions,
    interceptors: { activity: [activityMetricsInterceptor(metrics), ...tracing.activityInterceptors], workflowModules },
    workflowInterceptorModules: workflowModules,
    sinks,
    tracing,
    server,
    ...(sdkMetricsUrl ? { sdkMetricsUrl } : {}),
    attachWorker(w) {
      worker = w;
    },
    async close() {
      await server.close();
      await tracing.shutdown();
      logger.flush();
    },
  };
}
