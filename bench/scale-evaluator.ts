/**
 * Issue 12's scale part: N watch windows opened quickly (deployments started with a carried state
 * already past the forward path, as continue-as-new hands one over, so they open their window at
 * once) on the real worker with lean fake ports, in one of two designs: `evaluator` (the watch
 * evaluators of one Prometheus, each a shard of the windows) or `per-window` (each window checks on its own, the design before).
 * Measures timeline query and rollback reaction latency, check lateness, worker and server CPU
 * and RSS, history events per window per hour and the queries per second sent to "Prometheus"
 * (counted at the metrics port, where the real adapter would send them).
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { timelineOf } from '../src/cli/context';
import type { DeploymentHandle } from '../src/deployments';
import { initialAlertStates } from '../src/workflows/alert-evaluator';
import { HEARTBEAT_MS, allEvaluatorIds, evaluatorStatusQuery, watchReportSignal } from '../src/workflows/evaluator-messages';
import type { EvaluatorStatus, WatchReport } from '../src/workflows/evaluator-messages';
import { heartbeatSlots, signature } from '../src/workflows/evaluator-plan';
import { TASK_QUEUE, deploymentWorkflowId, searchAttributes, timelineQuery } from '../src/workflows/messages';
import type { DeploymentInput } from '../src/workflows/messages';
import { initialState } from '../src/workflows/state';
import { FAKE_PROMETHEUS_URL, benchSpec, reactionSteps, timeRollback } from './fake-stack';
import { FORWARD_TIMELINE } from './fixtures/forward-timeline';
import type { FakeStack, ReactionResult, ReactionSample } from './fake-stack';
import type { Heaps } from './fake-worker';
import { queriesAnswered } from '../tools/local/prometheus';
import { cpuSeconds, distribution, machine, pool, progress, round, rssMiB, sleep, stealSeconds, waitUntil } from './lib';
import type { Distribution } from './lib';

export type WatchDesign = 'evaluator' | 'per-window';
/** Where a run's watch evaluators ran: in the deployments' worker process, or a worker process of their own (SHIPWATCH_WORKER_QUEUES). */
export type EvaluatorPlace = 'in the worker' | 'own process';

/** How long a part asks timeline queries, and then rolls windows back, at most (fewer than asked, then: the result's `n` says how many). */
const ASK_BUDGET_MS = 120_000;
/** The issue's rollback reaction target (p99, ms): slower samples get their history's account. */
export const REACTION_TARGET_MS = 250;
/** The issue's timeline query target at 1,000 windows (p99, ms): slower queries are listed with their time in the interval. */
const SLOW_QUERY_MS = 50;

export interface WindowsOptions {
  design: WatchDesign;
  windows: number;
  intervalMs: number;
  steadyMs: number;
  queries: number;
  rollbacks: number;
  /** Rollbacks timed, besides, on windows first sent a day of heartbeats (see ageWindow), taken in turn with the others. */
  agedRollbacks: number;
  /** Workflow IDs are deploy-<prefix>NNNNN-user-management. */
  prefix: string;
  /** The real Prometheus's process, if any: its CPU goes into cpuByPhase. */
  prometheusPid?: number;
}

/** Where in the evaluators' interval the CPU went, from the steady state to the last rollback: cores per bin, averaged over the intervals seen. */
export interface CpuByPhase {
  /** Bin width (ms after a multiple of the interval since the epoch; the shards' slots since patch evaluator-phases in each of its EVALUATION_PHASES phases, which the summary folds together). */
  binMs: number;
  /** How many intervals the samples cover. */
  intervals: number;
  worker: number[];
  server: number[];
  prometheus?: number[];
}

/** Samples the processes' CPU every 100 ms into bins of the interval (by the time after a slot). */
function phaseSampler(pids: { worker: number[]; server: number; prometheus?: number }, intervalMs: number, binMs = 500) {
  const bins = Math.ceil(intervalMs / binMs);
  const sums = { worker: new Array<number>(bins).fill(0), server: new Array<number>(bins).fill(0), prometheus: new Array<number>(bins).fill(0) };
  const read = () => ({ worker: cpuOf(pids.worker), server: cpuSeconds(pids.server) ?? 0, prometheus: pids.prometheus ? (cpuSeconds(pids.prometheus) ?? 0) : 0 });
  const from = Date.now();
  let last = read();
  const timer = setInterval(() => {
    const now = read();
    const bin = Math.floor((Date.now() % intervalMs) / binMs);
    for (const k of ['worker', 'server', 'prometheus'] as const) sums[k][bin]! += now[k] - last[k];
    last = now;
  }, 100);
  // A part that fails before it stops sampling does not keep the bench alive.
  timer.unref();
  return (): CpuByPhase => {
    clearInterval(timer);
    const intervals = (Date.now() - from) / intervalMs;
    const cores = (xs: number[]) => xs.map((x) => round(x / intervals / (binMs / 1000), 2));
    return { binMs, intervals: round(intervals, 1), worker: cores(sums.worker), server: cores(sums.server), ...(pids.prometheus ? { prometheus: cores(sums.prometheus) } : {}) };
  };
}

