/**
 * The MonitoringPort's real adapter: Hour 3's checks of the service's own monitoring, against the
 * Prometheus HTTP API and the Kubernetes API (./monitoring-checks/, one module per check). Each
 * check returns a typed result and never throws for what it finds; one that could not look says
 * `not_run` and why, never `passed`.
 */
import type { MonitoringPort } from './types';
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
