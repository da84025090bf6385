/**
 * The monitoring generators: rules equal to the watch window's rules and accepted by promtool,
 * alerts that fire on synthetic series (promtool test rules), a dashboard whose PromQL Prometheus
 * parses, and a runbook naming every alert with the shipwatch commands.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parse, stringify } from 'yaml';
import { resolveSpec } from '../../src/spec';
import type { DeploySpec } from '../../src/spec';
import {
  DASHBOARD_SCHEMA_VERSION,
  dashboardQueries,
  grafanaDashboard,
  monitoredService,
  monitoringFiles,
  prometheusRulesFile,
  promDuration,
  serviceMonitor,
} from '../../src/monitoring';
import { PromtoolError, checkPromQL, checkRules, runPromtool } from '../../src/monitoring/validate';
import type { GrafanaDashboard, prometheusRule } from '../../src/monitoring';
import { deploymentWorkflowId } from '../../src/workflows/messages';

jest.setTimeout(60_000);

beforeAll(() => {
  execFileSync('bash', ['tools/ensure-apt.sh', 'promtool=prometheus'], { stdio: 'inherit' });
});

const document = {
  service: 'user-management',
  namespace: 'production',
  release: 'v1.0.0',
  image: 'ghcr.io/org/user-management:v1.0.0',
  kubernetes: { deployment: 'user-management', container: 'app' },
  serviceUrl: 'http://user-management.production:8080',
  metrics: { prometheusUrl: 'http://127.0.0.1:9090' },
  watch: {
    extraRules: [
      {
        name: 'LoginFailures',
        expr: 'sum(rate(login_failures_total{job="user-management"}[5m]))',
        op: '>=',
        threshold: 3,
        for: '1m30s',
        severity: 'info',
        summary: 'Many failed logins',
      },
    ],
  },
  notifications: { pager: { webhook: 'env:PAGER_URL' } },
};

let spec: DeploySpec;
beforeAll(async () => {
  spec = await resolveSpec(document);
});

describe('alert rules', () => {
  test('the rules file carries exactly the watch window rules: condition, for, severity, annotations', () => {
    const file = prometheusRulesFile(spec);
    expect(file.groups).toHaveLength(1);
    const group = file.groups[0]!;
    expect(group.interval).toBe('30s');
    expect(group.rules.map((r) => r.alert)).toEqual([
      'HighErrorRate',
      'HighResponseTime',
      'PodDown',
      'HighMemoryUsage',
      'LoginFailures',
    ]);
    for (const [i, rule] of spec.watch.rules.entries()) {
      const generated = group.rules[i]!;
      expect(generated.expr).toBe(`(${rule.expr}) ${rule.op} ${rule.threshold}`);
      expect(generated.labels.severity).toBe(rule.severity);
      expect(generated.for).toBe(promDuration(rule.forMs));
    }
    const errorRate = group.rules[0]!;
    expect(errorRate.for).toBe('2m');
    expect(errorRate.labels).toMatchObject({ severity: 'critical', service: 'user-management', namespace: 'production' });
    expect(errorRate.annotations.summary).toBe('High error rate detected');
    expect(errorRate.annotations.description).toBe('Error rate is {{ $value | humanizePercentage }}');
    expect(group.rules[4]!.for).toBe('1m30s');
    expect(group.rules[4]!.expr.endsWith(' >= 3')).toBe(true);
  });

  test('promtool accepts the plain rules file and the PrometheusRule spec', async () => {
    const files = monitoringFiles(spec);
    const plain = files.find((f) => f.name === 'prometheus-alerts.yml')!.content;
    expect(await checkRules(plain)).toMatch(/SUCCESS: 5 rules found/);
    const resource = parse(files.find((f) => f.name === 'prometheusrule.yaml')!.content) as ReturnType<typeof prometheusRule>;
    expect(resource).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(resource.metadata).toMatchObject({ name: 'user-management-alerts', namespace: 'production' });
    expect(await checkRules(stringify(resource.spec))).toMatch(/SUCCESS: 5 rules found/);
  });

  test('promtool rejects a spec rule with broken PromQL (the check can fail)', async () => {
    // The loader refuses broken PromQL itself now; break the resolved rule to test promtool's own check.
    const valid = await resolveSpec({
      ...document,
      watch: { rules: [{ name: 'Broken', expr: 'sum(rate(http_requests_total[5m]))', threshold: 1 }] },
    });
    const broken: DeploySpec = { ...valid, watch: { ...valid.watch, rules: valid.watch.rules.map((r) => ({ ...r, expr: 'sum(rate(http_requests_total[5m]' })) } };
    await expect(checkRules(stringify(prometheusRulesFile(broken)))).rejects.toThrow(PromtoolError);
  });

  test('the generated alerts fire on synthetic faults and stay quiet on healthy series (promtool test rules)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shipwatch-rules-'));
    try {
      await writeFile(join(dir, 'alerts.yml'), stringify(prometheusRulesFile(spec)));
      const labels = 'job="user-management"';
      const tests = {
        rule_files: ['alerts.yml'],
        evaluation_interval: '30s',
        tests: [
          {
            interval: '30s',
            input_series: [
              // 10% of requests fail (3 of 30 per 30s), well above the seed's 5%.
              { series: `http_requests_total{${labels},status="200"}`, values: '0+27x40' },
              { series: `http_requests_total{${labels},status="500"}`, values: '0+3x40' },
              { series: 'kube_deployment_status_replicas_available{namespace="production",deployment="user-management"}', values: '3x10 1x30' },
            ],
            alert_rule_test: [
              { eval_time: '1m', alertname: 'HighErrorRate', exp_alerts: [] },
              {
                eval_time: '10m',
                alertname: 'HighErrorRate',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'critical', service: 'user-management', namespace: 'production' },
                    exp_annotations: {
                      summary: 'High error rate detected',
                      description: 'Error rate is 10%',
                      runbook: 'runbook.md#alert-higherrorrate',
                    },
                  },
                ],
              },
              { eval_time: '5m', alertname: 'PodDown', exp_alerts: [] },
              {
                eval_time: '10m',
                alertname: 'PodDown',
                exp_alerts: [
                  {
                    exp_labels: {
                      severity: 'critical',
                      service: 'user-management',
                      namespace: 'production',
                      deployment: 'user-management',
                    },
                    exp_annotations: {
                      summary: 'Insufficient pods running',
                      description: 'Only 1 pods available',
                      runbook: 'runbook.md#alert-poddown',
                    },
                  },
                ],
              },
            ],
          },
        ],
      };
      await writeFile(join(dir, 'tests.yml'), stringify(tests));
      const { code, output } = await runPromtool(['test', 'rules', 'tests.yml'], { cwd: dir });
      expect(output).toMatch(/SUCCESS/);
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ServiceMonitor', () => {
  test("selects the service's metrics port at the watch interval", () => {
    const monitor = serviceMonitor(spec, monitoredService(spec));
    expect(monitor).toMatchObject({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'user-management', namespace: 'production' },
      spec: { selector: { matchLabels: { app: 'user-management' } }, endpoints: [{ port: 'metrics', interval: '30s' }] },
    });
  });
});

describe('Grafana dashboard', () => {
  let dashboard: GrafanaDashboard;
  beforeAll(() => {
    const file = monitoringFiles(spec).find((f) => f.name === 'grafana-dashboard.json')!;
    dashboard = JSON.parse(file.content) as GrafanaDashboard;
  });

  test('follows the dashboard JSON model: schema version, unique panel ids, grid positions', () => {
    expect(dashboard.schemaVersion).toBe(DASHBOARD_SCHEMA_VERSION);
    expect(typeof dashboard.uid).toBe('string');
    expect(dashboard.uid.length).toBeLessThanOrEqual(40);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.w).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      for (const t of panel.targets ?? []) expect(t.refId).toBe('A');
    }
  });

  test("has the seed's four panels, one panel per alert rule and the release annotations", () => {
    const titles = dashboard.panels.map((p) => p.title);
    expect(titles).toEqual(
      expect.arrayContaining(['Request Rate', 'Error Rate', 'Response Time (95th percentile)', 'Active Users']),
    );
    for (const rule of spec.watch.rules) {
      const panel = dashboard.panels.find((p) => p.title.startsWith(`${rule.name} `));
      expect(panel?.targets?.[0]?.expr).toBe(rule.expr);
    }
    const annotationNames = dashboard.annotations.list.map((a) => a.name);
    expect(annotationNames).toEqual(
      expect.arrayContaining(['Release started', 'Release finished', 'Release rolled back']),
    );
    expect(dashboard.annotations.list.find((a) => a.name === 'Release rolled back')?.expr).toContain(
      'shipwatch_deployment_events_total{service="user-management",namespace="production",event="rolled_back"}',
    );
  });

  test("every PromQL query parses with Prometheus's own parser", async () => {
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBe(4 + spec.watch.rules.length + 3);
    await expect(checkPromQL(queries)).resolves.toBeUndefined();
  });

  test('the parser check rejects a broken query', async () => {
    const broken = grafanaDashboard(spec, monitoredService(spec, { selector: 'job="x",' + 'status=~' }));
    await expect(checkPromQL(dashboardQueries(broken))).rejects.toThrow(/invalid PromQL/);
  });
});

describe('log shipping, error tracking, runbook', () => {
  test("filebeat ships the service's container logs to a daily index", () => {
    const file = monitoringFiles(spec).find((f) => f.name === 'filebeat.yml')!;
    const config = parse(file.content) as Record<string, unknown>;
    const input = (config['filebeat.inputs'] as Record<string, unknown>[])[0]!;
    expect(input.type).toBe('container');
    expect(input.paths).toEqual(['/var/log/containers/user-management-*_production_app-*.log']);
    expect(config['output.elasticsearch']).toMatchObject({ index: 'user-management-%{+yyyy.MM.dd}' });
    expect(config['setup.template.pattern']).toBe('user-management-*');
  });

  test('error tracking: environment, release, 10% traces, no PII, no DSN in the ConfigMap', () => {
    const file = monitoringFiles(spec).find((f) => f.name === 'error-tracking.yaml')!;
    const configMap = parse(file.content) as { data: Record<string, string> };
    expect(configMap.data).toEqual({
      SENTRY_ENVIRONMENT: 'production',
      SENTRY_RELEASE: 'user-management@v1.0.0',
      SENTRY_TRACES_SAMPLE_RATE: '0.1',
      SENTRY_SEND_DEFAULT_PII: 'false',
    });
  });

  test('the runbook has every alert with severity, causes, escalation and the exact shipwatch commands', () => {
    const text = monitoringFiles(spec).find((f) => f.name === 'runbook.md')!.content;
    const id = deploymentWorkflowId('production', 'user-management');
    expect(id).toBe('deploy-production-user-management');
    for (const rule of spec.watch.rules) expect(text).toContain(`### Alert: ${rule.name}`);
    const errorRate = text.slice(text.indexOf('### Alert: HighErrorRate'), text.indexOf('### Alert: HighResponseTime'));
    expect(errorRate).toContain('**Severity**: Critical');
    expect(errorRate).toContain('value > 5% for 2m');
    expect(errorRate).toContain('- Third-party API failure (email, OAuth)');
    expect(errorRate).toContain('- If database: check DB status, restart if needed');
    expect(errorRate).toContain('After 5m firing: page the on-call engineer');
    expect(errorRate).toContain('After 15m firing: shipwatch rolls the release back automatically');
    expect(text).toContain(`shipwatch timeline ${id} --follow`);
    expect(text).toContain(`shipwatch status ${id}`);
    expect(text).toContain(`shipwatch rollback ${id} --reason "`);
    expect(text).toContain('kubectl rollout undo deployment/user-management -n production');
  });

  test('without autoRollback the runbook tells the on-call to consider the rollback command', async () => {
    const manual = await resolveSpec({ ...document, watch: { autoRollback: false, escalation: { rollbackAfter: '20m' } } });
    const text = monitoringFiles(manual).find((f) => f.name === 'runbook.md')!.content;
    expect(text).toContain('After 20m firing: consider rollback (watch.autoRollback is off)');
    expect(text).not.toContain('rolls the release back automatically');
  });
});
