/**
 * The watch evaluator on the time-skipping server (src/workflows/evaluator.ts): two windows of
 * two services watched by one evaluator, one activity per interval for both; the one whose alert
 * fires rolls back after the same for/page/rollback times as before, the other completes with
 * heartbeats only; an evaluator that is terminated mid-watch makes its window blind (paged), and
 * the window starts a new one and sees again. RECORD_HISTORIES=1 records the deployment's and
 * the evaluator's histories (history_files/evaluator-*.json, history_files/evaluator/*.json).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { createFakeDeps } from '../helpers/fakes';
import type { FakeWorld } from '../helpers/fakes';
import { bundleWorkflows, createDeploymentEnv, createWorker, patchesOf, recordHistory, runChain, settledReport } from './harness';
import type { ActivitySettings } from '../../src/activities';
import { testSpec } from './fixtures/spec';
import { startDeployment } from '../../src/deployments';
import type { DeploymentHandle } from '../../src/deployments';
import type { DeploymentReport } from '../../src/model';
import type { DeploySpec } from '../../src/spec/types';
import { evaluatorShard, evaluatorStatusQuery, windowEvaluatorId } from '../../src/workflows/evaluator-messages';
import type { EvaluatorStatus, WatchReport } from '../../src/workflows/evaluator-messages';
import { EVALUATOR_HISTORY_BUDGET, EVALUATOR_INPUT_BUDGET, EVALUATOR_SIX_PHASES_PATCH } from '../../src/workflows/evaluator';
import { EVALUATION_PHASES, distinctQueries, heartbeatOffsetMs, newEvaluatorState, phaseOffsetMs, register } from '../../src/workflows/evaluator-plan';
import { deploymentWorkflowId, searchAttributes, statusQuery } from '../../src/workflows/messages';
import { WATCH_RUN_EVENTS, WATCH_SHORT_RUNS_PATCH } from '../../src/workflows/evaluator-window';

jest.setTimeout(600_000);

const MIN = 60_000;
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});
beforeEach(async () => {
  env = await createDeploymentEnv();
});
afterEach(async () => env?.teardown());

const find = (report: DeploymentReport, title: RegExp) => report.timeline.find((e) => title.test(e.title));
const at = (report: DeploymentReport, title: RegExp) => Date.parse(find(report, title)!.at);
let queues = 0;

function withNamespace(spec: DeploySpec, n: number): DeploySpec {
  return { ...spec, namespace: `${spec.namespace}-ev${n}` };
}

const shardOf = (spec: DeploySpec): number => evaluatorShard(deploymentWorkflowId(spec.namespace, spec.service));

/** The first namespace suffix from `from` on that puts every spec's window in one evaluator's shard (one `which` accepts). */
function oneShard(specs: DeploySpec[], from: number, which: (shard: number) => boolean = () => true): number {
  for (let n = from; ; n++) {
    const shards = new Set(specs.map((s) => shardOf(withNamespace(s, n))));
    if (shards.size === 1 && which([...shards][0]!)) return n;
  }
}

async function history(client: Client, workflowId: string, runId?: string) {
  return client.workflow.getHandle(workflowId, runId).fetchHistory();
}

function recordEvaluator(h: Awaited<ReturnType<typeof history>>, name: string): void {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const json = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(h), { longs: String, enums: String, bytes: String }) as { events?: { eventType?: string }[] };
  // The first ~900 events (registrations, evaluations, reports, a window leaving), cut after a completed workflow task: replay needs no more.
  const events = json.events ?? [];
  const cut = events.slice(0, 900).map((e) => e.eventType).lastIndexOf('EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
  json.events = events.slice(0, cut + 1);
  writeFileSync(join(__dirname, 'history_files', 'evaluator', `${name}.json`), `${JSON.stringify(json)}\n`);
}

type HistoryEvent = NonNullable<Awaited<ReturnType<typeof history>>['events']>[number];

/** The evaluation activities by key: at once (patch evaluator-rules-by-key), or waiting for the slot (patch evaluator-evaluation-waits). */
const BY_KEY = ['evaluateWatchRules', 'evaluateWatchRulesAtSlot'];

/** An evaluation in an evaluator's history: its activity scheduled, or (patch evaluator-local-activity) its local activity's marker. */
function isEvaluation(e: HistoryEvent): boolean {
  return ['evaluateAlertRules', ...BY_KEY].includes(e.activityTaskScheduledEventAttributes?.activityType?.name ?? '') || e.markerRecordedEventAttributes?.markerName === 'core_local_activity';
}

