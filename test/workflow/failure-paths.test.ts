/**
 * Failure paths of the deployment workflow on the time-skipping server (fake ports): a watch that
 * goes blind (page, rollback, fail), a spec with nothing to watch. RECORD_HISTORIES=1 records the
 * new paths' histories for the replay test (this file records only its own scenarios).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createFakeDeps } from '../helpers/fakes';
import { bundleWorkflows, createDeploymentEnv, runScenario, settledReport } from './harness';
import { testSpec } from './fixtures/spec';
import { reportQuery, statusQuery } from '../../src/workflows/messages';
import type { DeploymentStatus } from '../../src/workflows/messages';
import type { DeploymentReport } from '../../src/model';
import { recommendations } from '../../src/report/render';

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

const MIN = 60_000;
const kinds = (world: { notifications: { kind: string }[] }) => world.notifications.map((n) => n.kind).filter((k) => k !== 'review_reminder');
const titles = (report: DeploymentReport) => report.timeline.map((e) => e.title);

/** How Temporal itself records the end: its status, and the failure's type and message. */
async function temporalEnd(h: { describe(): Promise<{ status: { name: string } }>; result(): Promise<unknown> }): Promise<{ status: string; type?: string; message?: string }> {
  const failure = await h.result().then(
    () => undefined,
    (err: { cause?: { type?: string; message?: string } }) => err.cause,
  );
  return { status: (await h.describe()).status.name, ...(failure?.type ? { type: failure.type } : {}), ...(failure?.message ? { message: failure.message } : {}) };
}

test('a watch blind for 30 minutes pages on-call with why, asks for a decision at rollbackAfter, and the report says how much was watched', async () => {
  // No value for any rule from minute 30 to 60 after the first evaluation (Prometheus has nothing).
  const world = createFakeDeps({ ruleValue: (rule, elapsed) => (elapsed >= 30 * MIN && elapsed < 60 * MIN ? null : rule.op === '<' ? 3 : 0) });
  const spec = await testSpec({ kubernetes: { stepPods: 0 }, watch: { duration: '2h' } });
  let report!: DeploymentReport;
  let status!: DeploymentStatus;
  await runScenario(env, bundle, {
    spec,
    world,
    record: 'blind-watch-page',
    during: async (handle) => {
      await env.sleep('50 minutes');
      status = await handle.query(statusQuery);
    },
    after: async (h) => void (report = await settledReport(h)),
  });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(status.watch?.watched).toMatch(/^watched \d+% of \d+m( \d+s)?; blind \d+m( \d+s)?: no data for HighErrorRate/);
  expect(titles(report)).toEqual(expect.arrayContaining(['Watch blind: alert rules not evaluated', 'Decision needed: the watch is blind']));
  expect(titles(report).some((t) => /^Paged on-call: watch blind for 5m/.test(t))).toBe(true);
  expect(titles(report).some((t) => /^Watch restored after 30m/.test(t))).toBe(true);
  expect(kinds(world)).toEqual(['started', 'completed', 'paged', 'paged']);
  const pages = world.notifications.filter((n) => n.kind === 'paged');
  expect(pages[0]!.text).toContain('have not been evaluated for 5m: no data for');
  // Two different pages of one deployment: two dedup keys, both naming this run.
  expect(new Set(pages.map((p) => p.dedupKey)).size).toBe(2);
  for (const p of pages) expect(p.dedupKey).toContain(':paged:blind');
  const watch = report.watch!;
  // Workflow-clock times; each check also takes the (skipped) activity's time, so allow one interval.
  expect([watch.sight!.blindMs >= 29.5 * MIN, watch.sight!.blindMs < 30.5 * MIN]).toEqual([true, true]);
  expect(watch.watched).toMatch(/^watched 7\d% of 2h; blind (29m \d+s|30m|30m \d+s): no data for /);
  const recs = recommendations(report).join('\n');
  expect(recs).toContain('The watch was partly blind');
  expect(report.issues.join('\n')).toContain('blind watch: alert rules not evaluated for 15m');
});

