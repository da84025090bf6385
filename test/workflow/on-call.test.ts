/**
 * On-call at the deployment's start, on the time-skipping server with fake ports: the engineer the
 * rotation's schedule names is on the timeline and ticked in the report, pages go to the rotation's
 * webhook; an unreadable schedule or no rotation is a warning and an issue, never a failure, and the
 * report says nobody was assigned. RECORD_HISTORIES=1 records `on-call` (the patched path).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { DeploymentReport } from '../../src/model';
import { recommendations } from '../../src/report/render';
import { resolveSpec } from '../../src/spec/load';
import type { DeploySpec } from '../../src/spec/types';
import { createFakeDeps } from '../helpers/fakes';
import { specDocument } from './fixtures/spec';
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

const SCHEDULE = 'shifts:\n  - engineer: Priya Raman\n    contact: "+1-555-0100"\n    from: 2020-01-01T00:00:00Z\n    to: 2100-01-01T00:00:00Z\n';

/** The test spec with a short watch, the given on-call rotation, and no pager of its own when the rotation has a webhook. */
async function specWith(onCall: Record<string, unknown> | undefined): Promise<DeploySpec> {
  const doc = specDocument();
  const notifications = { slack: { webhook: 'env:SLACK_WEBHOOK' }, ...(onCall?.webhook ? {} : { pager: { webhook: 'env:PAGER_WEBHOOK' } }) };
  return resolveSpec(
    { ...doc, kubernetes: { ...(doc.kubernetes as object), stepWindow: '1m' }, watch: { duration: '10m', reviewAfter: '0s' }, notifications, ...(onCall ? { onCall } : {}) },
    { file: 'test-spec.yaml' },
  );
}

const onCallEvents = (report: DeploymentReport) => report.timeline.filter((e) => e.key === 'on-call').map((e) => `${e.phase} ${e.status} ${e.title}: ${e.detail}`);
const onCallLine = (report: DeploymentReport) => recommendations(report).find((l) => l.includes('On-call engineer'));

test('the engineer on call when it starts is on the timeline and ticked in the report; pages go to the rotation', async () => {
  const world = createFakeDeps({ onCallSchedules: { 'env:ONCALL_SCHEDULE': SCHEDULE }, migrationFails: true });
  const spec = await specWith({ rotation: 'user-management-primary', schedule: 'env:ONCALL_SCHEDULE', webhook: 'env:ONCALL_WEBHOOK' });
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec, world, record: 'on-call', after: async (h) => void (report = await settledReport(h)) });
  expect(onCallEvents(report)).toEqual([
    "PRECHECK ok On-call engineer assigned: Priya Raman <+1-555-0100> (rotation user-management-primary, shift 2020-01-01T00:00:00.000Z → 2100-01-01T00:00:00.000Z); pages go to the rotation's webhook (env:ONCALL_WEBHOOK)",
  ]);
  expect(world.calls.find((c) => c.op === 'resolveOnCall')?.input).toEqual({ rotation: 'user-management-primary', schedule: 'env:ONCALL_SCHEDULE', at: report.startedAt });
  expect(world.ops().indexOf('resolveOnCall')).toBeLessThan(world.ops().indexOf('readTarget'));
  expect(onCallLine(report)).toMatch(/^\d+\. ✅ On-call engineer assigned: Priya Raman <\+1-555-0100>/);
  // The failed migration fails the deployment: its page goes to the rotation's webhook.
  expect(report.outcome).toBe('FAILED');
  expect(world.pages.length).toBeGreaterThan(0);
  expect(new Set(world.pages.map((p) => p.webhook))).toEqual(new Set(['env:ONCALL_WEBHOOK']));
  expect(report.issues.join('\n')).not.toContain('On-call');
});

test('a schedule that cannot be read: a warning and an issue, the deployment goes on, the report says nobody was assigned', async () => {
  const world = createFakeDeps();
  const spec = await specWith({ rotation: 'user-management-primary', schedule: 'env:ONCALL_SCHEDULE' });
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec, world, after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('SUCCEEDED');
  const expected = 'On-call engineer not assigned: rotation user-management-primary: secret env:ONCALL_SCHEDULE is not set (fake: no schedule under this reference); pages go to notifications.pager (env:PAGER_WEBHOOK)';
  expect(onCallEvents(report)).toEqual([`PRECHECK warning ${expected}`]);
  expect(report.issues).toContain(expected);
  expect(onCallLine(report)).toMatch(/^\d+\. ⚠️ On-call engineer not assigned: rotation user-management-primary: secret env:ONCALL_SCHEDULE is not set/);
});

test('no rotation in the spec: nothing is resolved, and the report says so plainly', async () => {
  const world = createFakeDeps();
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec: await specWith(undefined), world, after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(world.ops()).not.toContain('resolveOnCall');
  expect(onCallEvents(report)).toEqual([
    "PRECHECK warning On-call engineer not assigned: the spec names no onCall rotation, so nobody is named to answer this deployment's pages; pages go to notifications.pager (env:PAGER_WEBHOOK)",
  ]);
  expect(onCallLine(report)).toMatch(/⚠️ On-call engineer not assigned: the spec names no onCall rotation/);
  expect(report.issues.join('\n')).not.toContain('On-call');
});
