/**
 * Shared set-up for the release workflow tests: one fake world per service (routed by the
 * service's name in each port call's input, so one service's smoke suite can fail while the
 * other's passes), a worker with the deployment and release activities, and release specs built
 * from the workflow tests' deploy spec fixture.
 */
import { createWatchActivities } from '../../src/activities/alert-watch';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { createActivities } from '../../src/activities';
import type { ActivityDeps } from '../../src/activities/types';
import { createReleaseActivities } from '../../src/releases';
import type { ReleaseHandle } from '../../src/releases';
import { releaseSearchAttributes, releaseStatusQuery } from '../../src/workflows/release/messages';
import type { ReleaseStatus } from '../../src/workflows/release/messages';
import type { ReleaseSpec, ReleaseServiceSpec } from '../../src/workflows/release/types';
import { createFakeDeps } from '../helpers/fakes';
import { createDeploymentEnv } from './harness';
import type { FakeOptions, FakeWorld } from '../helpers/fakes';
import { testSpec } from './fixtures/spec';

/**
 * A time-skipping server for ONE test. Scenarios sharing a server hung: after a first `halt` train
 * had ended, the next one's timers never fired — time stopped advancing although the client waited
 * on a result and no history had an open activity (3 of 3 runs on a shared server hung on the
 * second train; 4 of 4 passed with a server each). That is the test server's time skipping, not the
 * release (the workflows were waiting on timers only), so every release test gets its own server.
 */
export async function createReleaseEnv(): Promise<TestWorkflowEnvironment> {
  const env = await createDeploymentEnv();
  await registerReleaseSearchAttributes(env);
  return env;
}

/** Registers the release train's search attributes (the deployment's are registered by the harness). */
export async function registerReleaseSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  const KEYWORD = 2;
  const KEYWORD_LIST = 7;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: { [releaseSearchAttributes.train.name]: KEYWORD, [releaseSearchAttributes.services.name]: KEYWORD_LIST },
  });
}

/** Port calls go to the world of the service whose name appears in their input (longest name first). */
export function routedDeps(worlds: Record<string, FakeWorld>): ActivityDeps {
  const names = Object.keys(worlds).sort((a, b) => b.length - a.length);
  const pick = (input: unknown): FakeWorld => {
    const text = JSON.stringify(input) ?? '';
    return worlds[names.find((n) => text.includes(n)) ?? names[names.length - 1]!]!;
  };
  const first = Object.values(worlds)[0]!.deps;
  const routed: Record<string, Record<string, unknown>> = {};
  for (const [port, methods] of Object.entries(first)) {
    routed[port] = {};
    for (const method of Object.keys(methods as object)) {
      routed[port][method] = (...args: unknown[]) => {
        const world = pick(args[0]);
        const fn = (world.deps as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>)[port]![method]!;
        return fn(...args);
      };
    }
  }
  return routed as unknown as ActivityDeps;
}

let queueCounter = 0;

/**
 * `cached: false` keeps no workflow in memory between tasks (no sticky queue): every task replays
 * the history, and a worker that stops leaves nothing a successor has to wait out.
 */
export async function createReleaseWorker(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundleWithSourceMap,
  worlds: Record<string, FakeWorld>,
  options: { taskQueue: string; cached?: boolean },
): Promise<Worker> {
  return Worker.create({
    ...(options.cached === false ? { maxCachedWorkflows: 0 } : {}),
    connection: env.nativeConnection,
    taskQueue: options.taskQueue,
    workflowBundle: bundle,
    // No wait for the slot on the time-skipping server (./harness.ts, createWorker, says why).
    activities: { ...createActivities(routedDeps(worlds), { stepProbeMs: 0, baselineWait: { pollMs: 10 }, waitForSlot: !env.supportsTimeSkipping }), ...createWatchActivities(), ...createReleaseActivities() },
    shutdownGraceTime: '1s',
  });
}

export function nextQueue(): string {
  return `release-${++queueCounter}-${Date.now()}`;
}

export interface ServiceFixture {
  name: string;
  after?: string[];
  approval?: 'required';
  fake?: FakeOptions;
  /** Patch of the deploy spec document (deep-merged). */
  patch?: Record<string, unknown>;
}

/**
 * A release of the given services in their own namespace (a failed scenario never blocks the next),
 * each a copy of the fixture deploy spec renamed to the service, with no review reminder.
 */
export async function releaseOf(name: string, services: ServiceFixture[], rest: Partial<Omit<ReleaseSpec, 'services'>> = {}): Promise<{ spec: ReleaseSpec; worlds: Record<string, FakeWorld> }> {
  const namespace = `prod-${++queueCounter}`;
  const worlds: Record<string, FakeWorld> = {};
  const specs: ReleaseServiceSpec[] = [];
  for (const s of services) {
    worlds[s.name] = createFakeDeps({ previousImage: `ghcr.io/org/${s.name}:v0.9.0`, ...s.fake });
    const spec = await testSpec({
      service: s.name,
      namespace,
      image: `ghcr.io/org/${s.name}:v1.0.0`,
      kubernetes: { deployment: s.name, container: 'app', stepPods: 0 },
      serviceUrl: `http://${s.name}.${namespace}:8080`,
      metrics: { prometheusUrl: `http://prometheus-for-${s.name}:9090` },
      smoke: { suite: { name: `${s.name} smoke` } },
      watch: { duration: '1h', reviewAfter: '0s' },
      ...s.patch,
    });
    specs.push({ name: s.name, after: s.after ?? [], approval: s.approval ?? 'none', spec });
  }
  return {
    spec: { name, services: specs, onFailure: 'rollback-all', watch: { mode: 'together', durationMs: 30 * 60_000, trainTimeoutMs: 6 * 3_600_000 }, statusIntervalMs: 10_000, report: { dir: '/tmp/shipwatch-release-test-reports' }, ...rest },
    worlds,
  };
}

/** Polls (in workflow time) until the release's status satisfies `done`. */
export async function waitForRelease(env: TestWorkflowEnvironment, handle: ReleaseHandle, done: (s: ReleaseStatus) => boolean): Promise<ReleaseStatus> {
  for (let i = 0; i < 500; i++) {
    const status = await handle.query(releaseStatusQuery);
    if (done(status)) return status;
    await env.sleep('10s');
  }
  throw new Error(`release ${handle.workflowId} never reached the expected state`);
}

/** Writes the release's history to test/workflow/history_files/<name>.json when RECORD_HISTORIES=1. */
export async function recordReleaseHistory(env: TestWorkflowEnvironment, handle: ReleaseHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
  const json = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), { longs: String, enums: String, bytes: String });
  writeFileSync(join(__dirname, 'history_files', `${name}.json`), `${JSON.stringify(json)}\n`);
}