test('watch.onBlind: rollback rolls the release back once the rules have been unevaluated for rollbackAfter', async () => {
  const world = createFakeDeps({ ruleValue: (rule, elapsed) => (elapsed >= 20 * MIN ? null : rule.op === '<' ? 3 : 0) });
  const spec = await testSpec({ kubernetes: { stepPods: 0 }, watch: { duration: '2h', onBlind: 'rollback' } });
  let report!: DeploymentReport;
  let ended!: { status: string; type?: string; message?: string };
  await runScenario(env, bundle, {
    spec,
    world,
    record: 'blind-watch-rollback-fails',
    after: async (h) => {
      report = await settledReport(h);
      ended = await temporalEnd(h);
    },
  });
  expect(report.outcome).toBe('ROLLED_BACK');
  // Temporal's own status (the Web UI's list) says it did not succeed; the failure names release and outcome.
  expect(ended.status).toBe('FAILED');
  expect(ended.type).toBe('DeploymentRolledBack');
  expect(ended.message).toMatch(/^ROLLED_BACK: user-management v1.0.0: alert rules not evaluated for 15m/);
  expect(report.rollback).toMatchObject({ trigger: 'blind-watch', requestedBy: 'shipwatch (watch.onBlind: rollback)' });
  expect(report.rollback.reason).toMatch(/^alert rules not evaluated for 15m( \d+s)?: no data for /);
  expect(kinds(world)).toEqual(['started', 'completed', 'paged', 'rolled_back']);
});

test('watch.onBlind: fail ends a watch blind at its end FAILED, the release left live and said so', async () => {
  // Blind for the last 10 minutes of a 1h window: shorter than rollbackAfter, longer than blindAfter.
  const world = createFakeDeps({ ruleValue: (rule, elapsed) => (elapsed >= 50 * MIN ? null : rule.op === '<' ? 3 : 0) });
  const spec = await testSpec({ kubernetes: { stepPods: 0 }, watch: { duration: '1h', onBlind: 'fail' } });
  let report!: DeploymentReport;
  let failure = '';
  await runScenario(env, bundle, {
    spec,
    world,
    record: 'blind-watch-fail',
    after: async (h) => {
      failure = await h.result().then(() => 'succeeded', (err: Error) => String((err.cause as Error | undefined)?.message));
      report = await h.query(reportQuery);
    },
  });
  expect(report.outcome).toBe('FAILED');
  expect(failure).toMatch(/the watch window ended blind: watched \d+% of 1h; blind (9m \d+s|10m).*watch.onBlind: fail; the release stays live/);
  expect(report.watch?.outcome).toBe('blind');
  const failed = world.notifications.find((n) => n.kind === 'failed')!;
  expect(failed.text).toContain('v1.0.0 stays live');
  expect(failed.text).not.toContain('Nothing was rolled out');
});

test('a spec without metrics says plainly that nothing is watched, and the report ticks no alert thresholds', async () => {
  const world = createFakeDeps();
  const spec = await testSpec({ kubernetes: { stepPods: 1, stepWindow: '2m' }, watch: { duration: '30m' } });
  delete spec.metrics;
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec, world, after: async (h) => void (report = await settledReport(h)) });
  expect(report.outcome).toBe('SUCCEEDED');
  const started = report.timeline.find((e) => e.title.startsWith('Watch window started'))!;
  expect(started.title).toBe('Watch window started (30m): nothing is watched');
  expect(started.detail).not.toContain('checks every');
  expect(report.watch?.watched).toBe('nothing watched: the spec has no metrics (no Prometheus to evaluate alert rules against)');
  expect(world.ops()).not.toContain('evaluateRules');
  const recs = recommendations(report).join('\n');
  expect(recs).not.toContain('Alert thresholds configured');
  expect(recs).toContain('Nothing was watched after the rollout');
  expect(report.timeline.find((e) => e.title === 'Health check passed - step 1')?.detail).toContain('no alert rules evaluated (none in the spec)');
});

test('pre-deploy check: an alert rule with no data fails before anything changes, naming the query and the fix (metrics.missingBaseline: fail)', async () => {
  const world = createFakeDeps({ ruleValue: (rule) => (rule.name === 'HighErrorRate' ? null : rule.op === '<' ? 3 : 0) });
  const spec = await testSpec({ kubernetes: { stepPods: 0 } });
  let report!: DeploymentReport;
  let failure = '';
  await runScenario(env, bundle, {
    spec,
    world,
    record: 'precheck-rule-no-data',
    after: async (h) => {
      failure = await h.result().then(() => 'succeeded', (err: Error) => String((err.cause as Error | undefined)?.message));
      report = await h.query(reportQuery);
    },
  });
  expect(report.outcome).toBe('FAILED');
  expect(report.phase).toBe('DONE');
  expect(failure).toMatch(/^pre-deploy check failed: no data for alert rule HighErrorRate \(query: .+\); fix the query .*metrics.missingBaseline: skip/);
  expect(world.ops()).not.toContain('backup');
  expect(world.ops()).not.toContain('rolloutStep');
  expect(kinds(world)).toEqual(['failed']);
  expect(world.notifications[0]!.text).toContain('Nothing was rolled out');
});

