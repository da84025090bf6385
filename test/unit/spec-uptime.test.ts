/**
 * Uptime monitoring (issue 16): the spec's uptime section resolved with its defaults, and what
 * `shipwatch monitoring render` writes for it: a Prometheus Operator Probe, the same probe as a plain
 * scrape job through the blackbox exporter, and the exporter's modules.
 */
import { parse } from 'yaml';
import { monitoringFiles } from '../../src/monitoring';
import { blackboxScrapeJob, probeSelector } from '../../src/monitoring/uptime';
import { resolveSpec } from '../../src/spec';
import { uptimeWaitMs } from '../../src/workflows/deployment/monitoring';

const base = {
  service: 'user-management',
  namespace: 'production',
  release: 'v1.0.0',
  image: 'ghcr.io/org/user-management:v1.0.0',
  kubernetes: { deployment: 'user-management', container: 'app' },
  serviceUrl: 'http://user-management.production:8080',
  metrics: { prometheusUrl: 'http://prometheus.monitoring:9090' },
};

test('defaults: the public host when there is an entry point, else the service URL; http_2xx every 30s; a failing probe blocks', async () => {
  const spec = await resolveSpec({ ...base, uptime: {} });
  expect(spec.uptime).toEqual({ url: 'http://user-management.production:8080/health', module: 'http_2xx', interval: '30s', intervalMs: 30_000, prober: 'prometheus-blackbox-exporter.monitoring.svc:9115', job: 'uptime-user-management', onFailure: 'block' });
  const withHost = await resolveSpec({ ...base, uptime: { onFailure: 'warn' }, entryPoint: { kind: 'Ingress', name: 'um', host: 'users.example.com' } });
  expect(withHost.uptime).toMatchObject({ url: 'https://users.example.com/health', onFailure: 'warn' });
});

test('monitoring render writes probe.yaml, blackbox-scrape.yml and blackbox.yml only when the spec has uptime', async () => {
  expect(monitoringFiles(await resolveSpec(base)).map((f) => f.name)).not.toContain('probe.yaml');
  const spec = await resolveSpec({ ...base, uptime: { url: 'https://users.example.com/health', interval: '15s' } });
  const files = Object.fromEntries(monitoringFiles(spec).map((f) => [f.name, f.content]));
  expect(parse(files['probe.yaml']!)).toEqual({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'Probe',
    metadata: { name: 'user-management-uptime', namespace: 'production', labels: { app: 'user-management', 'app.kubernetes.io/managed-by': 'shipwatch' } },
    spec: {
      jobName: 'uptime-user-management',
      interval: '15s',
      module: 'http_2xx',
      prober: { url: 'prometheus-blackbox-exporter.monitoring.svc:9115', path: '/probe', scheme: 'http' },
      targets: { staticConfig: { static: ['https://users.example.com/health'], labels: { service: 'user-management', namespace: 'production' } } },
    },
  });
  expect(parse(files['blackbox-scrape.yml']!)).toEqual({ scrape_configs: [blackboxScrapeJob(spec, spec.uptime!)] });
  expect(blackboxScrapeJob(spec, spec.uptime!, '127.0.0.1:9115')).toMatchObject({
    job_name: 'uptime-user-management',
    metrics_path: '/probe',
    params: { module: ['http_2xx'] },
    static_configs: [{ targets: ['https://users.example.com/health'] }],
    relabel_configs: [{ source_labels: ['__address__'], target_label: '__param_target' }, { source_labels: ['__param_target'], target_label: 'instance' }, { target_label: '__address__', replacement: '127.0.0.1:9115' }],
  });
  expect(parse(files['blackbox.yml']!)).toMatchObject({ modules: { http_2xx: { prober: 'http' } } });
  expect(probeSelector(spec.uptime!)).toBe('{job="uptime-user-management",instance="https://users.example.com/health"}');
});

test('the check waits three probe intervals for a fresh result, at least 15 s and at most 5 min', () => {
  expect(uptimeWaitMs(1_000)).toBe(15_000);
  expect(uptimeWaitMs(30_000)).toBe(90_000);
  expect(uptimeWaitMs(600_000)).toBe(300_000);
});

test("tracing: monitoring render writes the service's OTEL_* settings (OTLP endpoint, parent-based ratio sampling)", async () => {
  const spec = await resolveSpec({ ...base, tracing: { endpoint: 'http://jaeger.monitoring:4318/', sampling: 0.25 } });
  const file = monitoringFiles(spec).find((f) => f.name === 'tracing.yaml')!;
  expect(file.about).toBe('ConfigMap of OTEL_* settings (envFrom): spans over OTLP/HTTP to http://jaeger.monitoring:4318, 25% of new traces sampled');
  expect(parse(file.content)).toEqual({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'user-management-tracing', namespace: 'production', labels: { app: 'user-management', 'app.kubernetes.io/managed-by': 'shipwatch' } },
    data: {
      OTEL_SERVICE_NAME: 'user-management',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger.monitoring:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=production,service.version=v1.0.0,deployment.environment=production',
    },
  });
  expect((await resolveSpec({ ...base, tracing: { endpoint: 'http://jaeger.monitoring:4318' } })).tracing).toEqual({ endpoint: 'http://jaeger.monitoring:4318', sampling: 0.1 });
  await expect(resolveSpec({ ...base, tracing: { endpoint: 'http://j:4318', sampling: 2 } })).rejects.toThrow('tracing.sampling: expected a ratio from 0 to 1, e.g. 0.1');
  expect(monitoringFiles(await resolveSpec(base)).map((f) => f.name)).not.toContain('tracing.yaml');
});
