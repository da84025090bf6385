/**
 * The worker's observability on a real Temporal dev server: real deployments (the deployment
 * workflow with fake ports) run on a worker wired with setupObservability, then the endpoint is
 * scraped: shipwatch's metrics, the Temporal SDK's metrics, health, and JSON logs with IDs.
 */
import { createWatchActivities } from '../../src/activities/alert-watch';
import { HEARTBEAT_MS } from '../../src/workflows/evaluator-messages';
import { PassThrough } from 'node:stream';
import { Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { startDeployment } from '../../src/deployments';
import { METRIC, createLogger, setupObservability } from '../../src/observability';
import type { Observability } from '../../src/observability';
import { resolveSpec } from '../../src/spec';
import { searchAttributes, statusQuery } from '../../src/workflows/messages';
import { createFakeDeps } from '../helpers/fakes';
import { createLocalEnv } from '../helpers/temporal';
import { settledReport } from '../workflow/harness';

jest.setTimeout(240_000);

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const m of (match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[m[1]!] = m[2]!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[4]);
  }
  return undefined;
}

const logLines: Record<string, unknown>[] = [];
let obs: Observability;
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  obs = await setupObservability({ host: '127.0.0.1', port: 0, logger: createLogger({ level: 'debug', destination: stream }) });
  // Before any connection: the Runtime's logger and SDK metrics exporter are process-wide.
  Runtime.install(obs.runtimeOptions);
  [env, bundle] = await Promise.all([
    createLocalEnv({ searchAttributes: Object.values(searchAttributes) }),
    bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
      workflowInterceptorModules: obs.workflowInterceptorModules,
      logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    }),
  ]);
});
afterAll(async () => {
  await env?.teardown();
  await obs?.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${obs.server.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

function spec(service: string) {
  return resolveSpec({
    service,
    namespace: 'production',
    release: 'v1.0.0',
    image: `ghcr.io/org/${service}:v1.0.0`,
    kubernetes: { deployment: service, container: 'app', stepPods: 0 },
    serviceUrl: `http://${service}.production:8080`,
    smoke: { suite: { steps: [{ name: 'Health endpoint', path: '/health' }] } },
    metrics: { prometheusUrl: 'http://127.0.0.1:9090' },
    watch: { duration: '10s', interval: '1s', reviewAfter: '1s' },
  });
}

test('after a deployment ran, /metrics serves its state, the SDK metrics and release events; health follows the worker', async () => {
  const world = createFakeDeps();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'observability',
    workflowBundle: bundle,
    // As the real worker: the watch activities start the watch evaluator with signal-with-start.
    activities: { ...createActivities(world.deps), ...createWatchActivities() },
    interceptors: { activity: obs.interceptors.activity },
    sinks: obs.sinks,
    shutdownGraceTime: '1s',
  });
  obs.attachWorker(worker);
  expect((await fetch(`${obs.server.url}/readyz`)).status).toBe(503);

  const s = await spec('user-management');
  let duringWatch = '';
  const report = await worker.runUntil(async () => {
    expect((await fetch(`${obs.server.url}/readyz`)).status).toBe(200);
    const handle = await startDeployment(env.client, s, { requestedBy: 'alice', taskQueue: 'observability' });
    // In the watch window: the deployment is "watching" and its last check is exported.
    for (let i = 0; i < 200; i++) {
      const status = await handle.query(statusQuery);
      if (status.phase === 'WATCH' && (status.watch?.checks ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    duringWatch = await scrape();
    return handle.result();
  });
  expect(report.outcome).toBe('SUCCEEDED');

  expect(sample(duringWatch, METRIC.deployments, { state: 'watching' })).toBe(1);
  // The window is fed by the watch evaluator: it hears from it on every change and at least every HEARTBEAT_MS.
  expect(sample(duringWatch, METRIC.watchInterval, { workflow_id: 'deploy-production-user-management' })).toBe(HEARTBEAT_MS / 1000);
  expect(sample(duringWatch, METRIC.watchLastCheck, { workflow_id: 'deploy-production-user-management' })).toBeGreaterThan(0);

  const after = await scrape();
  const labels = { service: 'user-management', namespace: 'production' };
  expect(sample(after, METRIC.deploymentsStarted, labels)).toBe(1);
  expect(sample(after, METRIC.deploymentsFinished, { ...labels, outcome: 'SUCCEEDED' })).toBe(1);
  expect(sample(after, METRIC.deploymentEvents, { ...labels, event: 'started', release: 'v1.0.0' })).toBe(1);
  expect(sample(after, METRIC.deploymentEvents, { ...labels, event: 'finished', release: 'v1.0.0' })).toBe(1);
  expect(sample(after, METRIC.deployments, { state: 'watching' })).toBe(0);
  expect(sample(after, METRIC.watchLastCheck, { workflow_id: 'deploy-production-user-management' })).toBeUndefined();
  expect(sample(after, METRIC.activityExecutions, { activity_type: 'evaluateAlertRules' })).toBeGreaterThanOrEqual(1);
  expect(sample(after, METRIC.activityExecutions, { activity_type: 'runSmokeSuite' })).toBe(1);
  // The Temporal SDK's own metrics, from the Runtime's exporter, in the same exposition.
  expect(sample(after, 'shipwatch_sdk_metrics_up')).toBe(1);
  expect(after).toMatch(/^temporal_workflow_completed_total\{.*\} [1-9]/m);
  expect(after).toMatch(/^temporal_activity_execution_latency_count\{.*\} [1-9]/m);

  // Worker stopped: no longer ready, no longer live.
  expect(worker.getState()).toBe('STOPPED');
  expect((await fetch(`${obs.server.url}/readyz`)).status).toBe(503);
  expect((await fetch(`${obs.server.url}/healthz`)).status).toBe(503);
  expect(sample(await scrape(), METRIC.workerRunning)).toBe(0);
});

test('a failed smoke suite rolls back: rollback counted by trigger, rolled_back event, JSON logs carry the IDs', async () => {
  const world = createFakeDeps({ smokeFails: true });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'observability-rollback',
    workflowBundle: bundle,
    activities: createActivities(world.deps),
    interceptors: { activity: obs.interceptors.activity },
    sinks: obs.sinks,
    shutdownGraceTime: '1s',
  });
  obs.attachWorker(worker);
  const s = await spec('billing');
  const report = await worker.runUntil(async () => {
    const handle = await startDeployment(env.client, s, { requestedBy: 'alice', taskQueue: 'observability-rollback' });
    return settledReport(handle);
  });
  expect(report.outcome).toBe('ROLLED_BACK');
  const text = await scrape();
  const labels = { service: 'billing', namespace: 'production' };
  expect(sample(text, METRIC.deploymentsFinished, { ...labels, outcome: 'ROLLED_BACK' })).toBe(1);
  expect(sample(text, METRIC.rollbacks, { ...labels, trigger: report.rollback.trigger! })).toBe(1);
  expect(report.rollback.trigger).toBe('smoke-failed');
  expect(sample(text, METRIC.deploymentEvents, { ...labels, event: 'rolled_back', release: 'v1.0.0' })).toBe(1);

  // Activity logs from the SDK went through pino as JSON, with the workflow and activity IDs.
  const activityLog = logLines.find((l) => l.workflowId === 'deploy-production-billing' && l.activityType === 'runSmokeSuite');
  expect(activityLog).toMatchObject({ service: 'shipwatch-worker', workflowId: 'deploy-production-billing' });
  expect(typeof activityLog?.activityId).toBe('string');
  expect(typeof activityLog?.workflowRunId).toBe('string');
  expect(logLines.some((l) => l.msg === 'deployment finished' && l.outcome === 'ROLLED_BACK' && l.rollbackTrigger === 'smoke-failed')).toBe(true);
});
