/**
 * The service's tracing configuration: the standard OpenTelemetry SDK environment (OTLP over HTTP
 * to the spec's endpoint, parent-based ratio sampling, the release as service.version) in a
 * ConfigMap the Deployment loads with `envFrom`, so every OpenTelemetry SDK reads it unchanged.
 */
import type { DeploySpec } from '../spec/types';

export interface TracingConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  data: Record<string, string>;
}

/** The OTEL_* variables for the service (absent when the spec has no tracing). */
export function tracingEnv(spec: DeploySpec): Record<string, string> | undefined {
  if (!spec.tracing) return undefined;
  return {
    OTEL_SERVICE_NAME: spec.service,
    OTEL_EXPORTER_OTLP_ENDPOINT: spec.tracing.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_EXPORTER: 'otlp',
    // Parent-based: a request that arrives sampled (shipwatch's smoke suite, an upstream service) stays sampled.
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(spec.tracing.sampling),
    OTEL_RESOURCE_ATTRIBUTES: `service.namespace=${spec.namespace},service.version=${spec.release},deployment.environment=${spec.namespace}`,
  };
}

export function tracingConfigMap(spec: DeploySpec): TracingConfigMap | undefined {
  const data = tracingEnv(spec);
  if (!data) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${spec.service}-tracing`, namespace: spec.namespace, labels: { app: spec.service, 'app.kubernetes.io/managed-by': 'shipwatch' } },
    data,
  };
}