/** The first payload of a history event's input or result, decoded. */
function payload<T>(p: { payloads?: { data?: Uint8Array | null }[] | null } | null | undefined): T {
  return JSON.parse(Buffer.from(p!.payloads![0]!.data!).toString()) as T;
}

/** Each evaluation of patch evaluator-rules-by-key in these events: whether it carried the rules, and whether it was answered RulesWanted. */
function keyedEvaluations(events: HistoryEvent[]): { rules: boolean; key: string; wanted: boolean }[] {
  const byId = new Map<string, { rules: boolean; key: string; wanted: boolean }>();
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled && BY_KEY.includes(scheduled.activityType?.name ?? '')) {
      const input = payload<{ rules?: unknown[]; rulesKey: string }>(scheduled.input);
      byId.set(String(e.eventId), { rules: input.rules !== undefined, key: input.rulesKey, wanted: false });
    }
    const done = e.activityTaskCompletedEventAttributes;
    const asked = done ? byId.get(String(done.scheduledEventId)) : undefined;
    if (done && asked) asked.wanted = !Array.isArray(payload<unknown>(done.result));
  }
  return [...byId.values()];
}

/** Waits (skipping time) until the evaluator of `spec` runs; returns its handle. */
async function runningEvaluator(spec: DeploySpec) {
  const handle = env.client.workflow.getHandle(windowEvaluatorId({ prometheusUrl: spec.metrics!.prometheusUrl, intervalMs: spec.watch.intervalMs, workflowId: deploymentWorkflowId(spec.namespace, spec.service) }));
  for (let i = 0; i < 200; i++) {
    const running = await handle
      .describe()
      .then((d) => d.status.name === 'RUNNING')
      .catch(() => false);
    if (running) return handle;
    await env.sleep(10_000);
  }
  throw new Error('the watch evaluator never started');
}

async function runWorker<T>(world: FakeWorld, fn: (taskQueue: string) => Promise<T>, settings: ActivitySettings = {}): Promise<T> {
  const taskQueue = `evaluator-${++queues}-${Date.now()}`;
  const worker = await createWorker(env, bundle, world, taskQueue, { activities: settings });
  return worker.runUntil(fn(taskQueue));
}

