/** The seed's ServiceMonitor: Prometheus Operator scraping the service's metrics port at the watch interval. */
import type { DeploySpec } from '../spec/types';
import { promDuration } from './target';
import type { MonitoringTarget } from './target';

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

export function serviceMonitor(spec: DeploySpec, target: MonitoringTarget): ServiceMonitorResource {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: {
      name: spec.service,
      namespace: spec.namespace,
      labels: { app: spec.service, 'app.kubernetes.io/managed-by': 'shipwatch' },
    },
    spec: {
      selector: { matchLabels: { [target.appLabel.key]: target.appLabel.value } },
      namespaceSelector: { matchNames: [spec.namespace] },
      // The scrape interval equals the watch interval: the watch window never reads staler data than one check.
      endpoints: [{ port: target.metricsPort, interval: promDuration(spec.watch.intervalMs), path: '/metrics' }],
    },
  };
}
