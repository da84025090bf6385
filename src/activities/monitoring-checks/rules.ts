/**
 * Alerts configured and alerts tested. Configured: the spec's rules (what the watch window
 * evaluates) are installed where Prometheus evaluates them, with the same expression, operator,
 * threshold and `for` — applied as a PrometheusRule when the cluster has the Operator's CRDs,
 * otherwise compared with Prometheus's /api/v1/rules. Tested: each rule evaluated once now.
 */
import type { MonitoringCheckResult } from '../../model';
import { alertCondition, promDuration } from '../../monitoring';
import type { ResolvedAlertRule } from '../../spec/types';
import { breaches, queryPrometheus } from '../metrics';
import type { MonitoringCheckInput } from '../types';
import { applyMonitoringObjects, MissingCrdError, readPrometheusRule } from './apply';
import { messageOf, prometheusOf, result } from './context';
import type { MonitoringChecksOptions } from './context';
import { loadedAlertingRules } from './prometheus-api';
import { samePromql, splitCondition } from './promql';

/** An alerting rule as installed somewhere: its name, full condition, `for` and labels. */
export interface InstalledRule {
  name: string;
  query: string;
  forMs: number;
  labels?: Record<string, string>;
  /** Prometheus's evaluation health, when it comes from /api/v1/rules. */
  health?: 'ok' | 'err' | 'unknown';
  lastError?: string;
}

const num = (n: number): string => String(Number(n.toPrecision(6)));

/** The differences between one spec rule and one installed rule, each naming the rule and the field. */
export function ruleDifferences(rule: ResolvedAlertRule, installed: InstalledRule): string[] {
  const cond = splitCondition(installed.query);
  if (!cond) return [`${rule.name}: the installed query \`${installed.query}\` is not "expression op number" (the spec's is \`${alertCondition(rule)}\`)`];
  const out: string[] = [];
  if (!samePromql(cond.expr, rule.expr)) out.push(`${rule.name}: expression \`${cond.expr}\` installed, \`${rule.expr}\` in the spec`);
  if (cond.op !== rule.op) out.push(`${rule.name}: operator ${cond.op} installed, ${rule.op} in the spec`);
  if (cond.threshold !== rule.threshold) out.push(`${rule.name}: threshold ${num(cond.threshold)} installed, ${num(rule.threshold)} in the spec`);
  if (installed.forMs !== rule.forMs) out.push(`${rule.name}: for ${promDuration(installed.forMs)} installed, ${promDuration(rule.forMs)} in the spec`);
  if (installed.health === 'err') out.push(`${rule.name}: installed, but Prometheus fails to evaluate it: ${installed.lastError ?? 'no detail'}`);
  return out;
}

export interface RuleComparison {
  /** One line per spec rule: as in the spec, or what differs. */
  found: string[];
  differences: string[];
}

/**
 * Compares the spec's rules with the installed ones. A rule name installed several times (one per
 * service) is matched first among those labelled with this service; any exact match passes.
 */
export function compareInstalledRules(rules: ResolvedAlertRule[], installed: InstalledRule[], service: string): RuleComparison {
  const found: string[] = [];
  const differences: string[] = [];
  for (const rule of rules) {
    const named = installed.filter((r) => r.name === rule.name);
    if (named.length === 0) {
      const line = `${rule.name}: not installed (no alerting rule of that name)`;
      found.push(line);
      differences.push(line);
      continue;
    }
    const own = named.filter((r) => r.labels?.service === service);
    const candidates = own.length ? own : named;
    const diffs = candidates.map((c) => ruleDifferences(rule, c));
    const exact = diffs.findIndex((d) => d.length === 0);
    if (exact >= 0) {
      const health = candidates[exact]!.health;
      found.push(`${rule.name}: \`${alertCondition(rule)}\` for ${promDuration(rule.forMs)}, as in the spec${health === 'unknown' ? ' (not evaluated yet)' : health === 'ok' ? ' (evaluating)' : ''}`);
    } else {
      found.push(...diffs[0]!);
      differences.push(...diffs[0]!);
    }
  }
  return { found, differences };
}

function forToMs(text: string | undefined): number {
  if (!text) return 0;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) {
    const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 }[m[2] as 'ms'];
    ms += Number(m[1]) * unit;
  }
  return ms;
}

function verdict(comparison: RuleComparison, where: string): Pick<MonitoringCheckResult, 'status' | 'detail'> {
  return comparison.differences.length
    ? { status: 'failed', detail: `${comparison.differences.length} difference${comparison.differences.length > 1 ? 's' : ''} between the spec and ${where}: ${comparison.differences.join('; ')}` }
    : { status: 'passed', detail: `every rule of the spec is installed in ${where} with the same expression, threshold and for` };
}