test('pre-deploy check: metrics.missingBaseline: skip deploys and says on the timeline and in the issues which rule is unwatched', async () => {
  const world = createFakeDeps({ ruleValue: (rule) => (rule.name === 'HighErrorRate' ? null : rule.op === '<' ? 3 : 0) });
  const spec = await testSpec({ kubernetes: { stepPods: 0 }, metrics: { missingBaseline: 'skip' }, watch: { duration: '10m' } });
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec, world, record: 'precheck-skip-missing', after: async (h) => void (report = await settledReport(h)) });
  const tried = report.timeline.find((e) => e.title === 'Alert rules evaluated once')!;
  expect(tried.status).toBe('warning');
  expect(tried.detail).toContain('no data yet for alert rule HighErrorRate (metrics.missingBaseline: skip)');
  expect(report.issues.join('\n')).toContain('no data yet for alert rule HighErrorRate');
  // The watch is blind to HighErrorRate all along: never a pass.
  expect(report.watch?.watched).toMatch(/^watched 0% of 10m: no check evaluated the rules \(no data for HighErrorRate\)/);
  expect(recommendations(report).join('\n')).not.toContain('Alert thresholds configured');
});

test('pre-deploy check: a baseline query with no data yet (pods not scraped yet) is asked again, and the timeline says how long it waited', async () => {
  const world = createFakeDeps({ baselineNoData: { check: 'Memory Usage', looks: 3 } });
  const spec = await testSpec({ kubernetes: { stepPods: 0 }, watch: { duration: '10m' } });
  let report!: DeploymentReport;
  await runScenario(env, bundle, { spec, world, after: async (h) => void (report = await settledReport(h)) });
  expect(world.ops().filter((op) => op === 'snapshot').length).toBeGreaterThanOrEqual(4);
  const baseline = report.timeline.find((e) => e.title === 'Baseline metrics captured')!;
  expect(baseline.status).toBe('ok');
  expect(baseline.detail).toMatch(/^\d+ metrics, after waiting \d+ms for series Prometheus had not scraped yet$/);
  expect(report.outcome).not.toBe('FAILED');
});

test('change.required without a plan reference is refused by the workflow itself, before the cluster is touched', async () => {
  const world = createFakeDeps();
  const spec = await testSpec({ kubernetes: { stepPods: 0 } });
  spec.change = { reference: ' ', required: true };
  let failure = '';
  await runScenario(env, bundle, {
    spec,
    world,
    record: 'precheck-plan-required',
    after: async (h) => void (failure = await h.result().then(() => 'succeeded', (err: Error) => String((err.cause as Error | undefined)?.message))),
  });
  expect(failure).toBe('pre-deploy check failed: change.required is true but no approved plan is referenced; set change.reference to the approved plan (e.g. REL-2025-11-15)');
  expect(world.ops()).not.toContain('readTarget');
  expect(kinds(world)).toEqual(['failed']);
});

test('a rollback that fails ends MANUAL_ACTION_REQUIRED, failed in Temporal with the report in the details', async () => {
  const world = createFakeDeps({ smokeFails: true, rollbackFails: true });
  const spec = await testSpec({ kubernetes: { stepPods: 0 } });
  let report!: DeploymentReport;
  let ended!: { status: string; type?: string; message?: string };
  await runScenario(env, bundle, {
    spec,
    world,
    record: 'manual-action-fails',
    after: async (h) => {
      report = await settledReport(h);
      ended = await temporalEnd(h);
    },
  });
  expect(report.outcome).toBe('MANUAL_ACTION_REQUIRED');
  expect(ended).toMatchObject({ status: 'FAILED', type: 'ManualActionRequired' });
  expect(ended.message).toMatch(/^MANUAL_ACTION_REQUIRED: user-management v1.0.0: .*; failed steps: rollout undo: /);
});