test('two windows, one evaluator: one evaluation per interval for both; the breaching one rolls back at for/page/rollback as before, the quiet one hears only heartbeats', async () => {
  const world = createFakeDeps({
    ruleValue: (rule, elapsed) => (rule.name === 'HighErrorRate' && rule.expr.includes('billing') && elapsed >= 10 * MIN ? 0.2 : rule.op === '<' ? 3 : 0),
  });
  const specs = [await testSpec({ kubernetes: { stepPods: 0 }, watch: { duration: '3h' } }), await testSpec({ service: 'billing', kubernetes: { deployment: 'billing', stepPods: 0 }, watch: { duration: '3h' } })];
  // Two windows of one evaluator: namespaces whose windows hash to the same shard.
  // In a phase after the interval's multiples (patch evaluator-phases), so the test tells the two apart.
  const n = oneShard(specs, 1, (shard) => shard % EVALUATION_PHASES !== 0);
  const [quiet, bad] = specs.map((s) => withNamespace(s, n)) as [DeploySpec, DeploySpec];
  let status!: EvaluatorStatus;
  let evaluatorHistory!: Awaited<ReturnType<typeof history>>;
  const { a, b, reportA, reportB } = await runWorker(world, async (taskQueue) => {
    const a: DeploymentHandle = await startDeployment(env.client, quiet, { requestedBy: 'alice', taskQueue });
    const b: DeploymentHandle = await startDeployment(env.client, bad, { requestedBy: 'bob', taskQueue });
    const evaluator = await runningEvaluator(quiet);
    const firstRun = (await evaluator.describe()).runId;
    status = await evaluator.query(evaluatorStatusQuery);
    const reportB = await settledReport(b);
    const reportA = await settledReport(a);
    await evaluator.result();
    evaluatorHistory = await history(env.client, evaluator.workflowId, firstRun);
    for (const h of [a, b]) await env.client.workflow.getHandle(`${h.workflowId}-review-${h.firstExecutionRunId}`).terminate('test over').catch(() => undefined);
    return { a, b, reportA, reportB };
  });
  expect(status.ruleSets).toBe(2);
  expect(status.distinctQueries).toBe(8);

  expect(reportB.outcome).toBe('ROLLED_BACK');
  expect(reportB.rollback.trigger).toBe('alert');
  const within = (ms: number, expected: number) => expect([ms >= expected, ms < expected + 30_000]).toEqual([true, true]);
  within(at(reportB, /^Alert firing: HighErrorRate/) - at(reportB, /^Alert pending: HighErrorRate/), 2 * MIN);
  within(at(reportB, /^Paged on-call: HighErrorRate/) - at(reportB, /^Alert firing: HighErrorRate/), 5 * MIN);
  within(at(reportB, /^Rollback requested/) - at(reportB, /^Alert firing: HighErrorRate/), 15 * MIN);

  expect(reportA.outcome).toBe('SUCCEEDED');
  expect(reportA.watch?.outcome).toBe('completed');
  expect(reportA.watch?.watched).toMatch(/^watched all of 3h/);
  expect(reportA.watch!.checks).toBeGreaterThanOrEqual(3 * 120);
  expect(find(reportA, /Watch blind|evaluator silent/)).toBeUndefined();

  // One evaluation activity per interval carries both windows' rules (4 + 4 distinct queries).
  const batched = world.calls.filter((c) => c.op === 'evaluateRules' && (c.input as { rules: unknown[] }).rules.length === 8);
  expect(batched.length).toBeGreaterThan(10);
  // Each evaluated at its slot's instant, on the grid every shard shares (multiples of the interval) in its shard's phase of it (patch evaluator-phases), asked as the evaluator (its plan kept by the adapter).
  const evaluatorId = windowEvaluatorId({ prometheusUrl: quiet.metrics!.prometheusUrl, intervalMs: quiet.watch.intervalMs, workflowId: a.workflowId });
  const phase = phaseOffsetMs(evaluatorId, bad.watch.intervalMs);
  expect(batched.map((c) => (c.input as { atMs?: number }).atMs! % bad.watch.intervalMs)).toEqual(batched.map(() => phase));
  expect(new Set(batched.map((c) => (c.input as { planKey?: string }).planKey))).toEqual(new Set([evaluatorId]));
  // The quiet window's watch: no activity, no timer per check; reports when its state changes, heartbeats, one at its end.
  // The watch runs in a run of its own: the deployment's run hands over right after registering.
  const runs = await runChain(env.client, a.workflowId, a.firstExecutionRunId);
  expect(runs).toHaveLength(2);
  const [deployRun, watchRun] = await Promise.all(runs.map(async (r) => (await history(env.client, a.workflowId, r.runId)).events ?? []));
  const registeredAt = deployRun!.findIndex((e) => e.childWorkflowExecutionStartedEventAttributes || e.signalExternalWorkflowExecutionInitiatedEventAttributes);
  expect(deployRun!.slice(registeredAt).filter((e) => e.workflowExecutionContinuedAsNewEventAttributes)).toHaveLength(1);
  // It hands over in the workflow task that saw the registration done: nothing but the patch markers after it (watch-fresh-run, watch-short-runs).
  const kinds = deployRun!.slice(registeredAt).map((e) => Object.keys(e).find((k) => k.endsWith('Attributes')));
  expect(kinds.slice(kinds.lastIndexOf('activityTaskCompletedEventAttributes') + 1)).toEqual([
    'workflowTaskScheduledEventAttributes',
    'workflowTaskStartedEventAttributes',
    'workflowTaskCompletedEventAttributes',
    'markerRecordedEventAttributes',
    'upsertWorkflowSearchAttributesEventAttributes',
    'markerRecordedEventAttributes',
    'upsertWorkflowSearchAttributesEventAttributes',
    'workflowExecutionContinuedAsNewEventAttributes',
  ]);
  const events = [...deployRun!, ...watchRun!];
  const started = registeredAt;
  const watchEvents = events.slice(started);
  const signals = watchEvents.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
  expect(signals).toBeLessThanOrEqual(3 * 2 + 3);
  expect(watchEvents.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'evaluateAlertRules')).toEqual([]);
  // Quiet hours: from 30 min after the first report to 150 min (2 h), events per hour.
  const time = (e: (typeof events)[number]) => Number(e.eventTime?.seconds ?? 0) * 1000;
  const firstReport = time(watchEvents.find((e) => e.workflowExecutionSignaledEventAttributes)!);
  const quietPerHour = watchEvents.filter((e) => time(e) >= firstReport + 30 * MIN && time(e) < firstReport + 150 * MIN).length / 2;
  console.log(`evaluator test figures: ${JSON.stringify({ quietEventsPerWindowHour: quietPerHour, watchEvents: watchEvents.length, signals, evaluatorFirstRunEvents: evaluatorHistory.events?.length, batchedEvaluations: batched.length })}`);
  expect(quietPerHour).toBeLessThanOrEqual(10);
  // Its first report (a change) comes with its slot; its heartbeats at its shard's offset after
  // the slot (patch evaluator-heartbeat-spread), so the fleet's heartbeats do not all come at once.
  const offset = heartbeatOffsetMs(evaluatorId, quiet.watch.intervalMs);
  const afterSlot = watchEvents
    .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'watchReport')
    .map((e) => time(e) - Date.parse((JSON.parse(Buffer.from(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!.data!).toString()) as WatchReport).at));
  expect(afterSlot.length).toBeGreaterThanOrEqual(4);
  expect(afterSlot[0]).toBeLessThan(2_000);
  for (const ms of afterSlot.slice(1, -1)) expect([ms >= offset - 1_000, ms < offset + 2_000]).toEqual([true, true]);
  // The breaching window's rollback does not wait for its evaluator to hear it left (patch
  // rollback-beside-unregister): the unregister signal and the rollout undo leave in one workflow task.
  const runsOfB = await runChain(env.client, b.workflowId, b.firstExecutionRunId);
  const lastOfB = (await history(env.client, b.workflowId, runsOfB[runsOfB.length - 1]!.runId)).events ?? [];
  const goodbye = lastOfB.findIndex((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'unregisterWatch');
  const undo = lastOfB.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'rollbackDeployment');
  expect([goodbye > 0, undo > goodbye]).toEqual([true, true]);
  expect(lastOfB.slice(goodbye, undo).filter((e) => e.workflowTaskCompletedEventAttributes)).toEqual([]);
  // Recorded for the watch in its own run (patch watch-fresh-run): the deployment's run handing
  // over, the quiet window's run and the breaching window's run (its rollback, beside the
  // unregister signal since patch rollback-beside-unregister). The histories of windows that kept
  // their run (…-sharded.json), and evaluator-watch-alert-rollback-own-run.json (the rollback
  // after the signal), were recorded before those patches and still replay.
  if (process.env.RECORD_HISTORIES === '1') {
    await recordHistory(env, a, 'evaluator-watch-fresh-run', runs[0]!.runId);
    await recordHistory(env, a, 'evaluator-watch-quiet-own-run', runs[1]!.runId);
    await recordHistory(env, b, 'evaluator-watch-alert-rollback-beside-unregister', runsOfB[runsOfB.length - 1]!.runId);
  }
  // Evaluated in an activity (patch evaluator-activity-again; the local activity of patch
  // evaluator-local-activity is replayed only, in runs recorded with it): no local activity's marker.
  const evaluatorEvents = evaluatorHistory.events ?? [];
  expect(evaluatorEvents.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toEqual([]);
  expect(evaluatorEvents.filter(isEvaluation).length).toBeGreaterThan(10);
  // Each slot's evaluation waits in the worker for its slot (patch evaluator-evaluation-waits; test/workflow/real-time.test.ts sees it wait on a dev server).
  expect(evaluatorEvents.filter((e) => e.activityTaskScheduledEventAttributes && e.activityTaskScheduledEventAttributes.activityType?.name !== 'evaluateWatchRulesAtSlot')).toEqual([]);
  // Its rules go once, with their key; every later slot sends the key alone (patch evaluator-rules-by-key).
  const keyed = keyedEvaluations(evaluatorEvents);
  expect(keyed.length).toBe(evaluatorEvents.filter(isEvaluation).length);
  expect(keyed.filter((k) => k.rules)).toHaveLength(new Set(keyed.map((k) => k.key)).size);
  expect(keyed[0]!.rules).toBe(true);
  expect(keyed.filter((k) => k.wanted)).toEqual([]);
  // New windows get even heartbeat slots (patch evaluator-heartbeat-even; the assignment itself: test/unit/deployment-evaluator.test.ts),
  // and the evaluator its sixth of the interval (patch evaluator-six-phases; evaluator-two-windows-even.json was recorded in a quarter).
  expect(patchesOf(evaluatorHistory)).toEqual(expect.arrayContaining(['evaluator-heartbeat-even', EVALUATOR_SIX_PHASES_PATCH]));
  recordEvaluator(evaluatorHistory, 'evaluator-two-windows-six-phases');
});