export async function alertsConfigured(input: MonitoringCheckInput, options: MonitoringChecksOptions): Promise<MonitoringCheckResult> {
  const { spec } = input;
  const rules = spec.watch.rules;
  const notes: string[] = [];
  if (options.kubeConfig) {
    try {
      const applied = await applyMonitoringObjects(options.kubeConfig, spec);
      const back = await readPrometheusRule(options.kubeConfig, spec);
      const installed: InstalledRule[] = (back.spec?.groups ?? []).flatMap((g) =>
        (g.rules ?? []).filter((r) => r.alert).map((r) => ({ name: r.alert!, query: r.expr ?? '', forMs: forToMs(r.for), labels: { service: spec.service } })),
      );
      const comparison = compareInstalledRules(rules, installed, spec.service);
      const checked = `the ServiceMonitor and PrometheusRule applied to the cluster (Prometheus Operator CRDs present) and read back, against the ${rules.length} rules of the spec`;
      const where = `PrometheusRule ${spec.namespace}/${spec.service}-alerts`;
      return result('alerts-configured', checked, { ...verdict(comparison, where), found: [...applied.map((a) => `${a.action} ${a.kind} ${a.namespace}/${a.name}`), ...comparison.found] });
    } catch (err) {
      if (!(err instanceof MissingCrdError)) {
        notes.push(`applying the PrometheusRule failed (${messageOf(err)}): compared with Prometheus instead`);
      } else {
        notes.push(`no Prometheus Operator CRDs in the cluster (${err.missing.join(', ')}): compared with Prometheus's /api/v1/rules`);
      }
    }
  } else {
    notes.push('no cluster to apply a PrometheusRule to: compared with Prometheus\'s /api/v1/rules');
  }
  const prom = prometheusOf(input);
  const checked = `the alerting rules Prometheus has loaded (/api/v1/rules) against the ${rules.length} rules of the spec`;
  if ('missing' in prom) return result('alerts-configured', checked, { status: 'not_run', detail: prom.missing, found: notes });
  const loaded = await loadedAlertingRules(prom.url, options);
  if (!loaded.ok) return result('alerts-configured', checked, { status: 'not_run', detail: loaded.error, found: notes });
  const installed: InstalledRule[] = loaded.data.map((r) => ({
    name: r.name,
    query: r.query,
    forMs: Math.round((r.duration ?? 0) * 1000),
    ...(r.labels ? { labels: r.labels } : {}),
    health: r.health,
    ...(r.lastError ? { lastError: r.lastError } : {}),
  }));
  const comparison = compareInstalledRules(rules, installed, spec.service);
  return result('alerts-configured', checked, { ...verdict(comparison, `Prometheus at ${prom.url}`), found: [...notes, ...comparison.found] });
}

export async function alertsTested(input: MonitoringCheckInput, options: MonitoringChecksOptions): Promise<MonitoringCheckResult> {
  const rules = input.spec.watch.rules;
  const checked = `each of the ${rules.length} alert rules evaluated once now through Prometheus's query API`;
  const prom = prometheusOf(input);
  if ('missing' in prom) return result('alerts-tested', checked, { status: 'not_run', detail: prom.missing });
  const found: string[] = [];
  const silent: string[] = [];
  const firing: string[] = [];
  let unreachable: string | undefined;
  for (const rule of rules) {
    const answer = await queryPrometheus(prom.url, rule.expr, options);
    if (answer.outcome === 'unreachable') {
      unreachable = answer.error;
      break;
    }
    if (answer.outcome !== 'ok') {
      found.push(`${rule.name}: ${answer.outcome} (${answer.error ?? 'no detail'}): this alert cannot fire`);
      silent.push(rule.name);
      continue;
    }
    const worst = rule.op === '<' || rule.op === '<=' ? Math.min(...answer.values) : Math.max(...answer.values);
    const fires = breaches(worst, rule.op, rule.threshold);
    if (fires) firing.push(rule.name);
    found.push(`${rule.name}: ${num(worst)} ${rule.op} ${num(rule.threshold)} is ${fires ? 'true: would fire' : 'false: quiet'} (over ${answer.values.length} series)`);
  }
  if (unreachable) return result('alerts-tested', checked, { status: 'not_run', detail: unreachable, found });
  if (silent.length) return result('alerts-tested', checked, { status: 'failed', detail: `${silent.join(', ')} returned no value: ${silent.length > 1 ? 'these alerts' : 'this alert'} could never fire`, found });
  return result('alerts-tested', checked, {
    status: 'passed',
    detail: `every rule returns a value${firing.length ? `; would fire now: ${firing.join(', ')}` : ' and none would fire now'}`,
    found,
  });
}