/** The namespaces of a part's windows. */
export function windowNamespaces(prefix: string, windows: number): string[] {
  return Array.from({ length: windows }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
}

export interface WindowsResult {
  design: WatchDesign;
  windows: number;
  intervalMs: number;
  /** First start → every window open (registered with the evaluator, or its first own check). */
  openMs: number;
  /**
   * Every window open → the worker caught up: an interval (the first evaluation after the last
   * registration), then until no workflow task waited on the deployments' queue at two looks 5 s
   * apart (the opening's first reports, each a replay for a worker with a small cache). The
   * steady state is measured after it; a fleet whose windows open through the day has no opening.
   */
  settleMs: number;
  /** Workflow tasks waiting on the deployments' queue when the windows were all open, and the most seen while settling. */
  backlog: { atOpen: number; max: number };
  /** The timeline query (`handle.query(timelineQuery)`): the workflow answers, replaying a window its worker's cache evicted. */
  timeline: Distribution;
  /** Timeline queries slower than the 1,000-window target: how long, and when in the evaluators' interval they were sent (ms after a slot). */
  slowQueries: { ms: number; afterSlotMs: number }[];
  /**
   * The timeline as `shipwatch timeline` reads it (src/cli/context.ts `timelineOf`: a describe, the
   * memo, else the query), of the same window just before its query (since Session 16); `fromMemo`:
   * how many the memo answered (the rest fell back to the query).
   */
  timelineRead?: Distribution & { fromMemo: number; slow: { ms: number; afterSlotMs: number }[] };
  /** The queries' start times were at least this far apart (an interval over the number asked). */
  queryGapMs: number;
  reaction: ReactionResult | undefined;
  /**
   * Rollbacks of windows first sent a day of heartbeats (ageWindow), timed in turn with `reaction`'s:
   * a fleet's windows are on average half a day into their window, and a worker that evicted one
   * replays its whole run. `historyEvents`: the aged windows' run lengths before their rollback.
   */
  reactionAged?: ReactionResult & {
    heartbeats: number;
    historyEvents: Distribution;
    /** The events the day of heartbeats added over every run of the aged windows, per window per hour of the day (its continue-as-new handovers included). */
    eventsPerQuietHour: number;
    /** The same per window: where the mean comes from. */
    dayEventsPerHour: Distribution;
    /** The aged windows' run lengths before their day of heartbeats. */
    runEventsBefore: Distribution;
    /** Every aged window's day, run by run (since Session 24; two runs of that session wrote only `dayOutliers`, those more than 0.5 an hour from the median). */
    days?: AgedDay[];
  };
  /** Scheduled evaluation time → the evaluation ran (evaluator), or each check vs the previous + interval (per-window). */
  lateness: Distribution;
  /** Where the watch evaluators ran: in the deployments' worker process, or a worker process of their own (SHIPWATCH_WORKER_QUEUES). */
  evaluators: EvaluatorPlace;
  /** The worker's CPU: with the evaluators in a process of their own, both processes' (and each's in `processes`). */
  cpu: { workerCores: number; serverCores: number; processes?: { deploymentsCores: number; evaluatorsCores: number } };
  /** The worker's RSS: with the evaluators in a process of their own, the two processes' sum (its peak: the highest sum sampled), and each's in `processes`. */
  rss: { workerStartMiB: number; workerOpenMiB: number; workerPeakMiB: number; workerEndMiB: number; serverEndMiB: number | undefined; processes?: { deployments: ProcessRss; evaluators: ProcessRss } };
  /** The worker's memory by heap before the windows opened and at the end of the steady state (the deployments' process; `evaluators`: the evaluators' own). */
  heaps: { start: Heaps; steady: Heaps; evaluators?: { start: Heaps; steady: Heaps } };
  /** History events per window per hour in the steady state (every window's, extrapolated from the steady interval). */
  eventsPerWindowHour: number;
  /** The same by kind of event (signals, workflow tasks, timers…), per window per hour. */
  eventsByKind?: Record<string, number>;
  /**
   * The evaluator's reports among those events, per window per hour (since Session 18): heartbeats
   * (the same alert state as the report before), changes, and first reports.
   */
  reportsPerWindowHour?: { heartbeats: number; changes: number; first: number };
  /**
   * CPU time the hypervisor gave other guests from the steady state to the last rollback, in cores
   * (of the machine's): on a shared VM, a part that ran slower throughout with the same CPU used
   * shows it here (since Session 16).
   */
  stealCores?: number;
  /** The worker's, the server's and Prometheus's CPU by the time after a slot (where a slot's work lands). */
  cpuByPhase?: CpuByPhase;
  /** Timeline queries and rollbacks that failed (a saturated worker not answering in time): counted, never dropped silently. */
  failures: { queries: number; rollbacks: number; examples: string[] };
  /** Queries per second Prometheus answered in the steady state (real Prometheus: its `prometheus_http_requests_total`), or, with the fake port, rules evaluated per second (one query each if asked alone). */
  prometheusQueriesPerSecond: number;
  /** Rules evaluated per second (distinct rule expressions × evaluations). */
  rulesPerSecond: number;
  prometheus: 'real' | 'fake port';
  loadAverage: { start: string; end: string };
  evaluator?: { shards: number; windows: number; distinctQueries: number; ruleSets: number; evaluations: number; signalsSent: number; runs: number };
}

export interface ProcessRss {
  startMiB: number;
  peakMiB: number;
  endMiB: number;
}

/** The sum of the processes' RSS, or NaN when one cannot be read. */
function rssOf(pids: number[]): number {
  return round(pids.reduce((n, pid) => n + (rssMiB(pid) ?? Number.NaN), 0), 1);
}

/** The CPU seconds the processes have used, summed. */
function cpuOf(pids: number[]): number {
  return pids.reduce((n, pid) => n + (cpuSeconds(pid) ?? 0), 0);
}

/**
 * A deployment's state as continue-as-new hands it over, past its forward path, the watch window
 * not yet open; since Session 16 with a forward path's timeline (32 events, bench/fixtures), as a
 * real window carries — before, the timeline was empty.
 */
function carriedState(workflowId: string, spec: Awaited<ReturnType<typeof benchSpec>>) {
  const state = initialState({ deploymentId: workflowId, firstRunId: `bench-${workflowId}`, requestedBy: 'bench', startedAt: new Date().toISOString(), alerts: initialAlertStates(spec.watch.rules) });
  const timeline = { events: FORWARD_TIMELINE.map((e) => ({ ...e })), nextSeq: FORWARD_TIMELINE.length + 1 };
  return { ...state, timeline, phase: 'REPORT' as const, compensations: ['rollout' as const], rollbackTarget: { namespace: spec.namespace, deployment: spec.kubernetes.deployment, container: spec.kubernetes.container, image: 'ghcr.io/org/user-management:v0.9.0', images: { app: 'ghcr.io/org/user-management:v0.9.0' }, revision: 4, revisions: [2, 3, 4], replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, healthy: true, problems: [] } };
}

async function startOpen(client: Client, namespace: string, options: WindowsOptions & { prometheusUrl: string }): Promise<string> {
  const spec = await benchSpec(namespace, { duration: '24h', interval: `${options.intervalMs / 1000}s` }, options.prometheusUrl);
  const workflowId = deploymentWorkflowId(namespace, spec.service);
  const input: DeploymentInput = { spec, requestedBy: 'bench', carried: carriedState(workflowId, spec), watchMode: options.design };
  await client.workflow.start('deploymentWorkflow', {
    workflowId,
    taskQueue: TASK_QUEUE,
    args: [input],
    typedSearchAttributes: [
      { key: searchAttributes.service, value: spec.service },
      { key: searchAttributes.namespace, value: spec.namespace },
      { key: searchAttributes.release, value: spec.release },
      { key: searchAttributes.phase, value: 'WATCH' },
      { key: searchAttributes.outcome, value: 'IN_PROGRESS' },
    ],
  });
  return workflowId;
}

/** Each per-window check in [from, to] against the previous check of its window + interval. */
function perWindowLateness(checks: Record<string, number[]>, w: { prefix: string; intervalMs: number; from: number; to: number }): Distribution {
  const late: number[] = [];
  for (const [id, list] of Object.entries(checks)) {
    if (!id.startsWith(w.prefix)) continue;
    list.forEach((at, k) => {
      if (k > 0 && at >= w.from && at <= w.to) late.push(at - list[k - 1]! - w.intervalMs);
    });
  }
  return distribution(late);
}

/**
 * How many windows' histories are read at once to count the steady state's events. Every window is
 * read: a window's heartbeat comes every 40 min, and its slot is one of 80 (src/workflows/evaluator-plan.ts),
 * so 90 s of steady state see the heartbeats of about 1 window in 27. A random sample of 2,000 of
 * 10,000 (Sessions 18–22) counted those of 75 windows or so, give or take 9, and a run's figure moved
 * by as much as 10% with it (Session 22: heartbeats 1.36–1.72 per window-hour where 1.5 are due);
 * every window read, the slots the steady state saw are counted whole.
 */
const EVENT_READS = 16;

/**
 * History events of `ids` whose time falls in [from, to], per window per hour, in all and by kind
 * (the event's attributes without "EventAttributes": what a window's quiet hour is made of).
 */
async function eventsPerWindowHour(client: Client, ids: string[], from: number, to: number): Promise<{ all: number; byKind: Record<string, number>; reports: WindowsResult['reportsPerWindowHour'] }> {
  const counts = new Map<string, number>();
  const reports = { heartbeats: 0, changes: 0, first: 0 };
  await pool(ids, EVENT_READS, async (id) => {
    const history = await client.workflow.getHandle(id).fetchHistory();
    // The window's reports in order: one whose alert state (the evaluator's signature of it) is the report before's is a heartbeat, else a change.
    let before: string | undefined;
    for (const e of history.events ?? []) {
      const t = e.eventTime?.seconds ? Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6) : 0;
      const signal = e.workflowExecutionSignaledEventAttributes;
      let report: 'heartbeats' | 'changes' | 'first' | undefined;
      if (signal?.signalName === watchReportSignal.name) {
        const payload = signal.input?.payloads?.[0];
        const result = payload ? signature(defaultPayloadConverter.fromPayload<WatchReport>(payload).result) : '';
        report = before === undefined ? 'first' : result === before ? 'heartbeats' : 'changes';
        before = result;
      }
      if (t < from || t > to) continue;
      if (report) reports[report]++;
      const kind = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k] != null)?.replace(/EventAttributes$/, '') ?? 'unknown';
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
  });
  const perWindowHour = (n: number, digits = 1) => round(n / ids.length / ((to - from) / 3_600_000), digits);
  const all = [...counts.values()].reduce((a, b) => a + b, 0);
  return {
    all: perWindowHour(all),
    byKind: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, perWindowHour(n)])),
    reports: { heartbeats: perWindowHour(reports.heartbeats, 2), changes: perWindowHour(reports.changes, 2), first: perWindowHour(reports.first, 2) },
  };
}

