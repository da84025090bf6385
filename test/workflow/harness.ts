/**
 * Shared set-up for the deployment workflow tests: one time-skipping environment and one
 * workflow bundle per test file, a worker per scenario on its own task queue with fake ports.
 */
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { createActivities } from '../../src/activities';
import type { ActivitySettings } from '../../src/activities';
import { createWatchActivities } from '../../src/activities/alert-watch';
import { startDeployment } from '../../src/deployments';
import type { DeploymentHandle } from '../../src/deployments';
import type { DeploySpec } from '../../src/spec/types';
import type { DeploymentReport } from '../../src/model';
import type { FakeWorld } from '../helpers/fakes';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { searchAttributes } from '../../src/workflows/messages';
import { allEvaluatorIds } from '../../src/workflows/evaluator-messages';

export function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
}

export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietLogger() });
}

/** Registers the Shipwatch* search attributes on the test server (it refuses unknown ones, as a real server does). */
export async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.values(searchAttributes).map((key) => [key.name, KEYWORD])),
  });
}

/** A time-skipping environment with the search attributes registered. */
export async function createDeploymentEnv(): Promise<TestWorkflowEnvironment> {
  const env = await createTimeSkippingEnv();
  await registerSearchAttributes(env);
  return env;
}

let queueCounter = 0;

/** `options`: more of the activities' settings (e.g. `rulesKept`), and the worker's sticky cache when not the SDK's default. */
export async function createWorker(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap, world: FakeWorld, taskQueue: string, options: { activities?: ActivitySettings; maxCachedWorkflows?: number } = {}): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    // On the time-skipping server an evaluation does not wait in the worker for its slot: the server's clock is not the
    // worker's, and a wait in real time would see the server skip past its timeout. Answered at once, the evaluator holds
    // the answers until the slot (what it does for a worker whose clock runs behind). On a dev server it waits, as in production.
    activities: { ...createActivities(world.deps, { stepProbeMs: 0, baselineWait: { pollMs: 10 }, waitForSlot: !env.supportsTimeSkipping, ...options.activities }), ...createWatchActivities() },
    shutdownGraceTime: '1s',
  });
}

export interface Scenario {
  spec: DeploySpec;
  world: FakeWorld;
  /** Runs while the worker runs, after the deployment started. */
  during?: (handle: DeploymentHandle, client: Client) => Promise<void>;
  /** Runs while the worker still runs, after the deployment closed (queries of a closed workflow need a worker). */
  after?: (handle: DeploymentHandle, client: Client) => Promise<void>;
  /** Name under which to record the history when RECORD_HISTORIES=1. */
  record?: string;
}

/** Starts the deployment, runs a worker until it closes; returns the handle (result not awaited for failures). */
export async function runScenario(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap, scenario: Scenario): Promise<DeploymentHandle> {
  const taskQueue = `deploy-${++queueCounter}-${Date.now()}`;
  const worker = await createWorker(env, bundle, scenario.world, taskQueue);
  const handle = await worker.runUntil(async () => {
    // Its own namespace per scenario: a scenario that fails never blocks the next with "already active".
    const spec = { ...scenario.spec, namespace: `${scenario.spec.namespace}-${queueCounter}` };
    const h = await startDeployment(env.client, spec, { requestedBy: 'alice', taskQueue });
    if (scenario.during) await scenario.during(h, env.client);
    await h.result().catch(() => undefined);
    if (scenario.after) await scenario.after(h, env.client);
    // The abandoned review reminder would wake on a queue nobody polls any more and hold the
    // time-skipping clock for the next scenario.
    await env.client.workflow
      .getHandle(`${h.workflowId}-review-${h.firstExecutionRunId}`)
      .terminate('test scenario over')
      .catch(() => undefined);
    // The watch evaluator closes once its last window unregistered; one still open (a window that
    // ended before it could) would hold the clock the same way.
    if (spec.metrics) {
      for (const id of allEvaluatorIds({ prometheusUrl: spec.metrics.prometheusUrl, intervalMs: spec.watch.intervalMs })) {
        await env.client.workflow
          .getHandle(id)
          .terminate('test scenario over')
          .catch(() => undefined);
      }
    }
    return h;
  });
  if (scenario.record && process.env.RECORD_HISTORIES === '1') await recordHistory(env, handle, scenario.record);
  return handle;
}

/** Writes the history of the first run (or of `runId`) to test/workflow/history_files/<name>.json. */
export async function recordHistory(env: TestWorkflowEnvironment, handle: DeploymentHandle, name: string, runId = handle.firstExecutionRunId): Promise<void> {
  const first = env.client.workflow.getHandle(handle.workflowId, runId);
  const history = await first.fetchHistory();
  const json = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), { longs: String, enums: String, bytes: String });
  writeFileSync(join(__dirname, 'history_files', `${name}.json`), `${JSON.stringify(json)}\n`);
}

/** Run ids of every run of a deployment, following continue-as-new from the first. */
export async function runChain(client: Client, workflowId: string, firstRunId: string): Promise<{ runId: string; events: number }[]> {
  const runs: { runId: string; events: number }[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>> = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    runs.push({ runId, events: events.length });
    const last = events[events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

/**
 * The deployment's report however it ended: the result of a SUCCEEDED one, the details of the
 * failure a FAILED, ROLLED_BACK or MANUAL_ACTION_REQUIRED one ends with (Temporal shows those failed).
 */
export async function settledReport(handle: { result(): Promise<DeploymentReport> }): Promise<DeploymentReport> {
  try {
    return await handle.result();
  } catch (err) {
    const details = (err as { cause?: { details?: unknown[] } }).cause?.details;
    const report = details?.[0] as DeploymentReport | undefined;
    if (report && typeof report === 'object' && 'outcome' in report) return report;
    throw err;
  }
}

/** The patches a history's markers name (its `patched()` calls that returned true when it ran). */
export function patchesOf(history: temporal.api.history.v1.IHistory): string[] {
  const markers = (history.events ?? []).map((e) => e.markerRecordedEventAttributes).filter((m) => m?.markerName === 'core_patch');
  return markers.flatMap((m) => (m!.details?.['patch-data']?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload<{ id: string }>(p).id));
}
