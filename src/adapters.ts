/**
 * The real adapters behind the workflow's ports, as the worker builds them: the Kubernetes API
 * from a kubeconfig, pg_dump for backups, undici for smoke suites, Prometheus, probes and
 * webhooks, the on-call schedule, the public entry point's route, the uptime probe's results, and report files on disk.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { createDatabaseBackups } from './activities/database';
import { createKubernetesAdapter } from './activities/kubernetes';
import { createPrometheusMetrics } from './activities/metrics';
import { createMonitoringChecks } from './activities/monitoring-checks';
import { clusterRouteReader, createEntryPointChecker } from './activities/entry-point';
import { createNotifier } from './activities/notify';
import { createOnCallResolver } from './activities/on-call';
import { createAvailabilityProbe } from './activities/probe';
import { createReportWriter } from './activities/report';
import { createSmokeRunner } from './activities/smoke';
import { createUptimeChecker } from './activities/uptime';
import type { ActivityDeps } from './activities/types';

export function createRealDeps(options: { kubeConfig: KubeConfig }): ActivityDeps {
  const kubernetes = createKubernetesAdapter(options.kubeConfig);
  return {
    kubernetes,
    database: createDatabaseBackups({ podExec: kubernetes.exec }),
    smoke: createSmokeRunner(),
    metrics: createPrometheusMetrics(),
    probe: createAvailabilityProbe(),
    notify: createNotifier(),
    reports: createReportWriter(),
    monitoring: createMonitoringChecks({ kubeConfig: options.kubeConfig }),
    onCall: createOnCallResolver(),
    entryPoint: createEntryPointChecker({ readRoute: clusterRouteReader(options.kubeConfig) }),
    uptime: createUptimeChecker(),
  };
}