/** Timed rollbacks as a result: the distributions, the slow ones with where their time went, each step's distribution. */
function reactionOf(samples: ReactionSample[]): ReactionResult {
  const slow = samples.filter((s) => s.reactionMs > REACTION_TARGET_MS);
  const steps = reactionSteps(samples);
  return { reaction: distribution(samples.map((s) => s.reactionMs)), answer: distribution(samples.map((s) => s.answerMs)), ...(slow.length ? { slow } : {}), ...(steps ? { steps } : {}) };
}

/** An aged window's day, as ageWindow measured it. */
export interface AgedDay {
  id: string;
  /** Its run's length before the day. */
  runEventsBefore: number;
  /** Its run's length after it. */
  runEvents: number;
  /** The events the day added over every run. */
  dayEvents: number;
  /** The length of each run walked, from the one before the day. */
  runs: number[];
  /** The report signals in those runs after the day began (the bench sent `heartbeats` of them; the evaluator's own come on top). */
  reportSignals: number;
}

/** The hours a day of `heartbeats` heartbeats stands for. */
const dayHours = (heartbeats: number): number => (heartbeats * HEARTBEAT_MS) / 3_600_000;

/** The aged windows whose day is more than half an event an hour from the median window's. */
export function dayOutliers(days: AgedDay[], heartbeats: number): AgedDay[] {
  const hours = dayHours(heartbeats);
  const median = distribution(days.map((d) => d.dayEvents / hours)).p50;
  return days.filter((d) => Math.abs(d.dayEvents / hours - median) > 0.5);
}

