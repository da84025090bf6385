/**
 * The public entry point check in the verify phase, on the time-skipping server with fake ports:
 * after the pods, before the smoke suite; passed is on the timeline and in the recommendations, a
 * wrong route rolls back naming what it found, a check that could not run is a warning and an issue
 * (never a pass). RECORD_HISTORIES=1 records `entry-point` (the patched path).
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

const withEntryPoint = {
  kubernetes: { stepWindow: '1m' },
  watch: { duration: '10m', reviewAfter: '0s' },
  entryPoint: { kind: 'Ingress', name: 'user-management', host: 'users.example.com', url: 'http://127.0.0.1:8443', releaseField: 'version' },
};
const entryEvents = (report: DeploymentReport) => report.timeline.filter((e) => e.key === 'entry-point').map((e) => `${e.phase} ${e.status} ${e.title}`);

test('passed: after the pods and before the smoke suite, on the timeline and ticked in the recommendations', async () => {
  const world = createFakeDeps();
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec: await testSpec(withEntryPoint), world, record: 'entry-point', after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(entryEvents(report)).toEqual(['VERIFY_PODS ok Public entry point users.example.com/ routes to the new release']);
  const ops = world.ops();
  expect(ops.indexOf('verifyPods')).toBeLessThan(ops.indexOf('checkEntryPoint'));
  expect(ops.indexOf('checkEntryPoint')).toBeLessThan(ops.indexOf('smoke'));
  expect(world.calls.find((c) => c.op === 'checkEntryPoint')?.input).toEqual({ host: 'users.example.com', release: 'v1.0.0' });
  expect(recommendations(report).join('\n')).toMatch(/✅ Public entry point users\.example\.com\/ routes to the new release: users\.example\.com\/ routes to Service user-management; Health endpoint answered as v1\.0\.0/);
});

test('a route to another Service rolls back, naming what it found', async () => {
  const world = createFakeDeps({ entryPoint: 'failed' });
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec: await testSpec(withEntryPoint), world, after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('ROLLED_BACK');
  expect(report.rollback.trigger).toBe('verify-failed');
  expect(report.rollback.reason).toMatch(/^public entry point users\.example\.com\/: Ingress production(-\d+)?\/user-management routes users\.example\.com\/ to Service other:80, not Service user-management$/);
  expect(entryEvents(report)).toEqual(['VERIFY_PODS failed Public entry point users.example.com/ check failed']);
  // The smoke suite never ran on the new release: only on the old one, after the rollback.
  expect(world.ops().indexOf('smoke')).toBeGreaterThan(world.ops().indexOf('rollback'));
});

test('a check that could not run: a warning and an issue, never a pass; the deployment goes on', async () => {
  const world = createFakeDeps({ entryPoint: 'not_run' });
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec: await testSpec(withEntryPoint), world, after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(entryEvents(report)).toEqual(['VERIFY_PODS warning Public entry point users.example.com/ not checked']);
  expect(report.issues.join('\n')).toContain('Public entry point users.example.com/ not checked: could not read Ingress');
  expect(recommendations(report).join('\n')).toMatch(/⚠️ Public entry point users\.example\.com\/ not checked/);
});
