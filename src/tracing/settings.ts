/**
 * Where shipwatch sends its traces, from the standard OpenTelemetry environment variables: OTLP
 * over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, off
 * otherwise. Plain functions, no I/O: the worker, the sample service and the report read the same
 * rules.
 */

/** Where the trace ID goes in SHIPWATCH_TRACE_URL. */
export const TRACE_ID_PLACEHOLDER = '{traceId}';

/** A tracing variable is malformed; the message names the variable and the accepted form. */
export class TracingSettingError extends Error {
  override name = 'TracingSettingError';
}

export type TracingSettings =
  | { enabled: false; /** Why it is off, for the start-up log. */ reason: string }
  | {
      enabled: true;
      /** The OTLP/HTTP traces URL spans are POSTed to, e.g. http://127.0.0.1:4318/v1/traces. */
      tracesUrl: string;
      /** service.name of the spans (OTEL_SERVICE_NAME). */
      serviceName: string;
      /** Where a person sees a trace: a URL with `{traceId}` in it (SHIPWATCH_TRACE_URL), when known. */
      traceUrl?: string;
    };

export const TRACING_ENV = {
  endpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  tracesEndpoint: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  protocol: 'OTEL_EXPORTER_OTLP_PROTOCOL',
  tracesProtocol: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  serviceName: 'OTEL_SERVICE_NAME',
  disabled: 'OTEL_SDK_DISABLED',
  traceUrl: 'SHIPWATCH_TRACE_URL',
} as const;

function httpUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TracingSettingError(`${name} must be an http(s) URL such as http://127.0.0.1:4318, not "${value}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TracingSettingError(`${name} must be an http(s) URL such as http://127.0.0.1:4318, not "${value}" (shipwatch exports OTLP over HTTP).`);
  }
  return url;
}

/**
 * Reads the tracing settings. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is; the general
 * OTEL_EXPORTER_OTLP_ENDPOINT gets `/v1/traces` appended, as the OpenTelemetry specification says.
 * Only the OTLP/HTTP protocols are accepted (the exporter POSTs JSON; every OTLP/HTTP receiver
 * takes it), so a gRPC setting fails here instead of losing every span.
 */
export function tracingSettings(env: NodeJS.ProcessEnv, defaultServiceName = 'shipwatch'): TracingSettings {
  if ((env[TRACING_ENV.disabled] ?? '').trim().toLowerCase() === 'true') {
    return { enabled: false, reason: `${TRACING_ENV.disabled}=true` };
  }
  const traces = env[TRACING_ENV.tracesEndpoint]?.trim();
  const base = env[TRACING_ENV.endpoint]?.trim();
  if (!traces && !base) return { enabled: false, reason: `${TRACING_ENV.endpoint} is not set` };
  for (const name of [TRACING_ENV.tracesProtocol, TRACING_ENV.protocol]) {
    const protocol = env[name]?.trim();
    if (protocol && protocol !== 'http/json' && protocol !== 'http/protobuf') {
      throw new TracingSettingError(
        `${name}=${protocol} is not supported: shipwatch exports OTLP over HTTP. Unset it (or set http/json) and point ${TRACING_ENV.endpoint} at the collector's OTLP/HTTP port (usually 4318).`,
      );
    }
  }
  const tracesUrl = traces
    ? httpUrl(TRACING_ENV.tracesEndpoint, traces).toString()
    : `${httpUrl(TRACING_ENV.endpoint, base!).toString().replace(/\/+$/, '')}/v1/traces`;
  const traceUrl = env[TRACING_ENV.traceUrl]?.trim();
  if (traceUrl) {
    if (!traceUrl.includes(TRACE_ID_PLACEHOLDER)) {
      throw new TracingSettingError(
        `${TRACING_ENV.traceUrl} must contain ${TRACE_ID_PLACEHOLDER} where the trace ID goes, e.g. https://jaeger.example.com/trace/${TRACE_ID_PLACEHOLDER}; got "${traceUrl}".`,
      );
    }
    httpUrl(TRACING_ENV.traceUrl, traceUrl.replace(TRACE_ID_PLACEHOLDER, '0'));
  }
  return {
    enabled: true,
    tracesUrl,
    serviceName: env[TRACING_ENV.serviceName]?.trim() || defaultServiceName,
    ...(traceUrl ? { traceUrl } : {}),
  };
}

/** One line for the start-up log: on (and where to) or off (and how to turn it on). */
export function describeTracing(settings: TracingSettings): string {
  if (!settings.enabled) return `tracing off (${settings.reason}; set ${TRACING_ENV.endpoint} to export deployment traces over OTLP)`;
  return `tracing on: deployment spans exported over OTLP/HTTP to ${settings.tracesUrl} as service "${settings.serviceName}"`;
}

/** A W3C trace ID: 32 lowercase hex digits, not all zero. */
export function isTraceId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value) && !/^0+$/.test(value);
}

/**
 * What a report shows for a deployment's trace: the ID and, when SHIPWATCH_TRACE_URL is set, its
 * link; undefined when tracing is off (nothing was exported, so there is nothing to look up).
 */
export function traceReference(traceId: string | undefined, settings: TracingSettings): { traceId: string; url?: string } | undefined {
  if (!settings.enabled || !isTraceId(traceId)) return undefined;
  return settings.traceUrl ? { traceId, url: settings.traceUrl.split(TRACE_ID_PLACEHOLDER).join(traceId) } : { traceId };
}