test('a quiet day-long window continues as new every WATCH_RUN_EVENTS events (patch watch-short-runs): each run replays quickly, a continued run starts with no command but its timer, its phase stays searchable, and a quiet hour stays under 10 events', async () => {
  const world = createFakeDeps({ ruleValue: (rule) => (rule.op === '<' ? 3 : 0) });
  const spec = withNamespace(await testSpec({ kubernetes: { stepPods: 0 }, watch: { duration: '24h' } }), 900);
  const phases: unknown[] = [];
  const { handle, report } = await runWorker(world, async (taskQueue) => {
    const handle: DeploymentHandle = await startDeployment(env.client, spec, { requestedBy: 'alice', taskQueue });
    // The phase as `shipwatch list` filters on it, read while the window is some runs in.
    for (let i = 0; i < 200 && (await runChain(env.client, handle.workflowId, handle.firstExecutionRunId)).length < 4; i++) await env.sleep(30 * MIN);
    phases.push((await env.client.workflow.getHandle(handle.workflowId).describe()).typedSearchAttributes.get(searchAttributes.phase));
    const report = await settledReport(handle);
    await env.client.workflow.getHandle(`${handle.workflowId}-review-${handle.firstExecutionRunId}`).terminate('test over').catch(() => undefined);
    return { handle, report };
  });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(report.watch?.watched).toMatch(/^watched all of 24h/);
  expect(report.watch!.checks).toBeGreaterThanOrEqual(24 * 120);
  expect(find(report, /Watch blind|evaluator silent/)).toBeUndefined();
  expect(phases).toEqual(['WATCH']);
  const runs = await runChain(env.client, handle.workflowId, handle.firstExecutionRunId);
  const histories = await Promise.all(runs.map(async (r) => (await history(env.client, handle.workflowId, r.runId)).events ?? []));
  const kindsOf = (events: HistoryEvent[]) => events.map((e) => Object.keys(e).find((k) => k.endsWith('Attributes'))!.replace(/EventAttributes$/, ''));
  // The deployment's run asks the patch once, when the window opens.
  expect(patchesOf({ events: histories[0]! })).toContain(WATCH_SHORT_RUNS_PATCH);
  // Watch runs: the first after the handover, then one per WATCH_RUN_EVENTS (36 heartbeats a day, 12 a run).
  const watchRuns = histories.slice(1);
  expect(watchRuns.length).toBeGreaterThanOrEqual(3);
  expect(watchRuns.length).toBeLessThanOrEqual(5);
  for (const events of watchRuns.slice(0, -1)) {
    expect(events.length).toBeGreaterThanOrEqual(WATCH_RUN_EVENTS);
    expect(events.length).toBeLessThan(WATCH_RUN_EVENTS + 7);
    expect(kindsOf(events).at(-1)).toBe('workflowExecutionContinuedAsNew');
  }
  // A continued run starts with its timer alone: no phase upsert, no patch marker.
  for (const events of watchRuns.slice(1)) {
    expect(kindsOf(events).slice(0, 5)).toEqual(['workflowExecutionStarted', 'workflowTaskScheduled', 'workflowTaskStarted', 'workflowTaskCompleted', 'timerStarted']);
  }
  // A quiet hour, over the whole day and every run: the heartbeats' 9 and the handovers' 5 per 8 h.
  const time = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000;
  const all = watchRuns.flat();
  const from = time(all.find((e) => e.workflowExecutionSignaledEventAttributes)!) + 30 * MIN;
  const to = from + 20 * 60 * MIN;
  const perHour = all.filter((e) => time(e) >= from && time(e) < to).length / 20;
  console.log(`short runs test figures: ${JSON.stringify({ runs: runs.length, watchRunEvents: watchRuns.map((e) => e.length), quietEventsPerWindowHour: perHour })}`);
  expect(perHour).toBeLessThanOrEqual(10);
  if (process.env.RECORD_HISTORIES === '1') {
    await recordHistory(env, handle, 'evaluator-watch-short-runs-first', runs[0]!.runId);
    await recordHistory(env, handle, 'evaluator-watch-short-runs-continued', runs[2]!.runId);
  }
});

