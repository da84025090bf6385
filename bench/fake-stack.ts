/**
 * The benchmark parts that need Temporal and a worker but not the cluster: a real dev server, the
 * real shipwatch worker as a child process on lean fake ports, and this process as the client.
 * Measures the rollback reaction, the timeline query with many deployments open, and the worker's
 * memory and check-time drift with every deployment in its watch window.
 */
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import ts from 'typescript';
import { startDeployment } from '../src/deployments';
import type { DeploymentHandle } from '../src/deployments';
import { resolveSpec } from '../src/spec/load';
import type { DeploySpec } from '../src/spec/types';
import { deploymentWorkflowId, rollbackUpdate, statusQuery, timelineQuery } from '../src/workflows/messages';
import { REPO, freeLoopbackPort } from '../tools/local/stack';
import { devServerArgs, startDevServer, waitForPort } from '../tools/local/temporal';
import { ensureTool } from '../tools/local/tools';
import type { DevServer } from '../tools/local/temporal';
import type { FromWorker, ToWorker } from './fake-worker';
import type { PortTimes } from './fake-ports';
import { buildProject, cpuSeconds, distribution, machine, pool, progress, round, rssMiB, sleep } from './lib';
import type { Distribution } from './lib';

/** The benchmark worker could not start or stopped answering. */
export class BenchWorkerError extends Error {
  override name = 'BenchWorkerError';
}

type Ask = <T extends ToWorker['type']>(message: ToWorker & { type: T }) => Promise<Extract<FromWorker, { type: T }>>;

/** One bench worker process: its child, how to ask it, how to stop it. */
interface BenchWorker {
  child: ChildProcess;
  ask: Ask;
  stop(): Promise<void>;
}

export interface FakeStack {
  client: Client;
  temporal: DevServer;
  /** The worker of the deployments (and of the evaluators too, unless `evaluators` runs them). */
  worker: ChildProcess;
  /** The watch evaluators' worker, when they run in a process of their own (SHIPWATCH_WORKER_QUEUES=evaluators). */
  evaluators?: ChildProcess;
  /** The Prometheus the bench's specs name: a real one when started with one, else an address nothing answers (the fake metrics port answers instead). */
  prometheusUrl: string;
  /** Asks the deployments' worker. */
  ask: Ask;
  /** Asks every worker process, the deployments' first. */
  askEach<T extends ToWorker['type']>(message: ToWorker & { type: T }): Promise<Extract<FromWorker, { type: T }>[]>;
  stop(): Promise<void>;
}

/**
 * The dev server with an in-memory SQLite store unless `dbFile` is given: with a file on this
 * machine's disk the server spent its time in fsync (25% iowait) and fell behind at a few hundred
 * deployments, which measures the disk, not shipwatch. Production scale runs Temporal on PostgreSQL.
 */
async function startBenchTemporal(dbFile: string | undefined, extraArgs: string[] = []): Promise<DevServer> {
  const port = await freeLoopbackPort();
  const uiPort = await freeLoopbackPort();
  if (dbFile) return startDevServer({ port, uiPort, dbFile, extraArgs });
  const args = devServerArgs({ port, uiPort, dbFile: '', extraArgs });
  const at = args.indexOf('--db-filename');
  args.splice(at, 2);
  const child = spawn(ensureTool('temporal-cli'), args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    waitForPort(port, 60_000),
    exited.then(() => {
      throw new BenchWorkerError(`the Temporal dev server exited with code ${child.exitCode} while starting`);
    }),
  ]);
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The bench worker's entry, compiled: `npm run build` (dist/src and the workflow bundles, so the
 * bench measures the code as it is now), then bench/fake-worker.ts and bench/fake-ports.ts
 * transpiled into `dir`, beside links to dist/src and node_modules so their imports resolve.
 */
