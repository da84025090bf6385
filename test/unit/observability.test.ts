/**
 * shipwatch's own observability without a Temporal server: the metrics registry fed by the activity
 * interceptor (MockActivityEnvironment), the /metrics endpoint merging SDK metrics from a real
 * upstream HTTP server, the health endpoints following the worker state, and JSON logs.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  METRIC,
  PinoTemporalLogger,
  ShipwatchMetrics,
  activityMetricsInterceptor,
  createLogger,
  startObservabilityServer,
} from '../../src/observability';
import type { DeploymentRef, ObservabilityServer } from '../../src/observability';

const ref: DeploymentRef = {
  workflowId: 'deploy-production-user-management',
  service: 'user-management',
  namespace: 'production',
  release: 'v1.0.0',
  watchIntervalMs: 30_000,
  continued: false,
};

/** The value of one sample in a Prometheus text exposition, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const m of (match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[m[1]!] = m[2]!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[4]);
  }
  return undefined;
}

describe('metrics fed by the activity interceptor', () => {
  test('counts attempts and failures by activity type, watch checks and release events', async () => {
    const metrics = new ShipwatchMetrics({ processMetrics: false });
    metrics.deploymentStarted(ref);
    const env = new MockActivityEnvironment(
      { activityType: 'evaluateAlertRules', workflowExecution: { workflowId: ref.workflowId, runId: 'r1' } },
      { interceptors: [activityMetricsInterceptor(metrics)] },
    );
    await env.run(async () => [{ rule: 'HighErrorRate', value: 0, breaching: false, outcome: 'ok' }]);
    const failing = new MockActivityEnvironment(
      { activityType: 'runSmokeSuite', workflowExecution: { workflowId: ref.workflowId, runId: 'r1' } },
      { interceptors: [activityMetricsInterceptor(metrics)] },
    );
    class SmokeUnreachable extends Error {
      override name = 'SmokeUnreachable';
    }
    await expect(failing.run(async () => Promise.reject(new SmokeUnreachable('connection refused')))).rejects.toThrow('connection refused');
    const rollout = new MockActivityEnvironment(
      { activityType: 'rolloutStep', workflowExecution: { workflowId: ref.workflowId, runId: 'r1' } },
      { interceptors: [activityMetricsInterceptor(metrics)] },
    );
    await rollout.run(async () => ({ complete: false }));
    await rollout.run(async () => ({ complete: true }));

    const text = await metrics.registry.metrics();
    expect(sample(text, METRIC.activityExecutions, { activity_type: 'evaluateAlertRules' })).toBe(1);
    expect(sample(text, METRIC.activityExecutions, { activity_type: 'runSmokeSuite' })).toBe(1);
    expect(sample(text, METRIC.activityFailures, { activity_type: 'runSmokeSuite', error: 'SmokeUnreachable' })).toBe(1);
    expect(sample(text, METRIC.activityFailures, { activity_type: 'evaluateAlertRules' })).toBeUndefined();
    expect(sample(text, `${METRIC.activityDuration}_count`, { activity_type: 'rolloutStep' })).toBe(2);
    expect(sample(text, METRIC.watchInterval, { workflow_id: ref.workflowId })).toBe(30);
    const lastCheck = sample(text, METRIC.watchLastCheck, { workflow_id: ref.workflowId })!;
    expect(Math.abs(lastCheck - Date.now() / 1000)).toBeLessThan(600);
    expect(sample(text, METRIC.deployments, { state: 'watching' })).toBe(1);
    expect(sample(text, METRIC.deployments, { state: 'rolling_out' })).toBe(0);
    expect(sample(text, METRIC.deploymentEvents, { event: 'started', release: 'v1.0.0' })).toBe(1);
    expect(sample(text, METRIC.deploymentEvents, { event: 'finished', release: 'v1.0.0' })).toBe(1);
  });

  test('a finished deployment counts its outcome and rollback trigger and drops its watch series', async () => {
    const metrics = new ShipwatchMetrics({ processMetrics: false });
    metrics.deploymentStarted(ref);
    metrics.watchCheckCompleted(ref.workflowId);
    metrics.deploymentEvent(ref.workflowId, 'rolled_back');
    metrics.deploymentFinished({ ...ref, outcome: 'ROLLED_BACK', rollbackTrigger: 'alert' });
    const text = await metrics.registry.metrics();
    expect(sample(text, METRIC.deploymentsFinished, { outcome: 'ROLLED_BACK', service: 'user-management' })).toBe(1);
    expect(sample(text, METRIC.rollbacks, { trigger: 'alert' })).toBe(1);
    expect(sample(text, METRIC.deploymentEvents, { event: 'rolled_back' })).toBe(1);
    expect(sample(text, METRIC.watchLastCheck, { workflow_id: ref.workflowId })).toBeUndefined();
    expect(sample(text, METRIC.deployments, { state: 'watching' })).toBe(0);
  });

  test('a sink called again for the same run (a retried workflow task) counts once; another run counts again', async () => {
    const metrics = new ShipwatchMetrics({ processMetrics: false });
    for (const runId of ['run-1', 'run-1', 'run-2']) {
      metrics.deploymentStarted(ref, runId);
      metrics.deploymentFinished({ ...ref, outcome: 'SUCCEEDED' }, runId);
    }
    const text = await metrics.registry.metrics();
    expect(sample(text, METRIC.deploymentsStarted, { service: 'user-management' })).toBe(2);
    expect(sample(text, METRIC.deploymentsFinished, { outcome: 'SUCCEEDED', service: 'user-management' })).toBe(2);
    expect(sample(text, METRIC.deploymentEvents, { event: 'started', release: 'v1.0.0' })).toBe(2);
  });
});

describe('observability endpoint', () => {
  let upstream: Server;
  let upstreamUrl: string;
  let endpoint: ObservabilityServer | undefined;
  beforeAll(async () => {
    // Stands in for the Temporal Runtime's Prometheus exporter: a real HTTP server with its text format.
    upstream = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('# TYPE temporal_worker_start_total counter\ntemporal_worker_start_total{task_queue="shipwatch"} 1\n');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/metrics`;
  });
  afterEach(async () => {
    await endpoint?.close();
    endpoint = undefined;
  });
  afterAll(async () => new Promise<void>((resolve) => upstream.close(() => resolve())));

  test('/metrics serves shipwatch metrics and the SDK metrics in one exposition', async () => {
    const metrics = new ShipwatchMetrics({ processMetrics: true });
    metrics.deploymentStarted(ref);
    endpoint = await startObservabilityServer({ port: 0, registry: metrics.registry, sdkMetricsUrl: upstreamUrl });
    const res = await fetch(`${endpoint.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(sample(text, METRIC.deploymentsStarted, { service: 'user-management' })).toBe(1);
    expect(sample(text, 'temporal_worker_start_total', { task_queue: 'shipwatch' })).toBe(1);
    expect(sample(text, 'shipwatch_sdk_metrics_up')).toBe(1);
    expect(sample(text, 'shipwatch_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  test('an unreachable SDK exporter is reported, and own metrics are still served', async () => {
    const metrics = new ShipwatchMetrics({ processMetrics: false });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    endpoint = await startObservabilityServer({ port: 0, registry: metrics.registry, sdkMetricsUrl: `http://127.0.0.1:${port}/metrics` });
    const text = await (await fetch(`${endpoint.url}/metrics`)).text();
    expect(sample(text, 'shipwatch_sdk_metrics_up')).toBe(0);
    expect(sample(text, METRIC.deployments, { state: 'rolling_out' })).toBe(0);
  });

  test('/healthz and /readyz follow the worker state', async () => {
    let state = { live: true, ready: false, detail: 'STARTING' };
    endpoint = await startObservabilityServer({ port: 0, registry: new ShipwatchMetrics({ processMetrics: false }).registry, health: () => state });
    expect((await fetch(`${endpoint.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${endpoint.url}/readyz`)).status).toBe(503);
    state = { live: true, ready: true, detail: 'RUNNING' };
    const ready = await fetch(`${endpoint.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', worker: 'RUNNING' });
    state = { live: false, ready: false, detail: 'FAILED' };
    expect((await fetch(`${endpoint.url}/healthz`)).status).toBe(503);
    expect((await fetch(`${endpoint.url}/nothing`)).status).toBe(404);
  });
});

describe('structured logs', () => {
  test('the Temporal logger adapter writes JSON lines with the workflow and activity IDs', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const logger = createLogger({ level: 'debug', destination: stream });
    const temporal = new PinoTemporalLogger(logger);
    temporal.info('Activity completed', {
      workflowId: ref.workflowId,
      runId: 'run-1',
      activityId: '7',
      activityType: 'rolloutStep',
      durationMs: 12n,
    });
    temporal.debug('quiet detail');
    temporal.error('Activity failed', { activityId: '8', error: new Error('boom') });
    await new Promise((r) => setImmediate(r));
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toMatchObject({
      level: 'info',
      msg: 'Activity completed',
      workflowId: ref.workflowId,
      runId: 'run-1',
      activityId: '7',
      activityType: 'rolloutStep',
      durationMs: '12',
      service: 'shipwatch-worker',
    });
    expect(typeof parsed[0]!.time).toBe('string');
    expect(parsed[1]).toMatchObject({ level: 'debug', msg: 'quiet detail' });
    expect(parsed[2]).toMatchObject({ level: 'error', activityId: '8', err: { message: 'boom' } });
  });
});
