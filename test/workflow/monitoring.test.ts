/**
 * The MONITORING stage on the time-skipping server with fake ports: the alert configuration in the
 * pre-deploy check decides go/no-go, the other checks after the metrics each land on the timeline
 * and in the report; a blocking failure rolls back, a warning does not. RECORD_HISTORIES=1 records
 * `monitoring-phase` (the patched path) for the replay test.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { DeploymentReport } from '../../src/model';
import { reportQuery } from '../../src/workflows/messages';
import { createFakeDeps } from '../helpers/fakes';
import { testSpec } from './fixtures/spec';
import { bundleWorkflows, createDeploymentEnv, runScenario, settledReport } from './harness';

jest.setTimeout(600_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});
beforeEach(async () => {
  env = await createDeploymentEnv();
});
afterEach(async () => env?.teardown());

const shortWatch = { kubernetes: { stepWindow: '1m' }, watch: { duration: '10m', reviewAfter: '0s' } };
const monitoringLines = (report: DeploymentReport) => report.timeline.filter((e) => e.title.startsWith('Monitoring:')).map((e) => `${e.phase} ${e.status} ${e.title}`);

test('every check passes: alerts configured before the rollout, the rest after the metrics, all in the report', async () => {
  const world = createFakeDeps();
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec: await testSpec(shortWatch), world, record: 'monitoring-phase', after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(monitoringLines(report)).toEqual([
    'PRECHECK ok Monitoring: Alerts configured passed',
    'MONITORING ok Monitoring: Scrape passed',
    'MONITORING ok Monitoring: Alerts tested passed',
    'MONITORING ok Monitoring: Logging passed',
    'MONITORING ok Monitoring: Error tracking passed',
    'MONITORING ok Monitoring: Dashboards passed',
  ]);
  expect(report.monitoring?.checks.map((c) => `${c.check}:${c.status}`)).toEqual(['scrape:passed', 'alerts-configured:passed', 'alerts-tested:passed', 'logging:passed', 'error-tracking:passed', 'dashboards:passed']);
  const ops = world.ops();
  expect(ops.indexOf('monitoring:alerts-configured')).toBeLessThan(ops.indexOf('rolloutStep'));
  expect(ops.indexOf('compareMetrics')).toBeLessThan(ops.indexOf('monitoring:scrape'));
});

test('alert configuration drift in the pre-deploy check: nothing is rolled out, the deployment fails naming it', async () => {
  const world = createFakeDeps({ monitoring: { 'alerts-configured': 'failed' } });
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec: await testSpec(shortWatch), world, after: async (h) => void (report = await h.query(reportQuery)) });
  expect(report.outcome).toBe('FAILED');
  expect(world.ops()).not.toContain('rolloutStep');
  expect(monitoringLines(report)).toEqual(['PRECHECK failed Monitoring: Alerts configured failed (block)']);
  expect(report.issues.join('\n') + report.timeline.map((e) => e.detail ?? '').join('\n')).toContain('monitoring check failed: Alerts configured (fake: failed)');
});

test('a blocking check failing after the rollout rolls back; a warning alone does not', async () => {
  const blocked = createFakeDeps({ monitoring: { scrape: 'failed', dashboards: 'failed' } });
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec: await testSpec(shortWatch), world: blocked, after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('ROLLED_BACK');
  expect(report.rollback).toMatchObject({ trigger: 'monitoring', reason: 'monitoring check failed: Scrape (fake: failed)' });

  await env.teardown();
  env = await createDeploymentEnv();
  const warned = createFakeDeps({ monitoring: { dashboards: 'failed', 'error-tracking': 'not_run' } });
  await runScenario(env, bundle, { spec: await testSpec(shortWatch), world: warned, after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(monitoringLines(report)).toContain('MONITORING warning Monitoring: Dashboards failed (warn)');
  expect(monitoringLines(report)).toContain('MONITORING warning Monitoring: Error tracking not run (warn)');
});