/**
 * A window given a day's history in a minute: its last report sent again `heartbeats` times, as
 * its evaluator sends a heartbeat (the same alert state, the checks counted on), each after the
 * last one's workflow task completed, so its runs hold what they hold at the end of a quiet day (a
 * signal and a workflow task per heartbeat; a continue-as-new per WATCH_RUN_EVENTS since patch
 * watch-short-runs). Returns the length of its run then (what a worker that evicted it replays)
 * and the events the day added over every run.
 */
async function ageWindow(client: Client, id: string, options: { heartbeats: number; intervalMs: number }): Promise<AgedDay> {
  const handle = client.workflow.getHandle(id);
  // The run first, then its history: read the other way, a window that continued as new in between
  // (an evaluator's heartbeat) had its day counted from the new run less the old one's length.
  const firstRun = (await handle.describe()).runId;
  const events = (await client.workflow.getHandle(id, firstRun).fetchHistory()).events ?? [];
  const last = [...events].reverse().find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === watchReportSignal.name);
  const payload = last?.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`${id} has had no report to send again: it cannot be aged`);
  const report = defaultPayloadConverter.fromPayload<WatchReport>(payload);
  let runEventsNow = events.length;
  // A window hears a heartbeat every `slots` evaluations: its checks count on by that much.
  const slots = heartbeatSlots(options.intervalMs);
  for (let k = 1; k <= options.heartbeats; k++) {
    const checks = report.checks + k * slots;
    await handle.signal(watchReportSignal, { ...report, at: new Date().toISOString(), checks });
    const deadline = Date.now() + 30_000;
    for (;;) {
      // Handled: a workflow task started after the signal (one in flight when it came did not see
      // it) completed in the run that holds it, or that run closed (continued as new: a run does
      // not close with a signal unhandled). The describe's pending workflow task misses a continued
      // run's first one (docs/benchmarks.md, Session 24).
      const runEvents = (await handle.fetchHistory()).events ?? [];
      const at = runEvents.findIndex((e) => {
        const signaled = e.workflowExecutionSignaledEventAttributes;
        const sent = signaled?.signalName === watchReportSignal.name ? signaled.input?.payloads?.[0] : undefined;
        return sent !== undefined && defaultPayloadConverter.fromPayload<WatchReport>(sent).checks === checks;
      });
      const started = at < 0 ? -1 : runEvents.findIndex((e, i) => i > at && e.workflowTaskStartedEventAttributes);
      if (at < 0 || (started > 0 && runEvents.slice(started).some((e) => e.workflowTaskCompletedEventAttributes))) {
        runEventsNow = runEvents.length;
        break;
      }
      if (Date.now() > deadline) throw new Error(`${id}: heartbeat ${k} of ${options.heartbeats} not handled in 30 s`);
      await sleep(20);
    }
  }
  // Every run from the first: the events the day added.
  let dayEvents = -events.length;
  const runs: number[] = [];
  let reportSignals = 0;
  for (let runId: string | undefined = firstRun; runId; ) {
    const history: Awaited<ReturnType<typeof handle.fetchHistory>> = await client.workflow.getHandle(id, runId).fetchHistory();
    const runEvents = history.events ?? [];
    dayEvents += runEvents.length;
    reportSignals += runEvents.slice(runs.length === 0 ? events.length : 0).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === watchReportSignal.name).length;
    runs.push(runEvents.length);
    runId = runEvents[runEvents.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return { id, runEventsBefore: events.length, runEvents: runEventsNow, dayEvents, runs, reportSignals };
}

