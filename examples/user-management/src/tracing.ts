/**
 * Request spans of the sample service, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT
 * (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; off otherwise. One SERVER span per request,
 * named "<METHOD> <route>" (e.g. "GET /users/:id"), child of the caller's span when the request
 * carries a W3C `traceparent` header (a smoke test or another service that traces). Reads the
 * standard variables the tracing ConfigMap of `shipwatch monitoring render` sets: the endpoint,
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and OTEL_TRACES_SAMPLER(_ARG). Spans go as OTLP/HTTP
 * JSON, which OTLP/HTTP receivers accept whatever OTEL_EXPORTER_OTLP_PROTOCOL names.
 */
import type { IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource, envDetectorSync } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface TracingConfig {
  /** The OTLP/HTTP traces URL, e.g. http://otel-collector:4318/v1/traces. */
  tracesUrl: string;
  serviceName: string;
}

/** The tracing config from the standard OTEL_* variables, or undefined when no endpoint is set. */
export function tracingFromEnv(env: NodeJS.ProcessEnv, invalid: (message: string) => Error): TracingConfig | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!traces && !base) return undefined;
  const name = traces ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  let url: URL;
  try {
    url = new URL((traces ?? base)!);
  } catch {
    throw invalid(`${name} must be an http(s) URL such as http://127.0.0.1:4318, got "${traces ?? base}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`${name} must be an http(s) URL (OTLP over HTTP), got "${traces ?? base}"`);
  return {
    tracesUrl: traces ? url.toString() : `${url.toString().replace(/\/+$/, '')}/v1/traces`,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'user-management',
  };
}

export interface RequestSpan {
  /** Ends the span with the matched route and the response status (5xx marks it an error). */
  end(route: string, status: number): void;
}

export interface RequestTracer {
  start(req: IncomingMessage, method: string, path: string): RequestSpan;
  close(): Promise<void>;
}

const NO_SPAN: RequestSpan = { end: () => undefined };

/** A tracer that does nothing: tracing is off. */
export const noTracing: RequestTracer = { start: () => NO_SPAN, close: async () => undefined };

export function createRequestTracer(config: TracingConfig, version: string): RequestTracer {
  // OTEL_RESOURCE_ATTRIBUTES (e.g. from `shipwatch monitoring render`'s tracing ConfigMap) first; the
  // service's own name and running version win. Sampling follows OTEL_TRACES_SAMPLER(_ARG), read by the SDK.
  const resource = envDetectorSync.detect().merge(new Resource({ 'service.name': config.serviceName, 'service.version': version }));
  const provider = new BasicTracerProvider({ resource });
  provider.addSpanProcessor(new BatchSpanProcessor(new OTLPTraceExporter({ url: config.tracesUrl }), { scheduledDelayMillis: 1000 }));
  const tracer = provider.getTracer('user-management');
  const propagator = new W3CTraceContextPropagator();
  return {
    start(req, method, path) {
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      const span = tracer.startSpan(
        `${method} ${path}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path } },
        parent,
      );
      return {
        end(route, status) {
          span.updateName(`${method} ${route}`);
          span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
          span.end();
        },
      };
    },
    close: () => provider.shutdown(),
  };
}

