/**
 * The plain parts of the monitoring checks: PromQL compared by meaning, alert conditions split,
 * installed rules compared with the spec (each difference naming the rule and the field), the
 * selector on target labels, the Grafana model's structure, filebeat config, and the verdict.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import {
  canonicalPromql,
  compareInstalledRules,
  dashboardModelProblems,
  filebeatProblems,
  matchesSelector,
  parseSelector,
  samePromql,
  splitCondition,
} from '../../src/activities/monitoring-checks';
import type { InstalledRule } from '../../src/activities/monitoring-checks/rules';
import { checklistState, DEFAULT_MONITORING_POLICY, monitoringVerdict } from '../../src/model';
import type { MonitoringCheckResult, MonitoringRecord } from '../../src/model';
import { alertCondition, filebeatConfig, grafanaDashboard, monitoredService } from '../../src/monitoring';
import { monitoringChecklist, renderMonitoringSection } from '../../src/monitoring/report';
import { monitoringSpecSchema, resolveMonitoringSettings } from '../../src/monitoring/settings';
import { resolveSpec } from '../../src/spec';
import { mergeRecord, monitoringStop, settingsOf, STAGE_CHECKS, timelineStatus } from '../../src/workflows/deployment/monitoring';
import type { DeploySpec } from '../../src/spec';

let spec: DeploySpec;
beforeAll(async () => {
  spec = await resolveSpec({
    service: 'user-management',
    namespace: 'production',
    release: 'v1.0.1',
    image: 'ghcr.io/org/user-management:v1.0.1',
    kubernetes: { deployment: 'user-management', container: 'app' },
    serviceUrl: 'http://127.0.0.1:8080',
    metrics: { prometheusUrl: 'http://127.0.0.1:9090' },
  });
});

describe('PromQL by meaning', () => {
  test('spacing, parentheses, quotes, matcher order, durations and the by-clause position do not count', () => {
    expect(samePromql('sum(rate(x{a="1",b=~"2.."}[5m]))', ' sum( rate( x{ b=~\'2..\', a="1" }[300s] ) ) ')).toBe(true);
    expect(samePromql('sum by (le) (rate(x[5m]))', 'sum(rate(x[5m])) by (le)')).toBe(true);
    expect(samePromql('((a / b))', 'a / b')).toBe(true);
  });
  test('a different metric, label value, window, number or operator counts', () => {
    expect(samePromql('sum(rate(x[5m]))', 'sum(rate(y[5m]))')).toBe(false);
    expect(samePromql('x{a="1"}', 'x{a="2"}')).toBe(false);
    expect(samePromql('rate(x[5m])', 'rate(x[1m])')).toBe(false);
    expect(samePromql('a / b', 'a * b')).toBe(false);
    expect(samePromql('(a / b) + c', 'a / (b + c)')).toBe(false);
  });
  test('an expression that does not parse is never equal to anything', () => {
    expect(canonicalPromql('sum(rate(x[5m])')).toBeUndefined();
    expect(samePromql('sum(', 'sum(')).toBe(false);
  });
  test('an alert condition splits into expression, operator and threshold, either side', () => {
    expect(splitCondition('(sum(a) / sum(b)) > 0.05')).toEqual({ expr: 'sum(a) / sum(b)', op: '>', threshold: 0.05 });
    expect(splitCondition('up < 1')).toEqual({ expr: 'up', op: '<', threshold: 1 });
    expect(splitCondition('2 > kube_available')).toEqual({ expr: 'kube_available', op: '<', threshold: 2 });
    expect(splitCondition('sum(a) / sum(b)')).toBeUndefined();
    expect(splitCondition('a > b')).toBeUndefined();
  });
});

describe('installed rules against the spec', () => {
  const installedFrom = (s: DeploySpec): InstalledRule[] =>
    s.watch.rules.map((r) => ({ name: r.name, query: alertCondition(r), forMs: r.forMs, labels: { service: s.service }, health: 'ok' as const }));

  test('the generated rules, as Prometheus prints them, match', () => {
    const printed = installedFrom(spec).map((r) => ({ ...r, query: r.query.replace(/\s+/g, ' ').replace('[5m]', '[300s]') }));
    const c = compareInstalledRules(spec.watch.rules, printed, spec.service);
    expect(c.differences).toEqual([]);
    expect(c.found).toHaveLength(spec.watch.rules.length);
    expect(c.found[0]).toMatch(/^HighErrorRate: .* for 2m, as in the spec \(evaluating\)$/);
  });
  test('threshold drift fails naming the rule and the field', () => {
    const installed = installedFrom(spec).map((r) => (r.name === 'HighErrorRate' ? { ...r, query: r.query.replace(/> 0\.05$/, '> 0.01') } : r));
    const c = compareInstalledRules(spec.watch.rules, installed, spec.service);
    expect(c.differences).toEqual(['HighErrorRate: threshold 0.01 installed, 0.05 in the spec']);
  });
  test('a missing rule, another `for`, another operator and another expression are each named', () => {
    const installed = installedFrom(spec)
      .filter((r) => r.name !== 'PodDown')
      .map((r) => (r.name === 'HighResponseTime' ? { ...r, forMs: 60_000 } : r))
      .map((r) => (r.name === 'HighMemoryUsage' ? { ...r, query: r.query.replace('> 0.85', '< 0.85').replace('container_memory_usage_bytes', 'container_memory_rss') } : r));
    const c = compareInstalledRules(spec.watch.rules, installed, spec.service);
    expect(c.differences).toEqual([
      'HighResponseTime: for 1m installed, 5m in the spec',
      'PodDown: not installed (no alerting rule of that name)',
      expect.stringMatching(/^HighMemoryUsage: expression `.*container_memory_rss.*` installed, `.*container_memory_usage_bytes.*` in the spec$/),
      'HighMemoryUsage: operator < installed, > in the spec',
    ]);
  });
  test("another service's rule of the same name does not hide this service's drift, nor fail it when this one is right", () => {
    const other = installedFrom(spec).map((r) => ({ ...r, labels: { service: 'billing' }, query: r.query.replace(/> 0\.05$/, '> 0.2') }));
    expect(compareInstalledRules(spec.watch.rules, [...other, ...installedFrom(spec)], spec.service).differences).toEqual([]);
    const drift = installedFrom(spec).map((r) => (r.name === 'HighErrorRate' ? { ...r, query: r.query.replace(/> 0\.05$/, '> 0.1') } : r));
    expect(compareInstalledRules(spec.watch.rules, [...installedFrom(spec).map((r) => ({ ...r, labels: { service: 'billing' } })), ...drift], spec.service).differences).toEqual([
      'HighErrorRate: threshold 0.1 installed, 0.05 in the spec',
    ]);
  });
  test('a rule Prometheus fails to evaluate is a difference', () => {
    const installed = installedFrom(spec).map((r) => (r.name === 'PodDown' ? { ...r, health: 'err' as const, lastError: 'many-to-many matching' } : r));
    expect(compareInstalledRules(spec.watch.rules, installed, spec.service).differences).toEqual(['PodDown: installed, but Prometheus fails to evaluate it: many-to-many matching']);
  });
});

test('the metrics selector applies to target labels as PromQL would', () => {
  const m = parseSelector('job="user-management", namespace=~"prod.*", env!="dev"')!;
  expect(m).toHaveLength(3);
  expect(matchesSelector({ job: 'user-management', namespace: 'production' }, m)).toBe(true);
  expect(matchesSelector({ job: 'user-management', namespace: 'staging' }, m)).toBe(false);
  expect(matchesSelector({ job: 'user-management', namespace: 'production', env: 'dev' }, m)).toBe(false);
  expect(parseSelector('job=user-management')).toBeUndefined();
});

describe('the Grafana dashboard model', () => {
  test('the generated dashboard is valid', () => {
    expect(dashboardModelProblems(JSON.parse(JSON.stringify(grafanaDashboard(spec, monitoredService(spec)))))).toEqual([]);
  });
  test('missing or broken fields are named', () => {
    const d = JSON.parse(JSON.stringify(grafanaDashboard(spec, monitoredService(spec)))) as Record<string, unknown> & { panels: Record<string, unknown>[] };
    delete d.title;
    d.panels[1]!.id = d.panels[2]!.id;
    d.panels[3]!.gridPos = { x: 20, y: 0, w: 12, h: 8 };
    d.panels[4]!.targets = [];
    d.templating = { list: [] };
    expect(dashboardModelProblems(d)).toEqual([
      'title: missing (Grafana requires a title)',
      'panels[1] "Request Rate": datasource variable $datasource is not defined in templating',
      'panels[2] "Error Rate": id 3 used twice',
      'panels[2] "Error Rate": datasource variable $datasource is not defined in templating',
      'panels[3] "Response Time (95th percentile)": gridPos outside Grafana\'s 24-column grid',
      'panels[3] "Response Time (95th percentile)": datasource variable $datasource is not defined in templating',
      'panels[4] "Active Users": no query (targets)',
      'panels[4] "Active Users": datasource variable $datasource is not defined in templating',
      ...d.panels.slice(6).map((p) => `panels[${d.panels.indexOf(p)}] "${String(p.title)}": datasource variable $datasource is not defined in templating`),
    ]);
    expect(dashboardModelProblems([])).toEqual(['the dashboard is not a JSON object']);
  });
});

test("filebeat: the generated config ships the service's logs; another service's or one without output does not", () => {
  expect(filebeatProblems(spec, filebeatConfig(spec))).toEqual([]);
  const other = stringify({ 'filebeat.inputs': [{ type: 'container', paths: ['/var/log/containers/billing-*_production_app-*.log'] }], 'output.elasticsearch': { hosts: ['es:9200'] } });
  expect(filebeatProblems(spec, other)).toEqual([expect.stringMatching(/^no filebeat input reads the service's container logs \(expected a path like \/var\/log\/containers\/user-management-\*_production_app-\*\.log; found \/var\/log\/containers\/billing-\*/)]);
  const all = stringify({ 'filebeat.inputs': [{ type: 'container', paths: ['/var/log/containers/*.log'] }] });
  expect(filebeatProblems(spec, all)).toEqual(['no output.* section: the logs go nowhere']);
  expect(filebeatProblems(spec, 'a: [')[0]).toMatch(/^it is not YAML/);
});

