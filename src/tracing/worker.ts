/**
 * The worker's half of deployment tracing: the sink that receives the workflow sandbox's spans,
 * the activity interceptors (a `RunActivity:<name>` span per attempt, child of the workflow's
 * `StartActivity` span through the activity headers), and the OTLP/HTTP exporter behind both.
 * When tracing is off the sink is still registered (the bundled workflow interceptors call it) and
 * drops the spans; no activity interceptor is added.
 */
import { DiagLogLevel, context, diag, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import type { OpenTelemetrySinks, OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { ActivityInterceptorsFactory, InjectedSink, InjectedSinks } from '@temporalio/worker';
import { describeTracing } from './settings';
import type { TracingSettings } from './settings';

export interface Tracing {
  settings: TracingSettings;
  /** The start-up log line: on and where to, or off and how to turn it on. */
  description: string;
  /** For `Worker.create({ interceptors: { activity } })` (empty when off). */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** For `Worker.create({ sinks })`: always, so the bundled workflow interceptors find their sink. */
  sinks: InjectedSinks<OpenTelemetrySinks>;
  /** Sends the spans still buffered; a failure is logged (TracingLog.warn), not thrown. */
  flush(): Promise<void>;
  /** Flushes and stops the exporter (worker shutdown); a failure is logged, not thrown. */
  shutdown(): Promise<void>;
}

/** Where export errors go (the OTLP exporter reports them through OpenTelemetry's diag logger). */
export interface TracingLog {
  warn(message: string): void;
}

/** How long the batch processor waits before sending; short, so a trace is complete soon after a deployment. */
const EXPORT_DELAY_MS = 1000;

let globalsRegistered = false;

/** Span IDs remembered to drop repeats; a few hours of deployments on one worker. */
const REMEMBERED_SPANS = 100_000;

/**
 * Drops workflow spans this worker has already exported. A workflow task whose completion the
 * server rejects (a signal arrived meanwhile) runs again live, not as a replay: its spans come
 * again with the same IDs (the same seeded random source) and a later start. The first is kept.
 */
function onlyOnce(sink: InjectedSink<OpenTelemetryWorkflowExporter>): InjectedSink<OpenTelemetryWorkflowExporter> {
  const seen = new Set<string>();
  return {
    export: {
      ...sink.export,
      fn: (info, spans) => {
        const fresh = spans.filter((span) => {
          const key = `${span.spanContext.traceId}/${span.spanContext.spanId}`;
          if (seen.has(key)) return false;
          seen.add(key);
          if (seen.size > REMEMBERED_SPANS) seen.delete(seen.values().next().value!);
          return true;
        });
        if (fresh.length > 0) return sink.export.fn(info, fresh);
      },
    },
  };
}

export function setupTracing(settings: TracingSettings, log?: TracingLog): Tracing {
  const description = describeTracing(settings);
  if (!settings.enabled) {
    return {
      settings,
      description,
      activityInterceptors: [],
      sinks: { exporter: { export: { fn: () => undefined } } },
      flush: async () => undefined,
      shutdown: async () => undefined,
    };
  }
  if (log) {
    // Export failures are never silent: OpenTelemetry reports them through diag, which goes to the log.
    const toLog = (...args: unknown[]): void => log.warn(`tracing: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`);
    const logger: DiagLogger = { error: toLog, warn: toLog, info: () => undefined, debug: () => undefined, verbose: () => undefined };
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  }
  const reportFailure = (what: string, err: unknown): void =>
    (log ?? { warn: (m: string) => console.warn(m) }).warn(`tracing: ${what} to ${settings.tracesUrl} failed: ${err instanceof Error ? err.message : String(err)}`);
  const resource = new Resource({ 'service.name': settings.serviceName });
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracesUrl }), { scheduledDelayMillis: EXPORT_DELAY_MS });
  const provider = new BasicTracerProvider({ resource });
  provider.addSpanProcessor(processor);
  // The activity interceptor reads the workflow's context from the activity headers with the global
  // propagator, makes it active and starts its span in it: that needs a W3C propagator and a
  // context manager (without them each RunActivity span would start a trace of its own). The
  // tracer provider itself is not registered globally.
  if (!globalsRegistered) {
    // Once per process (a second registration is refused, with a diag error).
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    globalsRegistered = true;
  }
  const tracer = provider.getTracer('shipwatch-worker');
  return {
    settings,
    description,
    activityInterceptors: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: onlyOnce(makeWorkflowExporter(processor, resource)) },
    flush: () => processor.forceFlush().catch((err: unknown) => reportFailure('sending the buffered spans', err)),
    shutdown: () => provider.shutdown().catch((err: unknown) => reportFailure('sending the last spans at shutdown', err)),
  };
}
