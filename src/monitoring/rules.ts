/**
 * Alert rules for Prometheus, generated from `spec.watch.rules`: the very rules the watch window
 * evaluates, so what pages a person and what rolls a release back cannot drift apart.
 */
import type { DeploySpec, ResolvedAlertRule } from '../spec/types';
import { promDuration } from './monitored-service';

export interface PrometheusAlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PrometheusRuleGroup {
  name: string;
  interval: string;
  rules: PrometheusAlertingRule[];
}

/** A plain Prometheus rules file (`rule_files:`), as in the seed's prometheus-alerts.yml. */
export interface PrometheusRulesFile {
  groups: PrometheusRuleGroup[];
}

/** The PrometheusRule custom resource of the Prometheus Operator (monitoring.coreos.com/v1). */
export interface PrometheusRuleResource {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'PrometheusRule';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: PrometheusRulesFile;
}

/** The rule's condition as Prometheus writes it: the watch window's `value op threshold`. */
export function alertCondition(rule: ResolvedAlertRule): string {
  return `(${rule.expr}) ${rule.op} ${formatThreshold(rule.threshold)}`;
}

function formatThreshold(value: number): string {
  // PromQL number literals: plain decimals, or exponent form for very small/large values.
  return Number.isInteger(value) || Math.abs(value) >= 1e-6 ? String(value) : value.toExponential();
}

/** A stable anchor for a rule's runbook section, e.g. "alert-higherrorrate". */
export function runbookAnchor(rule: ResolvedAlertRule): string {
  return `alert-${rule.name.toLowerCase()}`;
}

/** What the rules file is generated from: the service, its namespace and the watch window's rules and interval. */
export type RulesSource = Pick<DeploySpec, 'service' | 'namespace'> & { watch: Pick<DeploySpec['watch'], 'intervalMs' | 'rules'> };

function alertingRule(spec: RulesSource, rule: ResolvedAlertRule): PrometheusAlertingRule {
  const annotations: Record<string, string> = {};
  if (rule.summary) annotations.summary = rule.summary;
  if (rule.description) annotations.description = rule.description;
  annotations.runbook = `runbook.md#${runbookAnchor(rule)}`;
  return {
    alert: rule.name,
    expr: alertCondition(rule),
    for: promDuration(rule.forMs),
    labels: {
      severity: rule.severity,
      service: spec.service,
      namespace: spec.namespace,
    },
    annotations,
  };
}

/** The rules file: one group named after the service, evaluated at the watch interval. */
export function prometheusRulesFile(spec: RulesSource): PrometheusRulesFile {
  return {
    groups: [
      {
        name: spec.service,
        interval: promDuration(spec.watch.intervalMs),
        rules: spec.watch.rules.map((rule) => alertingRule(spec, rule)),
      },
    ],
  };
}

/** The same rules as a PrometheusRule resource, labelled for a Prometheus Operator rule selector. */
export function prometheusRule(spec: DeploySpec): PrometheusRuleResource {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: `${spec.service}-alerts`,
      namespace: spec.namespace,
      labels: { app: spec.service, 'app.kubernetes.io/managed-by': 'shipwatch' },
    },
    spec: prometheusRulesFile(spec),
  };
}