export async function benchWindows(stack: FakeStack, options: WindowsOptions): Promise<WindowsResult> {
  // The worker's processes: the deployments' (with the evaluators, or without), and the evaluators' own when they have one.
  const pids = [stack.worker.pid!, ...(stack.evaluators ? [stack.evaluators.pid!] : [])];
  const serverPid = stack.temporal.process.pid ?? 0;
  const loadStart = machine().loadAverage;
  const workerStart = rssOf(pids);
  const startEach = pids.map((p) => rssMiB(p) ?? Number.NaN);
  const heapsStart = (await stack.askEach({ type: 'heaps' })).map((h) => h.heaps);
  let peak = workerStart;
  const peakEach = [...startEach];
  const sampler = setInterval(() => {
    const now = rssOf(pids);
    if (now > peak) peak = now;
    pids.forEach((p, i) => {
      peakEach[i] = Math.max(peakEach[i]!, rssMiB(p) ?? 0);
    });
  }, 500);
  const evaluatorIds = allEvaluatorIds({ prometheusUrl: stack.prometheusUrl, intervalMs: options.intervalMs });
  // A stack started with a real Prometheus (the fleet exporter's metrics): count the queries it answered.
  const realPrometheus = stack.prometheusUrl !== FAKE_PROMETHEUS_URL;
  try {
    const namespaces = windowNamespaces(options.prefix, options.windows);
    const started = Date.now();
    let count = 0;
    const ids = await pool(namespaces, 50, async (ns) => {
      const id = await startOpen(stack.client, ns, { ...options, prometheusUrl: stack.prometheusUrl });
      if (++count % 1000 === 0) progress(`  started ${count}/${namespaces.length} (${options.design})`);
      return id;
    });
    const idPrefix = `deploy-${options.prefix}`;
    await waitUntil(`${options.windows} windows open`, 30 * 60_000, async () => {
      if (options.design === 'evaluator') {
        const s = await shardStatuses(stack.client, evaluatorIds);
        const windows = s.reduce((n, x) => n + x.windows, 0);
        return windows >= options.windows ? true : `${windows}/${options.windows} windows registered with ${s.length} evaluators, worker ${rssOf(pids)} MiB`;
      }
      const c = await stack.ask({ type: 'count', prefix: idPrefix });
      return c.inWatch >= options.windows ? true : `${c.inWatch}/${options.windows} windows checked once, worker ${rssOf(pids)} MiB`;
    },
    // The evaluator design every 10 s: each poll queries the 33 evaluators, and a query of one the worker's cache has evicted replays its history.
    options.design === 'evaluator' ? 10_000 : 2_000);
    const openMs = Date.now() - started;
    const workerOpen = rssOf(pids);
    const atOpen = await workflowBacklog(stack.client, TASK_QUEUE);
    progress(`  ${options.windows} windows open after ${round(openMs / 1000)} s (${options.design}), ${atOpen} workflow tasks waiting; letting the first reports settle…`);
    const settleFrom = Date.now();
    // Two intervals: since patch evaluator-evaluation-waits a window that registered while its evaluator's evaluation
    // waited for its slot has its first report a slot later (Session 15's second run counted the last first reports,
    // 31 events per window-hour, after one interval).
    await sleep((options.design === 'evaluator' ? 2 : 1) * options.intervalMs);
    let maxBacklog = atOpen;
    let empty = 0;
    await waitUntil('the deployments\' workflow tasks to drain', 30 * 60_000, async () => {
      const waiting = await workflowBacklog(stack.client, TASK_QUEUE);
      maxBacklog = Math.max(maxBacklog, waiting);
      empty = waiting === 0 ? empty + 1 : 0;
      return empty >= 2 ? true : `${waiting} workflow tasks waiting, worker ${rssOf(pids)} MiB`;
    }, 5_000);
    const settleMs = Date.now() - settleFrom;
    progress(`  settled after ${round(settleMs / 1000)} s (at most ${maxBacklog} tasks waiting); ${options.steadyMs / 1000} s of steady state…`);
    // Rules are evaluated where the evaluators run: every process's count, summed.
    const rulesEvaluated = async (): Promise<number> => (await stack.askEach({ type: 'times' })).reduce((n, a) => n + (a.times.rulesEvaluated ?? 0), 0);
    const rulesBefore = await rulesEvaluated();
    const sentBefore = realPrometheus ? await queriesAnswered(stack.prometheusUrl) : 0;
    // The evaluations each shard had made: lateness is taken from those made after this, up to the last timeline query.
    const shardsBefore = options.design === 'evaluator' ? await shardStatusById(stack.client, evaluatorIds) : new Map<string, EvaluatorStatus>();
    const cpuBefore = { worker: cpuOf(pids), server: cpuSeconds(serverPid) ?? 0, each: pids.map((p) => cpuSeconds(p) ?? 0) };
    const steadyFrom = Date.now();
    const stealBefore = stealSeconds();
    const phases = phaseSampler({ worker: pids, server: serverPid, ...(options.prometheusPid ? { prometheus: options.prometheusPid } : {}) }, options.intervalMs);
    await sleep(options.steadyMs);
    const steadyTo = Date.now();
    const heapsSteady = (await stack.askEach({ type: 'heaps' })).map((h) => h.heaps);
    heapsSteady.forEach((h, i) => progress(`  ${pids.length > 1 ? `${i === 0 ? 'deployments\' ' : 'evaluators\' '}` : ''}worker memory: ${formatHeaps(h)} (at start: ${formatHeaps(heapsStart[i]!)})`));
    const seconds = (steadyTo - steadyFrom) / 1000;
    const cores = (before: number, after: number): number => round((after - before) / seconds, 2);
    const cpu = {
      workerCores: cores(cpuBefore.worker, cpuOf(pids)),
      serverCores: cores(cpuBefore.server, cpuSeconds(serverPid) ?? 0),
      ...(pids.length > 1 ? { processes: { deploymentsCores: cores(cpuBefore.each[0]!, cpuSeconds(pids[0]!) ?? 0), evaluatorsCores: cores(cpuBefore.each[1]!, cpuSeconds(pids[1]!) ?? 0) } } : {}),
    };
    const { times } = await stack.ask({ type: 'times' });
    const rulesPerSecond = round(((await rulesEvaluated()) - rulesBefore) / seconds, 2);
    // With a real Prometheus, what it answered (its own counter; nothing else queries it during the bench); with the fake port, one query per rule evaluated.
    const prometheusQueriesPerSecond = realPrometheus ? round(((await queriesAnswered(stack.prometheusUrl)) - sentBefore) / seconds, 2) : rulesPerSecond;
    // Every window (a sample of 2,000 before Session 23, 500 before Session 18): see EVENT_READS.
    progress(`  the steady state's history events: every window's history read (${ids.length})…`);
    const eventsFrom = Date.now();
    const events = await eventsPerWindowHour(stack.client, ids, steadyFrom, steadyTo).catch(() => ({ all: Number.NaN, byKind: {}, reports: undefined }));
    progress(`  read in ${round((Date.now() - eventsFrom) / 1000)} s: ${events.all} events per window per hour`);

    // Spread over an interval: the evaluators' work comes at each slot, and queries sent in one burst of a few seconds met a slot or not by chance.
    const queryGapMs = options.intervalMs / Math.max(1, options.queries);
    progress(`  ${options.queries} timeline reads (the CLI's: the memo) each followed by a timeline query of the same window, one pair every ${round(queryGapMs)} ms at most (for ${ASK_BUDGET_MS / 1000} s at most)…`);
    const latencies: number[] = [];
    const slowQueries: WindowsResult['slowQueries'] = [];
    const failedQueries: string[] = [];
    const reads: number[] = [];
    const slowReads: WindowsResult['slowQueries'] = [];
    let fromMemo = 0;
    // A saturated worker answers each query at its 10 s deadline: 200 of them held a run for half an hour (the per-window design at cache 20). The number asked is in the result (timeline.n).
    const queriesUntil = Date.now() + ASK_BUDGET_MS;
    const queriesFrom = performance.now();
    for (let q = 0; q < options.queries && Date.now() < queriesUntil; q++) {
      const due = queriesFrom + q * queryGapMs;
      if (performance.now() < due) await sleep(due - performance.now());
      const handle = stack.client.workflow.getHandle(ids[Math.floor(Math.random() * ids.length)]!);
      // The CLI's read first: a describe does not bring the window into the worker's cache, so the query after it replays as it would alone.
      const r = performance.now();
      const readAfterSlotMs = Date.now() % options.intervalMs;
      try {
        // timelineOf sets its own deadline (15 s, the CLI's): a wrapper here would be overridden by it.
        const read = await timelineOf({ client: stack.client }, handle);
        if (read.source === 'memo') fromMemo++;
      } catch (err) {
        failedQueries.push(`timeline read: ${(err as Error).message.slice(0, 110)}`);
      }
      const readMs = performance.now() - r;
      reads.push(readMs);
      if (readMs >= SLOW_QUERY_MS) slowReads.push({ ms: round(readMs), afterSlotMs: readAfterSlotMs });
      const t = performance.now();
      const afterSlotMs = Date.now() % options.intervalMs;
      try {
        // 10 s at most: a saturated worker answers late or not at all; that is a failed query, not a wait.
        await stack.client.connection.withDeadline(Date.now() + 10_000, () => handle.query(timelineQuery));
      } catch (err) {
        // A query the worker did not answer in time (saturated): counted, and its time is a lower bound.
        failedQueries.push((err as Error).message.slice(0, 120));
      }
      const ms = performance.now() - t;
      latencies.push(ms);
      if (ms >= SLOW_QUERY_MS) slowQueries.push({ ms: round(ms), afterSlotMs });
    }
    let lateness: Distribution;
    let evaluator: WindowsResult['evaluator'];
    if (options.design === 'evaluator') {
      const after = await shardStatusById(stack.client, evaluatorIds);
      const shards = [...after.values()];
      // Every shard's evaluations from the start of the steady state to the last timeline query (a shard keeps its last 100).
      lateness = distribution([...after].flatMap(([id, s]) => s.lateness.slice(s.lateness.length - Math.min(s.lateness.length, s.evaluations - (shardsBefore.get(id)?.evaluations ?? 0)))));
      const sum = (f: (s: EvaluatorStatus) => number): number => shards.reduce((n, s) => n + f(s), 0);
      evaluator = { shards: shards.length, windows: sum((s) => s.windows), distinctQueries: sum((s) => s.distinctQueries), ruleSets: sum((s) => s.ruleSets), evaluations: sum((s) => s.evaluations), signalsSent: sum((s) => s.signalsSent), runs: sum((s) => s.runs) };
    } else {
      lateness = perWindowLateness(times.checks, { prefix: idPrefix, intervalMs: options.intervalMs, from: steadyFrom, to: steadyTo });
    }
    let reaction: ReactionResult | undefined;
    let reactionAged: WindowsResult['reactionAged'];
    const failedRollbacks: string[] = [];
    if (options.rollbacks > 0 || options.agedRollbacks > 0) {
      const shuffled = [...ids].sort(() => Math.random() - 0.5);
      const fresh = shuffled.slice(0, options.rollbacks);
      // The per-window design has no reports to send again.
      const aged = options.design === 'evaluator' ? shuffled.slice(options.rollbacks, options.rollbacks + options.agedRollbacks) : [];
      const heartbeats = Math.floor((24 * 3_600_000) / HEARTBEAT_MS);
      const agedDays: AgedDay[] = [];
      if (aged.length) {
        progress(`  ${aged.length} windows sent a day of heartbeats (${heartbeats} each, one workflow task each)…`);
        agedDays.push(...(await pool(aged, 10, (id) => ageWindow(stack.client, id, { heartbeats, intervalMs: options.intervalMs }))));
      }
      progress(`  ${fresh.length} rollbacks of random windows${aged.length ? `, in turn with ${aged.length} of the aged ones` : ''}…`);
      const samples: ReactionSample[] = [];
      const agedSamples: ReactionSample[] = [];
      const rollbacksUntil = Date.now() + ASK_BUDGET_MS;
      for (let i = 0; i < Math.max(fresh.length, aged.length) && Date.now() < rollbacksUntil; i++) {
        for (const [id, into] of [[fresh[i], samples], [aged[i], agedSamples]] as const) {
          if (!id) continue;
          // Every rollback's history is read after its timing (between rollbacks), so each step has a distribution.
          const afterSlotMs = Date.now() % options.intervalMs;
          const sample = await timeRollback(stack, stack.client.workflow.getHandle(id) as DeploymentHandle, { explain: true }).catch((err: Error) => {
            failedRollbacks.push(err.message.slice(0, 120));
            return undefined;
          });
          if (sample) into.push({ ...sample, afterSlotMs });
        }
      }
      if (fresh.length) reaction = reactionOf(samples);
      if (aged.length) {
        const hours = dayHours(heartbeats);
        reactionAged = { ...reactionOf(agedSamples), heartbeats, historyEvents: distribution(agedDays.map((d) => d.runEvents)), eventsPerQuietHour: round(agedDays.reduce((n, d) => n + d.dayEvents, 0) / agedDays.length / hours, 2), dayEventsPerHour: distribution(agedDays.map((d) => round(d.dayEvents / hours, 2))), runEventsBefore: distribution(agedDays.map((d) => d.runEventsBefore)) };
        reactionAged.days = agedDays;
      }
    }
    const cpuByPhase = phases();
    const stealAfter = stealSeconds();
    const stealCores = stealBefore !== undefined && stealAfter !== undefined ? round((stealAfter - stealBefore) / ((Date.now() - steadyFrom) / 1000), 2) : undefined;
    const workerEnd = rssOf(pids);
    const endEach = pids.map((p) => rssMiB(p) ?? Number.NaN);
    // Close the windows so the next part starts from an idle worker.
    progress(`  terminating the ${ids.length} windows…`);
    await pool(ids, 50, (id) => stack.client.workflow.getHandle(id).terminate('bench part over').catch(() => undefined));
    for (const id of evaluatorIds) await stack.client.workflow.getHandle(id).terminate('bench part over').catch(() => undefined);
    return {
      design: options.design,
      windows: options.windows,
      intervalMs: options.intervalMs,
      openMs,
      settleMs,
      backlog: { atOpen, max: maxBacklog },
      timeline: distribution(latencies),
      slowQueries,
      timelineRead: { ...distribution(reads), fromMemo, slow: slowReads },
      queryGapMs: round(queryGapMs),
      reaction,
      ...(reactionAged ? { reactionAged } : {}),
      lateness,
      evaluators: pids.length > 1 ? 'own process' : 'in the worker',
      cpu,
      rss: {
        workerStartMiB: workerStart,
        workerOpenMiB: workerOpen,
        workerPeakMiB: peak,
        workerEndMiB: workerEnd,
        serverEndMiB: serverPid ? rssMiB(serverPid) : undefined,
        ...(pids.length > 1 ? { processes: { deployments: { startMiB: startEach[0]!, peakMiB: peakEach[0]!, endMiB: endEach[0]! }, evaluators: { startMiB: startEach[1]!, peakMiB: peakEach[1]!, endMiB: endEach[1]! } } } : {}),
      },
      heaps: { start: heapsStart[0]!, steady: heapsSteady[0]!, ...(pids.length > 1 ? { evaluators: { start: heapsStart[1]!, steady: heapsSteady[1]! } } : {}) },
      eventsPerWindowHour: events.all,
      eventsByKind: events.byKind,
      ...(events.reports ? { reportsPerWindowHour: events.reports } : {}),
      cpuByPhase,
      ...(stealCores !== undefined ? { stealCores } : {}),
      failures: { queries: failedQueries.length, rollbacks: failedRollbacks.length, examples: [...failedQueries.slice(0, 3), ...failedRollbacks.slice(0, 3)] },
      prometheusQueriesPerSecond,
      rulesPerSecond,
      prometheus: realPrometheus ? 'real' : 'fake port',
      loadAverage: { start: loadStart, end: machine().loadAverage },
      ...(evaluator ? { evaluator } : {}),
    };
  } finally {
    clearInterval(sampler);
  }
}

