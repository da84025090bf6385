/**
 * The uptime probe in the monitoring phase, on the time-skipping server with fake ports: green is
 * on the timeline and in the recommendations, only a result newer than the pods' verification is
 * asked for; a failing probe rolls back (onFailure: block) or warns (warn); a check that could not
 * run is a warning and an issue, never a pass. RECORD_HISTORIES=1 records `uptime-probe`.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { DeploymentReport } from '../../src/model';
import { recommendations } from '../../src/report/render';
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

const withUptime = (onFailure: 'block' | 'warn' = 'block') => ({
  kubernetes: { stepWindow: '1m' },
  watch: { duration: '10m', reviewAfter: '0s' },
  uptime: { url: 'https://users.example.com/health', onFailure },
});
const uptimeEvents = (report: DeploymentReport) => report.timeline.filter((e) => e.key === 'uptime').map((e) => `${e.phase} ${e.status} ${e.title}`);

test('green: checked after the other monitoring checks, for a result newer than the pods, in the recommendations', async () => {
  const world = createFakeDeps();
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec: await testSpec(withUptime()), world, record: 'uptime-probe', after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(uptimeEvents(report)).toEqual(['MONITORING ok Uptime probe green']);
  const ops = world.ops();
  expect(ops.indexOf('monitoring:dashboards')).toBeLessThan(ops.indexOf('checkUptime'));
  const pods = report.timeline.find((e) => e.key === 'pods')!;
  expect(world.calls.find((c) => c.op === 'checkUptime')?.input).toEqual({ job: 'uptime-user-management', url: 'https://users.example.com/health', since: pods.at });
  expect(recommendations(report).join('\n')).toContain('✅ Uptime probe green: the blackbox probe of https://users.example.com/health succeeds for the new release; probe_success{job="uptime-user-management",instance="https://users.example.com/health"} = 1');
});

test('failing with onFailure: block rolls back; with warn it is a warning and an issue', async () => {
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec: await testSpec(withUptime('block')), world: createFakeDeps({ uptime: 'failed' }), after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('ROLLED_BACK');
  expect(report.rollback).toMatchObject({ trigger: 'monitoring', reason: 'uptime probe: the blackbox probe of https://users.example.com/health fails (HTTP status 503)' });
  expect(uptimeEvents(report)).toEqual(['MONITORING failed Uptime probe failing (block)']);

  await env.teardown();
  env = await createDeploymentEnv();
  await runScenario(env, bundle, { spec: await testSpec(withUptime('warn')), world: createFakeDeps({ uptime: 'failed' }), after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(uptimeEvents(report)).toEqual(['MONITORING warning Uptime probe failing (warn)']);
  expect(report.issues).toContain('Uptime probe failing (warn): the blackbox probe of https://users.example.com/health fails (HTTP status 503)');
});

test('a probe result that could not be read: not checked, a warning and an issue, never green', async () => {
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec: await testSpec(withUptime()), world: createFakeDeps({ uptime: 'not_run' }), after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(uptimeEvents(report)).toEqual(['MONITORING warning Uptime probe not checked']);
  expect(recommendations(report).join('\n')).toContain("⚠️ Uptime probe not checked: the probe's result could not be read");
});
