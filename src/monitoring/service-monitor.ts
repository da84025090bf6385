/** The seed's ServiceMonitor: Prometheus Operator scraping the service's metrics port at the watch interval. */
import type { DeploySpec } from '../spec/types';
import { promDuration } from './monitored-service';
import type { MonitoredService } from './monitored-service';

export interface ServiceMonitorResource {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'ServiceMonitor';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: { port: string; interval: string; path: string }[];
  };
}

export function serviceMonitor(spec: DeploySpec, monitored: MonitoredService): ServiceMonitorResource {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: {
      name: spec.service,
      namespace: spec.namespace,
      labels: { app: spec.service, 'app.kubernetes.io/managed-by': 'shipwatch' },
    },
    spec: {
      selector: { matchLabels: { [monitored.appLabel.key]: monitored.appLabel.value } },
      namespaceSelector: { matchNames: [spec.namespace] },
      // The scrape interval equals the watch interval: the watch window never reads staler data than one check.
      endpoints: [{ port: monitored.metricsPort, interval: promDuration(spec.watch.intervalMs), path: '/metrics' }],
    },
  };
}