/** "RSS MiB = main heap + external + each workflow thread's heap + native". */
function formatHeaps(h: Heaps): string {
  return `${h.rssMiB} MiB = main heap ${h.main.heapMiB} + external ${h.main.externalMiB} + workflow threads' heaps ${h.threads.map((t) => t.heapMiB).join(' + ')} + native ${h.restMiB}`;
}

/** Workflow tasks waiting on `taskQueue` (the server's approximate backlog count; sticky queues not included). */
async function workflowBacklog(client: Client, taskQueue: string): Promise<number> {
  const answer = await client.workflowService.describeTaskQueue({ namespace: client.options.namespace, taskQueue: { name: taskQueue }, reportStats: true });
  return Number(answer.stats?.approximateBacklogCount ?? 0);
}

/** The status of every evaluator of the Prometheus that is running (the shards started so far). */
async function shardStatuses(client: Client, ids: string[]): Promise<EvaluatorStatus[]> {
  return [...(await shardStatusById(client, ids)).values()];
}

/** The status of each evaluator that answers, by its workflow ID. */
async function shardStatusById(client: Client, ids: string[]): Promise<Map<string, EvaluatorStatus>> {
  const answers = await Promise.all(ids.map(async (id) => [id, await client.workflow.getHandle(id).query(evaluatorStatusQuery).catch(() => undefined)] as const));
  return new Map(answers.filter((a): a is readonly [string, EvaluatorStatus] => a[1] !== undefined));
}
