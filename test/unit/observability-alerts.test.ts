/** deploy/prometheus/shipwatch-alerts.yml: promtool accepts it, and each alert fires on synthetic series. */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { checkRules, runPromtool } from '../../src/monitoring/validate';
import { METRIC } from '../../src/observability/metric-names';

const RULES = join(__dirname, '../../deploy/prometheus/shipwatch-alerts.yml');
const worker = 'job="shipwatch-worker",instance="worker-0:9464"';

jest.setTimeout(60_000);
beforeAll(() => {
  execFileSync('bash', ['tools/ensure-apt.sh', 'promtool=prometheus'], { stdio: 'inherit' });
});

test('promtool accepts the shipped rules, written against the metric names the worker exports', async () => {
  const text = await readFile(RULES, 'utf8');
  expect(await checkRules(text)).toMatch(/SUCCESS: 6 rules found/);
  for (const name of [METRIC.activityFailures, METRIC.activityExecutions, METRIC.watchLastCheck, METRIC.watchInterval, METRIC.workerRunning]) {
    expect(text).toContain(name);
  }
});

test('worker down, activity failure rate and a stuck watch window fire; a healthy watch window does not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shipwatch-own-alerts-'));
  try {
    await copyFile(RULES, join(dir, 'alerts.yml'));
    const watch = (id: string) => `workflow_id="${id}",service="user-management",namespace="production"`;
    const tests = {
      rule_files: ['alerts.yml'],
      evaluation_interval: '30s',
      tests: [
        {
          interval: '30s',
          input_series: [
            { series: `up{${worker}}`, values: '1x4 0x20' },
            // 40 attempts per 30s of evaluateAlertRules, half failing.
            { series: `shipwatch_activity_executions_total{${worker},activity_type="evaluateAlertRules"}`, values: '0+40x60' },
            { series: `shipwatch_activity_failures_total{${worker},activity_type="evaluateAlertRules",error="PrometheusUnreachable"}`, values: '0+20x60' },
            { series: `shipwatch_activity_executions_total{${worker},activity_type="runSmokeSuite"}`, values: '0+40x60' },
            { series: `shipwatch_activity_failures_total{${worker},activity_type="runSmokeSuite",error="Cancelled"}`, values: '0+40x60' },
            // Watch interval 30s: one deployment checks every 30s, one stopped checking at 60s.
            { series: `shipwatch_watch_interval_seconds{${worker},${watch('deploy-production-a')}}`, values: '30x60' },
            { series: `shipwatch_watch_last_check_timestamp_seconds{${worker},${watch('deploy-production-a')}}`, values: '0+30x60' },
            { series: `shipwatch_watch_interval_seconds{${worker},${watch('deploy-production-b')}}`, values: '30x60' },
            { series: `shipwatch_watch_last_check_timestamp_seconds{${worker},${watch('deploy-production-b')}}`, values: '0+30x2 60x58' },
          ],
          alert_rule_test: [
            { eval_time: '1m', alertname: 'ShipwatchWorkerDown', exp_alerts: [] },
            {
              eval_time: '6m',
              alertname: 'ShipwatchWorkerDown',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', job: 'shipwatch-worker', instance: 'worker-0:9464' },
                  exp_annotations: {
                    summary: 'shipwatch worker down',
                    description: 'Prometheus cannot scrape the shipwatch worker worker-0:9464: deployments and their watch windows make no progress on it.',
                  },
                },
              ],
            },
            {
              eval_time: '25m',
              alertname: 'ShipwatchActivityFailureRate',
              // runSmokeSuite only has cancellations (a rollback interrupting it): not failures.
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', activity_type: 'evaluateAlertRules' },
                  exp_annotations: {
                    summary: 'Activity evaluateAlertRules fails often',
                    description:
                      '50% of evaluateAlertRules attempts failed over 10 minutes; Temporal retries them, but a release may be stalled. Check the worker logs for activityType=evaluateAlertRules.',
                  },
                },
              ],
            },
            { eval_time: '2m', alertname: 'ShipwatchWatchWindowStuck', exp_alerts: [] },
            {
              eval_time: '5m',
              alertname: 'ShipwatchWatchWindowStuck',
              exp_alerts: [
                {
                  exp_labels: {
                    severity: 'critical',
                    job: 'shipwatch-worker',
                    instance: 'worker-0:9464',
                    workflow_id: 'deploy-production-b',
                    service: 'user-management',
                    namespace: 'production',
                  },
                  exp_annotations: {
                    summary: 'Watch window of user-management (production) is stuck',
                    description:
                      'No watch check of deploy-production-b completed for 4m 0s. Run: shipwatch status deploy-production-b; shipwatch timeline deploy-production-b --follow',
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
