/** Tracing settings from the OTEL_* environment: on/off, the traces URL, clear errors, the report's reference. */
import { TracingSettingError, describeTracing, isTraceId, traceReference, tracingSettings } from '../../src/tracing/settings';
import { tracingFromEnv } from '../../examples/user-management/src/tracing';

describe('tracingSettings', () => {
  test('off without an endpoint, and the reason says which variable turns it on', () => {
    const off = tracingSettings({});
    expect(off).toEqual({ enabled: false, reason: 'OTEL_EXPORTER_OTLP_ENDPOINT is not set' });
    expect(describeTracing(off)).toMatch(/^tracing off .*set OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toMatchObject({ enabled: false, reason: 'OTEL_SDK_DISABLED=true' });
  });

  test('the general endpoint gets /v1/traces; the traces endpoint is used as is and wins', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({ enabled: true, tracesUrl: 'http://collector:4318/v1/traces', serviceName: 'shipwatch' });
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/otlp/traces', OTEL_SERVICE_NAME: 'shipwatch-prod' }),
    ).toEqual({ enabled: true, tracesUrl: 'https://b/otlp/traces', serviceName: 'shipwatch-prod' });
    expect(describeTracing(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }))).toBe(
      'tracing on: deployment spans exported over OTLP/HTTP to http://c:4318/v1/traces as service "shipwatch"',
    );
  });

  test('bad values fail naming the variable and the accepted form', () => {
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/);
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://c:4317' })).toThrow(TracingSettingError);
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported.*OTLP\/HTTP port/,
    );
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', SHIPWATCH_TRACE_URL: 'http://jaeger/trace/' })).toThrow(/SHIPWATCH_TRACE_URL must contain \{traceId\}/);
  });
});

describe('traceReference', () => {
  const id = '4bf92f3577b34da6a3ce929d0e0e4736';
  test('the ID and its link when tracing is on; nothing when it is off or the ID is not one', () => {
    const on = tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', SHIPWATCH_TRACE_URL: 'https://jaeger.example.com/trace/{traceId}' });
    expect(traceReference(id, on)).toEqual({ traceId: id, url: `https://jaeger.example.com/trace/${id}` });
    expect(traceReference(id, tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }))).toEqual({ traceId: id });
    expect(traceReference(id, tracingSettings({}))).toBeUndefined();
    expect(traceReference(undefined, on)).toBeUndefined();
    expect(traceReference('0'.repeat(32), on)).toBeUndefined();
    expect(isTraceId(id.toUpperCase())).toBe(false);
  });
});

describe("the sample service's tracing config", () => {
  const invalid = (m: string) => new Error(m);
  test('off without an endpoint; on with the traces URL and the service name', () => {
    expect(tracingFromEnv({}, invalid)).toBeUndefined();
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }, invalid)).toEqual({ tracesUrl: 'http://jaeger:4318/v1/traces', serviceName: 'user-management' });
    expect(() => tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger' }, invalid)).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/);
  });
});