test('an evaluator terminated mid-watch: the window turns blind (paged), starts a new evaluator and sees again; the report says how much was watched', async () => {
  const world = createFakeDeps();
  const spec = withNamespace(await testSpec({ kubernetes: { stepPods: 0 }, watch: { duration: '3h' } }), 2);
  let handle!: DeploymentHandle;
  const report = await runWorker(world, async (taskQueue) => {
    handle = await startDeployment(env.client, spec, { requestedBy: 'alice', taskQueue });
    const evaluator = await runningEvaluator(spec);
    for (let i = 0; i < 50 && (await handle.query(statusQuery)).watch?.checks === 0; i++) await env.sleep(30_000);
    await evaluator.terminate('test: the evaluator dies');
    const r = await settledReport(handle);
    await env.client.workflow.getHandle(`${handle.workflowId}-review-${handle.firstExecutionRunId}`).terminate('test over').catch(() => undefined);
    await runningEvaluator(spec)
      .then((e) => e.terminate('test over'))
      .catch(() => undefined);
    return r;
  });
  expect(report.outcome).toBe('SUCCEEDED');
  const silent = find(report, /^Watch evaluator silent/);
  expect(silent?.detail).toMatch(/has not reported since/);
  expect(find(report, /^Paged on-call: watch blind for/)).toBeDefined();
  expect(find(report, /^Watch restored after/)).toBeDefined();
  expect(world.notifications.some((n) => n.kind === 'paged' && n.dedupKey?.includes(':paged:blind'))).toBe(true);
  expect(report.watch?.watched).toMatch(/^watched \d+% of 3h; blind .*watch evaluator/);
  if (process.env.RECORD_HISTORIES === '1') await recordHistory(env, handle, 'evaluator-watch-silent-restarted-sharded');
});