async function compiledBenchWorker(dir: string): Promise<string> {
  await buildProject();
  mkdirSync(join(dir, 'bench'));
  for (const name of ['fake-worker', 'fake-ports']) {
    const { outputText } = ts.transpileModule(readFileSync(join(__dirname, `${name}.ts`), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(join(dir, 'bench', `${name}.js`), outputText);
  }
  symlinkSync(join(REPO, 'dist', 'src'), join(dir, 'src'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'bench', 'fake-worker.js');
}

/** The Prometheus address of the bench's specs when the fake metrics port answers the rules. */
export const FAKE_PROMETHEUS_URL = 'http://127.0.0.1:9090';

/** `prometheusUrl`: the watch's rules are evaluated by the real metrics adapter against this Prometheus. */
/**
 * `maxCachedWorkflows`, `heapMiB` and `semiSpaceMiB`: the worker's sticky cache, V8 old-space limit
 * and young-generation semi-space limit (per isolate: the main thread and each workflow thread),
 * when measured at other than their defaults; `nodeFlags`: any other flags of its `node`; `env`:
 * more of its environment (e.g. MALLOC_ARENA_MAX); `evaluatorProcess`: the watch evaluators in a
 * worker process of their own (SHIPWATCH_WORKER_QUEUES), with the same settings; `temporalArgs`:
 * more arguments of the dev server (`--dynamic-config-value key=value`).
 */
export async function startFakeStack(
  options: { dbFile?: string; temporalArgs?: string[]; prometheusUrl?: string; maxCachedWorkflows?: number; heapMiB?: number; semiSpaceMiB?: number; nodeFlags?: string[]; env?: Record<string, string>; evaluatorProcess?: boolean } = {},
): Promise<FakeStack> {
  const dir = mkdtempSync(join(tmpdir(), 'shipwatch-bench-'));
  const temporal = await startBenchTemporal(options.dbFile, options.temporalArgs);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const script = await compiledBenchWorker(dir);
  const workers: BenchWorker[] = [];
  const stopAll = async () => {
    for (const w of workers) await w.stop();
    await connection.close();
    await temporal.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Both queues in one process, or the evaluators' in a second one (the deployments' worker first: it answers the queries and rollbacks).
    for (const queues of options.evaluatorProcess ? ['deployments', 'evaluators'] : [undefined]) {
      workers.push(await forkBenchWorker(script, { ...options, temporalAddress: temporal.address, ...(queues ? { env: { ...options.env, SHIPWATCH_WORKER_QUEUES: queues } } : {}) }));
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const [main, evaluators] = workers as [BenchWorker, BenchWorker | undefined];
  return {
    client,
    temporal,
    worker: main.child,
    ...(evaluators ? { evaluators: evaluators.child } : {}),
    prometheusUrl: options.prometheusUrl ?? FAKE_PROMETHEUS_URL,
    ask: main.ask,
    // Typed as FakeStack's (as `ask` is): TypeScript cannot match one generic signature to another here.
    askEach: ((message: ToWorker) => Promise.all(workers.map((w) => w.ask(message)))) as FakeStack['askEach'],
    stop: stopAll,
  };
}

/** Forks the bench worker (bench/fake-worker.ts) and waits until it polls; a failure to start stops it and throws. */
async function forkBenchWorker(
  script: string,
  options: { temporalAddress: string; prometheusUrl?: string; maxCachedWorkflows?: number; heapMiB?: number; semiSpaceMiB?: number; nodeFlags?: string[]; env?: Record<string, string> },
): Promise<BenchWorker> {
  const metricsPort = await freeLoopbackPort();
  // The worker runs as a user runs one: the compiled worker (dist/src) and the bundle made ahead
  // that a worker with tracing off loads (dist/workflow-bundle-untraced.js), no TypeScript loader
  // or webpack in its process (tsx added about 140 MiB to its resident memory).
  const worker = fork(script, [], {
    execArgv: [
      ...(options.heapMiB !== undefined ? [`--max-old-space-size=${options.heapMiB}`] : []),
      ...(options.semiSpaceMiB !== undefined ? [`--max-semi-space-size=${options.semiSpaceMiB}`] : []),
      ...(options.nodeFlags ?? []),
    ],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      SHIPWATCH_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      SHIPWATCH_LOG_LEVEL: 'warn',
      ...(options.prometheusUrl ? { BENCH_PROMETHEUS_URL: options.prometheusUrl } : {}),
      ...(options.maxCachedWorkflows !== undefined ? { SHIPWATCH_MAX_CACHED_WORKFLOWS: String(options.maxCachedWorkflows) } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, (m: FromWorker) => void>();
  worker.on('message', (m: FromWorker) => {
    const resolve = waiting.get(m.type);
    waiting.delete(m.type);
    resolve?.(m);
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const stop = async () => {
    if (worker.exitCode === null && worker.signalCode === null) {
      worker.send({ type: 'stop' } satisfies ToWorker);
      const timedOut = await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)]);
      if (timedOut) worker.kill('SIGKILL');
      await exited;
    }
  };
  const ready = new Promise<FromWorker>((resolve) => waiting.set('ready', resolve));
  const failed = new Promise<never>((_, reject) => {
    worker.on('message', (m: FromWorker) => m.type === 'error' && reject(new BenchWorkerError(`the bench worker failed: ${m.message}`)));
    void exited.then(() => reject(new BenchWorkerError(`the bench worker exited with code ${worker.exitCode}`)));
  });
  failed.catch(() => undefined);
  try {
    await Promise.race([ready, failed]);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    child: worker,
    ask: (message) => {
      const answer = new Promise<FromWorker>((resolve) => waiting.set(message.type, resolve));
      worker.send(message);
      return Promise.race([answer, failed]) as never;
    },
    stop,
  };
}

/**
 * The sample service's spec, in its own namespace so each bench deployment has its own workflow ID;
 * its metrics selector names the namespace too, so every one of its four rules differs from every
 * other window's (as services of a fleet do).
 */
export async function benchSpec(namespace: string, watch: { duration: string; interval: string }, prometheusUrl = FAKE_PROMETHEUS_URL): Promise<DeploySpec> {
  return resolveSpec(
    {
      service: 'user-management',
      namespace,
      release: 'v1.0.0',
      image: 'ghcr.io/org/user-management:v1.0.0',
      change: { reference: 'BENCH', approvedBy: 'bench' },
      kubernetes: { deployment: 'user-management', container: 'app', stepPods: 0, stepWindow: '0s' },
      serviceUrl: 'http://user-management.production:8080',
      database: { url: 'env:DATABASE_URL' },
      migrations: { command: ['node', 'migrate.js'], rollbackCommand: ['node', 'migrate.js', 'users', '0002'] },
      smoke: { suite: { name: 'user-management smoke', steps: [{ name: 'Health endpoint', path: '/health' }] } },
      metrics: { prometheusUrl, selector: `namespace="${namespace}",job="user-management"` },
      watch: { duration: watch.duration, interval: watch.interval },
      notifications: { slack: { webhook: 'env:SLACK_WEBHOOK' } },
      report: { dir: '/tmp/shipwatch-bench-reports' },
    },
    { file: 'bench-spec.yaml' },
  );
}

async function waitFor<T>(what: string, timeoutMs: number, poll: () => Promise<T | undefined>, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await poll();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface ReactionSample {
  /** Update sent → the worker's first `kubernetes.rollback` call. */
  reactionMs: number;
  /** Update sent → its answer ("accepted …") back at the client. */
  answerMs: number;
  /** Where a slow one's time went, from its history (see explainRollback). */
  where?: RollbackTimes;
  /** The scale part's: when the update was sent, in ms after a multiple of the interval (as its slow queries say; the summary folds it onto the shards' EVALUATION_PHASES phases). */
  afterSlotMs?: number;
}

/**
 * Where a rollback's reaction went, from the workflow's history (server clock, same machine as the
 * bench): update sent → the workflow task that took it scheduled → started by the worker → completed
 * (the update accepted) → the rollback activity scheduled → started → its first cluster call.
 */
export interface RollbackTimes {
  sentToTaskScheduledMs: number;
  taskScheduleToStartMs: number;
  taskStartToCompleteMs: number;
  completeToActivityScheduledMs: number;
  activityScheduleToStartMs: number;
  activityStartToCallMs: number;
}

/** The steps of RollbackTimes in order, as the summary names them. */
export const ROLLBACK_STEPS: [keyof RollbackTimes, string][] = [
  ['sentToTaskScheduledMs', 'update sent → its workflow task scheduled'],
  ['taskScheduleToStartMs', '→ started by the worker'],
  ['taskStartToCompleteMs', '→ completed'],
  ['completeToActivityScheduledMs', '→ rollback activity scheduled'],
  ['activityScheduleToStartMs', '→ started'],
  ['activityStartToCallMs', '→ first cluster call'],
];

type HistoryEvents = NonNullable<Awaited<ReturnType<DeploymentHandle['fetchHistory']>>['events']>;

/** The rollback's update accepted, and the first (rollback) activity scheduled after it with its started event, if in the history yet. */
function rollbackActivity(events: HistoryEvents) {
  const accepted = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  const after = accepted < 0 ? [] : events.slice(accepted);
  const activity = after.find((e) => /rollback/i.test(e.activityTaskScheduledEventAttributes?.activityType?.name ?? '')) ?? after.find((e) => e.activityTaskScheduledEventAttributes);
  const activityStarted = activity && after.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(activity.eventId));
  return { accepted, activity, activityStarted };
}

/** An event's time in ms (NaN when the event is missing: its step then reads NaN, not 0). */
const eventMs = (e: { eventTime?: Parameters<typeof optionalTsToMs>[0] } | undefined): number => optionalTsToMs(e?.eventTime) ?? Number.NaN;

/** The history's account of one timed rollback (`sent` and `calledAt` by the bench's clock). */
export async function explainRollback(handle: DeploymentHandle, sent: number, calledAt: number): Promise<RollbackTimes | undefined> {
  // The server writes an activity's started event when the attempt ends: a rollback activity still
  // running has none yet, so wait for it (5 s at most; after that its steps read NaN).
  let events = (await handle.fetchHistory()).events ?? [];
  for (let i = 0; i < 10; i++) {
    const { activity, activityStarted } = rollbackActivity(events);
    if (activity === undefined || activityStarted !== undefined) break;
    await sleep(500);
    events = (await handle.fetchHistory()).events ?? [];
  }
  const { accepted, activity, activityStarted } = rollbackActivity(events);
  if (accepted < 0) return undefined;
  const before = events.slice(0, accepted).reverse();
  const completed = before.find((e) => e.workflowTaskCompletedEventAttributes);
  const started = before.find((e) => e.workflowTaskStartedEventAttributes);
  const scheduled = before.find((e) => e.workflowTaskScheduledEventAttributes);
  return {
    sentToTaskScheduledMs: eventMs(scheduled) - sent,
    taskScheduleToStartMs: eventMs(started) - eventMs(scheduled),
    taskStartToCompleteMs: eventMs(completed) - eventMs(started),
    completeToActivityScheduledMs: eventMs(activity) - eventMs(completed),
    activityScheduleToStartMs: eventMs(activityStarted) - eventMs(activity),
    activityStartToCallMs: calledAt - eventMs(activityStarted),
  };
}

/**
 * One rollback request timed: the update is sent while the deployment sits in its watch window,
 * and the reaction ends when the rollback reaches the Kubernetes port in the worker. `explain`:
 * the history is read afterwards for where the time went (RollbackTimes).
 */
export async function timeRollback(stack: FakeStack, handle: DeploymentHandle, options: { explain?: boolean } = {}): Promise<ReactionSample> {
  const sent = Date.now();
  await handle.executeUpdate(rollbackUpdate, { args: [{ reason: 'bench: rollback reaction', requestedBy: 'bench' }] });
  const answered = Date.now();
  const calledAt = await waitFor(`the rollback call of ${handle.workflowId}`, 60_000, async () => {
    const answer = await stack.ask({ type: 'rollbackAt', id: handle.workflowId });
    return answer.at;
  });
  const sample: ReactionSample = { reactionMs: calledAt - sent, answerMs: answered - sent };
  if (options.explain) {
    const where = await explainRollback(handle, sent, calledAt).catch((err: Error) => void progress(`  (no account of the ${sample.reactionMs} ms rollback of ${handle.workflowId}: ${err.message.slice(0, 120)})`));
    if (where) sample.where = where;
  }
  return sample;
}

async function waitForWatch(handle: DeploymentHandle): Promise<void> {
  await waitFor(`${handle.workflowId} to reach its watch window`, 120_000, async () => {
    const status = await handle.query(statusQuery);
    return status.phase === 'WATCH' && (status.watch?.checks ?? 0) >= 1 ? true : undefined;
  });
}

export interface ReactionResult {
  reaction: Distribution;
  answer: Distribution;
  /** The samples over the target, with where their time went. */
  slow?: ReactionSample[];
  /** Each step of every sample that has an account (see RollbackTimes), as a distribution. */
  steps?: Record<keyof RollbackTimes, Distribution>;
}

/** The distribution of each step of the samples that have an account of where their time went. */
export function reactionSteps(samples: ReactionSample[]): Record<keyof RollbackTimes, Distribution> | undefined {
  const accounted = samples.flatMap((s) => (s.where ? [s.where] : []));
  if (!accounted.length) return undefined;
  return Object.fromEntries(ROLLBACK_STEPS.map(([k]) => [k, distribution(accounted.map((w) => w[k]).filter((v) => Number.isFinite(v)))])) as Record<keyof RollbackTimes, Distribution>;
}

/** Rollback reaction with one deployment at a time (nothing else running). */
export async function benchReaction(stack: FakeStack, runs: number): Promise<ReactionResult> {
  const samples: ReactionSample[] = [];
  for (let i = 0; i < runs; i++) {
    const spec = await benchSpec(`reaction-${i}`, { duration: '24h', interval: '30s' });
    const handle = await startDeployment(stack.client, spec, { requestedBy: 'bench' });
    await waitForWatch(handle);
    // Let the workflow settle into its watch timer, as a deployment in its window would be.
    await sleep(300);
    samples.push(await timeRollback(stack, handle));
    const report = await handle.result();
    if (report.outcome !== 'ROLLED_BACK') throw new Error(`${handle.workflowId} ended ${report.outcome}, expected ROLLED_BACK`);
    if ((i + 1) % 10 === 0 || i + 1 === runs) progress(`  rollback reaction: ${i + 1}/${runs} runs`);
  }
  return { reaction: distribution(samples.map((s) => s.reactionMs)), answer: distribution(samples.map((s) => s.answerMs)) };
}

/** deploymentWorkflowId('scale-NNNN', 'user-management') starts with this. */
const SCALE_PREFIX = 'deploy-scale-';

export interface ScaleOptions {
  deployments: number;
  intervalMs: number;
  /** How long to watch the steady state (all deployments in their watch windows) for drift and memory. */
  steadyMs: number;
  queries: number;
  rollbacksUnderLoad: number;
}

export interface ScaleResult {
  deployments: number;
  intervalMs: number;
  /** Start of the first deployment → the last one's first watch check. */
  rampUpMs: number;
  memory: {
    idleMiB: number;
    inWatchMiB: number;
    peakMiB: number;
    endMiB: number;
    /** V8 heap and external memory of the worker at the end of the steady state (the rest of RSS is native: Rust core, code). */
    heapUsedMiB: number;
    externalMiB: number;
    temporalServerMiB: number | undefined;
  };
  /** Each check's lateness against the previous check + interval (scheduler lag + check round trip), steady state. */
  /** CPU the worker and the Temporal server used during the steady state, in cores (1 = one core busy). */
  cpu: { workerCores: number; serverCores: number; loadAverage: string };
  lateness: Distribution;
  /** Each check against watch start + k × interval (cumulative), steady state. */
  drift: Distribution;
  steadyChecks: number;
  timeline: Distribution;
  timelineEvents: number;
  reactionUnderLoad: ReactionResult | undefined;
}

/** Opens `deployments` watch windows at once and measures memory, drift, timeline queries and rollbacks under that load. */
export async function benchScale(stack: FakeStack, options: ScaleOptions): Promise<ScaleResult> {
  const pid = stack.worker.pid!;
  await sleep(2_000);
  const idle = rssMiB(pid) ?? Number.NaN;
  progress(`  worker idle (bundle loaded): ${idle} MiB resident`);
  let peak = idle;
  const sampler = setInterval(() => {
    const now = rssMiB(pid);
    if (now !== undefined && now > peak) peak = now;
  }, 500);
  try {
    const interval = `${options.intervalMs / 1000}s`;
    const ids = Array.from({ length: options.deployments }, (_, i) => `scale-${String(i).padStart(4, '0')}`);
    const started = Date.now();
    let startedCount = 0;
    await pool(ids, 20, async (namespace) => {
      await startDeployment(stack.client, await benchSpec(namespace, { duration: '24h', interval }), { requestedBy: 'bench' });
      if (++startedCount % 250 === 0) progress(`  started ${startedCount}/${ids.length} deployments`);
    });
    let last = '';
    await waitFor(
      `all ${ids.length} deployments to reach their watch windows`,
      20 * 60_000,
      async () => {
        const count = await stack.ask({ type: 'count', prefix: SCALE_PREFIX });
        const line = `  ${count.inWatch}/${ids.length} deployments in their watch windows, worker ${rssMiB(pid)} MiB`;
        if (line !== last) progress(line);
        last = line;
        return count.inWatch >= ids.length ? count : undefined;
      },
      5_000,
    );
    const rampUpMs = Date.now() - started;
    const inWatch = rssMiB(pid) ?? Number.NaN;
    progress(`  all in watch after ${round(rampUpMs / 1000)} s; steady state for ${options.steadyMs / 1000} s…`);
    const serverPid = stack.temporal.process.pid ?? 0;
    const cpuBefore = { worker: cpuSeconds(pid) ?? 0, server: cpuSeconds(serverPid) ?? 0 };
    const steadyFrom = Date.now();
    await sleep(options.steadyMs);
    const steadyTo = Date.now();
    const cpuShare = (now: number | undefined, before: number) => round(((now ?? before) - before) / ((steadyTo - steadyFrom) / 1000), 2);
    const cpu = { workerCores: cpuShare(cpuSeconds(pid), cpuBefore.worker), serverCores: cpuShare(cpuSeconds(serverPid), cpuBefore.server), loadAverage: machine().loadAverage };
    const end = rssMiB(pid) ?? Number.NaN;
    const { memory } = await stack.ask({ type: 'count', prefix: SCALE_PREFIX });

    // Timeline queries of random deployments, one at a time, while the checks go on.
    progress(`  ${options.queries} timeline queries of random deployments…`);
    const latencies: number[] = [];
    let events = 0;
    for (let q = 0; q < options.queries; q++) {
      const id = deploymentWorkflowId(ids[Math.floor(Math.random() * ids.length)]!, 'user-management');
      const t = performance.now();
      const timeline = await stack.client.workflow.getHandle(id).query(timelineQuery);
      latencies.push(performance.now() - t);
      events = timeline.length;
    }

    let reactionUnderLoad: ReactionResult | undefined;
    if (options.rollbacksUnderLoad > 0) {
      progress(`  ${options.rollbacksUnderLoad} rollbacks of random deployments under load…`);
      const samples: ReactionSample[] = [];
      const chosen = [...ids].sort(() => Math.random() - 0.5).slice(0, options.rollbacksUnderLoad);
      for (const namespace of chosen) {
        const handle = stack.client.workflow.getHandle(deploymentWorkflowId(namespace, 'user-management')) as DeploymentHandle;
        samples.push(await timeRollback(stack, handle));
      }
      reactionUnderLoad = { reaction: distribution(samples.map((s) => s.reactionMs)), answer: distribution(samples.map((s) => s.answerMs)) };
    }

    const { times } = await stack.ask({ type: 'times' });
    const { lateness, drift, steadyChecks } = checkTimes(times, options.intervalMs, steadyFrom, steadyTo);
    return {
      cpu,
      deployments: ids.length,
      intervalMs: options.intervalMs,
      rampUpMs,
      memory: {
        idleMiB: idle,
        inWatchMiB: inWatch,
        peakMiB: peak,
        endMiB: end,
        heapUsedMiB: round(memory.heapUsed / 2 ** 20),
        externalMiB: round(memory.external / 2 ** 20),
        temporalServerMiB: serverPid ? rssMiB(serverPid) : undefined,
      },
      lateness,
      drift,
      steadyChecks,
      timeline: distribution(latencies),
      timelineEvents: events,
      reactionUnderLoad,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** Lateness and cumulative drift of the watch checks that ran in [from, to]. */
export function checkTimes(times: PortTimes, intervalMs: number, from: number, to: number): { lateness: Distribution; drift: Distribution; steadyChecks: number } {
  const lateness: number[] = [];
  const drift: number[] = [];
  for (const [id, checks] of Object.entries(times.checks)) {
    if (!id.startsWith(SCALE_PREFIX)) continue;
    const first = checks[0]!;
    checks.forEach((at, k) => {
      if (k === 0 || at < from || at > to) return;
      lateness.push(at - checks[k - 1]! - intervalMs);
      drift.push(at - (first + k * intervalMs));
    });
  }
  return { lateness: distribution(lateness), drift: distribution(drift), steadyChecks: lateness.length };
}
