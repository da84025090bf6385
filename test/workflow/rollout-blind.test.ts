/**
 * A rollout whose alert rules cannot be evaluated (Prometheus has no data for them once the
 * pre-deploy checks passed): the blind streak spans the step health windows and is handled like a
 * blind watch — a page after `blindAfter`, then `watch.onBlind` after `rollbackAfter` (a decision
 * page, or a rollback) — and each partly blind window is in the report's issues. Time-skipping
 * server, fake ports. RECORD_HISTORIES=1 records this file's scenarios for the replay test.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createFakeDeps } from '../helpers/fakes';
import { bundleWorkflows, createDeploymentEnv, runScenario, settledReport } from './harness';
import { testSpec } from './fixtures/spec';
import type { DeploymentReport } from '../../src/model';

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

/** Healthy values at the pre-deploy check (the first evaluation), no data for any rule after it. */
const blindAfterPrecheck = () => createFakeDeps({ ruleValue: (rule, elapsed) => (elapsed < 1_000 ? (rule.op === '<' ? 3 : 0) : null) });
const titles = (report: DeploymentReport) => report.timeline.map((e) => `${e.title}${e.detail ? ` (${e.detail})` : ''}`);
const kinds = (world: { notifications: { kind: string; title: string }[] }) => world.notifications.filter((n) => n.kind !== 'review_reminder').map((n) => `${n.kind}: ${n.title}`);

test('blind through the step windows: paged after blindAfter, a decision page at rollbackAfter, the partly blind windows in the issues', async () => {
  const world = blindAfterPrecheck();
  const spec = await testSpec({ kubernetes: { stepPods: 1, stepWindow: '10m' }, watch: { duration: '20m', escalation: { pageAfter: '5m', rollbackAfter: '15m' } } });
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec, world, record: 'rollout-blind-page', after: async (h) => void (report = await settledReport(h)) });

  const lines = titles(report);
  const paged = lines.findIndex((t) => /^Paged on-call: rollout blind for 5m/.test(t));
  const decide = lines.findIndex((t) => /^Decision needed: the rollout is blind \(alert rules not evaluated for 15m.* during the rollout \(step 2\): no data for HighErrorRate/.test(t));
  const step2 = lines.findIndex((t) => /^Rollout step 2\/3/.test(t));
  expect([paged, decide].every((i) => i >= 0)).toBe(true);
  // The page comes in step 1's window; the decision in step 2's, and the rollout goes on.
  expect(paged).toBeLessThan(step2);
  expect(decide).toBeGreaterThan(step2);
  expect(lines.some((t) => /^Rollout step 3\/3/.test(t))).toBe(true);
  expect(kinds(world).slice(0, 4)).toEqual([
    'started: Deployment started: user-management v1.0.0',
    'paged: Rollout blind: user-management v1.0.0',
    'paged: Decision needed, rollout blind: user-management v1.0.0',
    expect.stringMatching(/^completed: /),
  ]);
  expect(world.notifications.find((n) => n.title.startsWith('Rollout blind'))!.text).toMatch(/The rollout goes on with health checks only/);
  // Step 1's first check may fall within the fake's first second (values still there); none after it.
  const windows = report.healthWindows!;
  expect(windows.map((w) => w.step)).toEqual([1, 2, 3]);
  expect(windows.map((w) => w.evaluated < w.checks)).toEqual([true, true, true]);
  expect(windows.slice(1).map((w) => w.evaluated)).toEqual([0, 0]);
  for (const w of windows) {
    expect(report.issues).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^health window of step ${w.step} partly blind: alert rules evaluated in ${w.evaluated} of ${w.checks} checks; blind \\d+m.*: no data for HighErrorRate`))]));
  }
  expect(report.issues.join('\n')).toMatch(/blind rollout: alert rules not evaluated for 15m/);
});

test('watch.onBlind: rollback rolls back in the rollout once the rules have been unevaluated for rollbackAfter', async () => {
  const world = blindAfterPrecheck();
  const spec = await testSpec({ kubernetes: { stepPods: 1, stepWindow: '10m' }, watch: { duration: '20m', onBlind: 'rollback', escalation: { pageAfter: '5m', rollbackAfter: '15m' } } });
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec, world, record: 'rollout-blind-rollback', after: async (h) => void (report = await settledReport(h)) });

  expect(report.outcome).toBe('ROLLED_BACK');
  expect(report.rollback).toMatchObject({ trigger: 'blind-watch', requestedBy: 'shipwatch', succeeded: true });
  expect(report.rollback.reason).toMatch(/^alert rules not evaluated for 15m( \d+s)? during the rollout \(step 2\): no data for .*\(watch\.onBlind: rollback\)$/);
  const lines = titles(report);
  expect(lines.some((t) => /^Rollout step 3\/3/.test(t))).toBe(false);
  expect(report.healthWindows?.map((w) => w.step)).toEqual([1, 2]);
  expect(kinds(world).slice(0, 3)).toEqual([
    'started: Deployment started: user-management v1.0.0',
    'paged: Rollout blind: user-management v1.0.0',
    expect.stringMatching(/^rolled_back: /),
  ]);
});