test('an evaluator hands over (continue-as-new) once what it sent passes EVALUATOR_INPUT_BUDGET, and the window it watches sees every slot through the handovers', async () => {
  // A worker keeping no rules (as if each slot met another evaluator process): every slot sends them again.
  const world = createFakeDeps();
  // Ten extra rules of about 10 KB each: about 100 KB of evaluation input per slot, so a run spends its budget in about ten slots.
  const longExpr = (i: number) => `max(up{job="pad-${i}-${'x'.repeat(10_000)}"})`;
  const extraRules = Array.from({ length: 10 }, (_, i) => ({ name: `Padding${i}`, expr: longExpr(i), op: '>', threshold: 1e9 }));
  const spec = withNamespace(await testSpec({ kubernetes: { stepPods: 0 }, watch: { duration: '1h', extraRules } }), 3);
  // One slot's evaluation input, as the evaluator's own bookkeeping builds it for this window.
  const plan = newEvaluatorState({ prometheusUrl: spec.metrics!.prometheusUrl, intervalMs: spec.watch.intervalMs, nowMs: 0 });
  register(plan, { workflowId: deploymentWorkflowId(spec.namespace, spec.service), window: 'w', rules: spec.watch.rules });
  const perSlot = JSON.stringify(distinctQueries(plan)).length;
  const noneKept: ActivitySettings = { rulesKept: 0 };
  expect(perSlot * 5).toBeLessThan(EVALUATOR_INPUT_BUDGET);
  let handle!: DeploymentHandle;
  let evaluatorId!: string;
  let firstRun!: string;
  const report = await runWorker(world, async (taskQueue) => {
    handle = await startDeployment(env.client, spec, { requestedBy: 'alice', taskQueue });
    const evaluator = await runningEvaluator(spec);
    evaluatorId = evaluator.workflowId;
    firstRun = (await evaluator.describe()).runId;
    const r = await settledReport(handle);
    await env.client.workflow.getHandle(`${handle.workflowId}-review-${handle.firstExecutionRunId}`).terminate('test over').catch(() => undefined);
    await evaluator.result().catch(() => undefined);
    return r;
  }, noneKept);
  expect(report.outcome).toBe('SUCCEEDED');
  expect(report.watch?.watched).toMatch(/^watched all of 1h/);
  expect(report.watch!.checks).toBeGreaterThanOrEqual(120);
  expect(find(report, /Watch blind|evaluator silent/)).toBeUndefined();
  // Runs of the evaluator: each handed over after about budget ÷ input slots, long before 4,000 events.
  const runs = await runChain(env.client, evaluatorId, firstRun);
  const slots = Math.ceil(EVALUATOR_INPUT_BUDGET / perSlot);
  expect(runs.length).toBeGreaterThanOrEqual(Math.floor(120 / (slots + 1)));
  for (const run of runs.slice(0, -1)) {
    const events = (await history(env.client, evaluatorId, run.runId)).events ?? [];
    // Each slot: the key alone, answered RulesWanted, then the rules.
    const keyed = keyedEvaluations(events);
    expect(keyed.filter((k) => k.rules).every((k) => !k.wanted)).toBe(true);
    expect(keyed.filter((k) => !k.rules).every((k) => k.wanted)).toBe(true);
    const evaluations = keyed.filter((k) => k.rules).length;
    expect(evaluations).toBeLessThanOrEqual(slots);
    expect(events.length).toBeLessThan(EVALUATOR_HISTORY_BUDGET);
  }
  if (process.env.RECORD_HISTORIES === '1') recordEvaluator(await history(env.client, evaluatorId, runs[0]!.runId), 'evaluator-input-budget-six-phases');
});

