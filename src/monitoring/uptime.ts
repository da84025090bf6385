/**
 * Uptime monitoring: the blackbox-exporter probe of the service's public endpoint, as a Prometheus
 * Operator `Probe` and as a plain Prometheus scrape job (the exporter's documented relabelling:
 * the URL becomes `?target=`, the exporter is the scrape address), plus the exporter's module
 * config. Both make the same series: `probe_success{job="uptime-<service>", instance="<url>"}`,
 * which the deployment reads to verify the new release is up.
 */
import type { DeploySpec, ResolvedUptime } from '../spec/types';

export interface ProbeResource {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'Probe';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    jobName: string;
    interval: string;
    module: string;
    prober: { url: string; path: string; scheme: 'http' };
    targets: { staticConfig: { static: string[]; labels: Record<string, string> } };
  };
}

/** The Prometheus Operator Probe (monitoring.coreos.com/v1). */
export function uptimeProbe(spec: DeploySpec, uptime: ResolvedUptime): ProbeResource {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'Probe',
    metadata: { name: `${spec.service}-uptime`, namespace: spec.namespace, labels: { app: spec.service, 'app.kubernetes.io/managed-by': 'shipwatch' } },
    spec: {
      jobName: uptime.job,
      interval: uptime.interval,
      module: uptime.module,
      prober: { url: uptime.prober, path: '/probe', scheme: 'http' },
      targets: { staticConfig: { static: [uptime.url], labels: { service: spec.service, namespace: spec.namespace } } },
    },
  };
}

/** One plain Prometheus scrape job probing the URL through the exporter at `exporter` (host:port). */
export function blackboxScrapeJob(spec: Pick<DeploySpec, 'service' | 'namespace'>, uptime: ResolvedUptime, exporter: string = uptime.prober): Record<string, unknown> {
  return {
    job_name: uptime.job,
    metrics_path: '/probe',
    scrape_interval: uptime.interval,
    params: { module: [uptime.module] },
    static_configs: [{ targets: [uptime.url], labels: { service: spec.service, namespace: spec.namespace } }],
    relabel_configs: [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: exporter },
    ],
  };
}

/**
 * The exporter's modules (blackbox.yml): `http_2xx` any 2xx over IPv4 within 5 s, following
 * redirects; the spec's module must be one the exporter defines (this file, or your own).
 */
export function blackboxModules(): Record<string, unknown> {
  return {
    modules: {
      http_2xx: { prober: 'http', timeout: '5s', http: { method: 'GET', preferred_ip_protocol: 'ip4', follow_redirects: true, valid_status_codes: [] } },
    },
  };
}

/** The PromQL selector of the probe's series. */
export function probeSelector(uptime: Pick<ResolvedUptime, 'job' | 'url'>): string {
  return `{job=${JSON.stringify(uptime.job)},instance=${JSON.stringify(uptime.url)}}`;
}