describe('verdict and checklist', () => {
  const r = (check: MonitoringCheckResult['check'], status: MonitoringCheckResult['status']): MonitoringCheckResult => ({ check, status, checked: '', found: [], detail: '' });
  test('failed or not-run checks block under `block` and warn under `warn`', () => {
    const v = monitoringVerdict([r('scrape', 'not_run'), r('alerts-configured', 'passed'), r('dashboards', 'failed'), r('logging', 'passed')]);
    expect(v.blocking.map((c) => c.check)).toEqual(['scrape']);
    expect(v.warnings.map((c) => c.check)).toEqual(['dashboards']);
    expect(monitoringVerdict([r('dashboards', 'failed')], { ...DEFAULT_MONITORING_POLICY, dashboards: 'block' }).blocking).toHaveLength(1);
  });
  test('a checklist line is ticked only when every check behind it passed', () => {
    const record: MonitoringRecord = { checkedAt: '', checks: [r('scrape', 'passed'), r('dashboards', 'passed'), r('alerts-configured', 'passed'), r('alerts-tested', 'not_run'), r('logging', 'failed')] };
    expect(checklistState(record, ['scrape', 'dashboards'])).toBe('passed');
    expect(checklistState(record, ['alerts-configured', 'alerts-tested'])).toBe('not checked');
    expect(checklistState(record, ['logging'])).toBe('failed');
    expect(checklistState(record, ['error-tracking'])).toBe('not checked');
    expect(checklistState(undefined, ['scrape'])).toBe('not checked');
  });
});