test('an evaluator sends its rules once, then their key alone; a worker that does not keep them (another process, one restarted) is sent them again, and the window hears nothing of it', async () => {
  const world = createFakeDeps();
  const spec = withNamespace(await testSpec({ kubernetes: { stepPods: 0 }, watch: { duration: '1h' } }), 4);
  const taskQueue = `evaluator-${++queues}-${Date.now()}`;
  let handle!: DeploymentHandle;
  let evaluatorId!: string;
  let firstRun!: string;
  // Worker A until the evaluator has evaluated a few slots, then worker B: a new process, keeping nothing yet.
  // A caches no workflow: its sticky queue would hold the next tasks until the server gave up on it.
  const workerA = await createWorker(env, bundle, world, taskQueue, { maxCachedWorkflows: 0 });
  await workerA.runUntil(async () => {
    handle = await startDeployment(env.client, spec, { requestedBy: 'alice', taskQueue });
    const evaluator = await runningEvaluator(spec);
    evaluatorId = evaluator.workflowId;
    firstRun = (await evaluator.describe()).runId;
    for (let i = 0; i < 50 && (await evaluator.query(evaluatorStatusQuery)).evaluations < 4; i++) await env.sleep(30_000);
  });
  const workerB = await createWorker(env, bundle, world, taskQueue);
  const report = await workerB.runUntil(async () => {
    const r = await settledReport(handle);
    await env.client.workflow.getHandle(`${handle.workflowId}-review-${handle.firstExecutionRunId}`).terminate('test over').catch(() => undefined);
    await env.client.workflow.getHandle(evaluatorId).result().catch(() => undefined);
    return r;
  });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(report.watch?.watched).toMatch(/^watched all of 1h/);
  expect(find(report, /Watch blind|evaluator silent/)).toBeUndefined();
  const runs = await runChain(env.client, evaluatorId, firstRun);
  const events = (await Promise.all(runs.map(async (r) => (await history(env.client, evaluatorId, r.runId)).events ?? []))).flat();
  const keyed = keyedEvaluations(events);
  // The key alone every slot but the first of each run and the one after the change of worker: that one was answered RulesWanted and asked again with the rules.
  const wanted = keyed.flatMap((k, i) => (k.wanted ? [i] : []));
  expect(wanted).toHaveLength(1);
  expect(keyed[wanted[0]! + 1]).toEqual({ rules: true, key: keyed[wanted[0]!]!.key, wanted: false });
  expect(keyed.filter((k) => k.rules)).toHaveLength(runs.length + 1);
  expect(keyed.filter((k) => !k.rules).length).toBeGreaterThanOrEqual(100);
  // Every slot of the hour evaluated: the window's every check had its rules' answers.
  expect(report.watch!.checks).toBeGreaterThanOrEqual(118);
  expect(world.calls.filter((c) => c.op === 'evaluateRules' && (c.input as { planKey?: string }).planKey === evaluatorId).length).toBe(keyed.filter((k) => !k.wanted).length);
});
