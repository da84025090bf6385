/**
 * The MonitoringPort's real adapter: Hour 3's checks of the service's own monitoring, against the
 * Prometheus HTTP API and the Kubernetes API (./monitoring-checks/, one module per check). Each
 * check returns a typed result and never throws for what it finds; one that could not look says
 * `not_run` and why, never `passed`.
 */
import type { MonitoringCheckName, MonitoringCheckResult, MonitoringSettings } from '../model';
import type { DeploySpec } from '../spec/types';
import type { MonitoringCheckInput, MonitoringPort } from './types';
import { alertsConfigured, alertsTested } from './monitoring-checks/rules';
import type { MonitoringChecksOptions } from './monitoring-checks/context';
import { dashboards } from './monitoring-checks/dashboards';
import { errorTracking } from './monitoring-checks/error-tracking';
import { logging } from './monitoring-checks/logging';
import { scrape } from './monitoring-checks/scrape';

export type { MonitoringChecksOptions } from './monitoring-checks/context';
export { compareInstalledRules, ruleDifferences } from './monitoring-checks/rules';
export { dashboardModelProblems } from './monitoring-checks/dashboards';
export { filebeatProblems } from './monitoring-checks/logging';
export { samePromql, splitCondition, canonicalPromql } from './monitoring-checks/promql';
export { parseSelector, matchesSelector } from './monitoring-checks/selector';

export function createMonitoringChecks(options: MonitoringChecksOptions = {}): MonitoringPort {
  return {
    scrape: (input) => scrape(input, options),
    alertsConfigured: (input) => alertsConfigured(input, options),
    alertsTested: (input) => alertsTested(input, options),
    logging: (input) => logging(input, options),
    errorTracking: (input) => errorTracking(input, options),
    dashboards: (input) => dashboards(input, options),
  };
}

/** Which port call runs each check. */
const PORT_CALL: Record<MonitoringCheckName, keyof MonitoringPort> = {
  scrape: 'scrape',
  'alerts-configured': 'alertsConfigured',
  'alerts-tested': 'alertsTested',
  logging: 'logging',
  'error-tracking': 'errorTracking',
  dashboards: 'dashboards',
};

/** What the workflow sends for one check: which, the spec, and its monitoring settings. */
export interface MonitoringCheckRequest {
  check: MonitoringCheckName;
  spec: DeploySpec;
  settings: MonitoringSettings;
}

/**
 * The monitoring activity, registered beside createActivities(deps) by the worker:
 * `{ ...createActivities(deps), ...createMonitoringActivities(port) }`. One activity for all six
 * checks, so each is one line on the Web UI's event list with its own summary.
 */
export function createMonitoringActivities(port: MonitoringPort) {
  return {
    async runMonitoringCheck(request: MonitoringCheckRequest): Promise<MonitoringCheckResult> {
      const input: MonitoringCheckInput = { spec: request.spec, settings: request.settings };
      return port[PORT_CALL[request.check]](input);
    },
  };
}

export type MonitoringActivities = ReturnType<typeof createMonitoringActivities>;