describe('the report: Monitoring section and checklist', () => {
  const record: MonitoringRecord = {
    checkedAt: '2025-11-15T10:24:00.000Z',
    checks: [
      { check: 'scrape', status: 'passed', checked: 'targets', found: ['pod a: a target of its own, up'], detail: '1 target up' },
      { check: 'dashboards', status: 'passed', checked: 'dashboard', found: [], detail: 'all queries return data' },
      { check: 'alerts-configured', status: 'failed', checked: 'rules', found: [], detail: 'HighErrorRate: threshold 0.01 installed, 0.05 in the spec' },
      { check: 'alerts-tested', status: 'passed', checked: 'rules', found: [], detail: 'every rule returns a value' },
      { check: 'logging', status: 'passed', checked: 'logs', found: [], detail: 'readable' },
      { check: 'error-tracking', status: 'not_run', checked: 'dsn', found: [], detail: 'the spec names no error-tracking DSN' },
    ],
  };
  test('each check with what it checked and found', () => {
    const lines = renderMonitoringSection(record);
    expect(lines.slice(0, 5)).toEqual(['**Checked**: 2025-11-15 10:24 UTC', '', '- ✅ **Scrape**: 1 target up', '  - Checked: targets', '  - pod a: a target of its own, up']);
    expect(lines).toContain('- ❌ **Alerts configured**: HighErrorRate: threshold 0.01 installed, 0.05 in the spec');
    expect(lines).toContain('- ⚠️ not run — **Error tracking**: the spec names no error-tracking DSN');
    expect(renderMonitoringSection(undefined)).toEqual(['Monitoring was not checked in this deployment.']);
  });
  test('the checklist ticks only what passed', () => {
    expect(monitoringChecklist(record)).toEqual([
      '✅ Monitoring dashboards showing green',
      '❌ Alerts configured and tested: Alerts configured failed (see Monitoring)',
      '✅ Logging aggregation working',
      '⚠️ Error tracking enabled: not checked',
    ]);
    expect(monitoringChecklist(undefined).every((l) => l.endsWith(': not checked'))).toBe(true);
  });
});

describe('the monitoring section of the spec', () => {
  const schema = monitoringSpecSchema(z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/));
  test('defaults: block scrape and alert configuration, warn for the rest; nothing else configured', () => {
    expect(resolveMonitoringSettings(schema.parse(undefined), 'production')).toEqual({ policy: DEFAULT_MONITORING_POLICY });
    expect(DEFAULT_MONITORING_POLICY).toEqual({ scrape: 'block', 'alerts-configured': 'block', 'alerts-tested': 'warn', logging: 'warn', 'error-tracking': 'warn', dashboards: 'warn' });
  });
  test('each check can be turned into a warning (or a block); the pipeline namespace defaults to the spec\'s', () => {
    const parsed = schema.parse({ checks: { scrape: 'warn', dashboards: 'block' }, logPipeline: { configMap: 'filebeat-config' }, errorTracking: { dsn: 'env:SENTRY_DSN' } });
    expect(resolveMonitoringSettings(parsed, 'production')).toEqual({
      policy: { ...DEFAULT_MONITORING_POLICY, scrape: 'warn', dashboards: 'block' },
      logPipeline: { namespace: 'production', configMap: 'filebeat-config', key: 'filebeat.yml' },
      errorTracking: { dsn: 'env:SENTRY_DSN', env: 'SENTRY_DSN' },
    });
  });
  test('bad values are refused, naming the field', () => {
    const bad = schema.safeParse({ checks: { scrape: 'maybe' }, errorTracking: { dsn: 'https://key@sentry.io/1' } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual(['checks.scrape', 'errorTracking.dsn']);
    expect(schema.safeParse({ checks: { scrapes: 'warn' } }).success).toBe(false);
  });
});

test('the loader resolves the monitoring section and names a bad field in it', async () => {
  const base = { service: 'user-management', namespace: 'production', release: 'v1.0.1', image: 'ghcr.io/org/user-management:v1.0.1', kubernetes: { deployment: 'user-management', container: 'app' }, serviceUrl: 'http://127.0.0.1:8080' };
  expect(spec.monitoring).toEqual({ policy: DEFAULT_MONITORING_POLICY });
  const resolved = await resolveSpec({ ...base, monitoring: { checks: { dashboards: 'block' }, errorTracking: { dsn: 'env:SENTRY_DSN' }, logPipeline: { configMap: 'filebeat-config', namespace: 'logging' } } });
  expect(resolved.monitoring).toEqual({
    policy: { ...DEFAULT_MONITORING_POLICY, dashboards: 'block' },
    logPipeline: { namespace: 'logging', configMap: 'filebeat-config', key: 'filebeat.yml' },
    errorTracking: { dsn: 'env:SENTRY_DSN', env: 'SENTRY_DSN' },
  });
  await expect(resolveSpec({ ...base, monitoring: { checks: { scrape: 'sometimes' } } })).rejects.toThrow(/monitoring\.checks\.scrape/);
});

describe('the MONITORING stage decisions', () => {
  const r = (check: MonitoringCheckResult['check'], status: MonitoringCheckResult['status'], detail = 'd'): MonitoringCheckResult => ({ check, status, checked: 'c', found: [], detail });
  test('the pre-deploy check configures the alerts; the other five run after the metrics', () => {
    expect(STAGE_CHECKS).toEqual({ precheck: ['alerts-configured'], 'after-metrics': ['scrape', 'alerts-tested', 'logging', 'error-tracking', 'dashboards'] });
  });
  test('blocking failures stop: fail before the rollout, roll back after it; warnings never stop', () => {
    const drift = r('alerts-configured', 'failed', 'HighErrorRate: threshold 0.01 installed, 0.05 in the spec');
    expect(monitoringStop(monitoringVerdict([drift]), 'precheck')).toEqual({ action: 'fail', reason: 'monitoring check failed: Alerts configured (HighErrorRate: threshold 0.01 installed, 0.05 in the spec)' });
    expect(monitoringStop(monitoringVerdict([r('scrape', 'not_run', 'Prometheus unreachable'), r('dashboards', 'failed')]), 'after-metrics')).toEqual({
      action: 'rollback',
      reason: 'monitoring check failed: Scrape (could not run: Prometheus unreachable)',
    });
    expect(monitoringStop(monitoringVerdict([r('dashboards', 'failed'), r('error-tracking', 'not_run')]), 'after-metrics')).toBeUndefined();
  });
  test('on the timeline a warned failure is a warning, a blocked one a failure, a check not run a warning', () => {
    expect(timelineStatus(r('scrape', 'failed'), 'block')).toBe('failed');
    expect(timelineStatus(r('dashboards', 'failed'), 'warn')).toBe('warning');
    expect(timelineStatus(r('scrape', 'not_run'), 'block')).toBe('warning');
    expect(timelineStatus(r('scrape', 'passed'), 'block')).toBe('ok');
  });
  test('the record keeps the pre-deploy result and the later ones in the checks order', () => {
    const first = mergeRecord(undefined, [r('alerts-configured', 'passed')], 't1');
    const both = mergeRecord(first, [r('dashboards', 'failed'), r('scrape', 'passed')], 't2');
    expect(both).toEqual({ checkedAt: 't2', checks: [r('scrape', 'passed'), r('alerts-configured', 'passed'), r('dashboards', 'failed')] });
    expect(JSON.parse(JSON.stringify(both))).toEqual(both);
  });
  test('specs resolved before the monitoring section existed get the default policy', () => {
    const { monitoring: _m, ...old } = spec;
    expect(settingsOf(old)).toEqual({ policy: DEFAULT_MONITORING_POLICY });
  });
});
