/**
 * Deployment tracing against the real trace backend (Jaeger v2 from tools/build-jaeger.sh): real
 * deployments (the deployment workflow with fake ports) run on a Temporal dev server, on a worker
 * wired by setupObservability with tracing on; then Jaeger's query API is asked for the
 * deployment's trace: the run's span, one span per phase under it, the activities under their
 * phase, the rollback as its own phase span. The sample service's request spans arrive too.
 */
import { PassThrough } from 'node:stream';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { startDeployment } from '../../src/deployments';
import { WORKFLOW_INTERCEPTOR_MODULES, createLogger, setupObservability } from '../../src/observability';
import type { Observability } from '../../src/observability';
import { resolveSpec } from '../../src/spec';
import { activityTraceId, setupTracing, traceReference, tracingSettings } from '../../src/tracing';
import { TRACE_NAMES } from '../../src/tracing/workflow-interceptors';
import { searchAttributes, statusQuery } from '../../src/workflows/messages';
import { startService } from '../../examples/user-management/src/server';
import { startJaeger } from '../../tools/local/jaeger';
import { freePort } from '../../tools/local/ports';
import type { LocalJaeger, TraceSpan } from '../../tools/local/jaeger';
import { createFakeDeps } from '../helpers/fakes';
import { createLocalEnv } from '../helpers/temporal';
import { settledReport } from '../workflow/harness';

jest.setTimeout(240_000);

const logLines: { msg?: string; tracing?: boolean }[] = [];
let jaeger: LocalJaeger;
let obs: Observability;
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  jaeger = await startJaeger();
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { msg?: string });
  });
  obs = await setupObservability({
    host: '127.0.0.1',
    port: 0,
    sdkMetricsPort: false,
    logger: createLogger({ level: 'info', destination: stream }),
    tracing: tracingSettings(jaeger.env('shipwatch')),
  });
  [env, bundle] = await Promise.all([
    createLocalEnv({ searchAttributes: Object.values(searchAttributes) }),
    bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/tracing-workflows'),
      workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
      logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    }),
  ]);
});
afterAll(async () => {
  await env?.teardown();
  await obs?.close();
  await jaeger?.stop();
});

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
    watch: { duration: '4s', interval: '1s', reviewAfter: '0s' },
  });
}

/**
 * One task queue for every deployment of this file: the watch evaluator the first one starts runs
 * on it and serves the later ones' windows (a queue without a worker would leave them blind).
 */
const TASK_QUEUE = 'tracing';

async function deploy(service: string, world = createFakeDeps(), options: { maxCachedWorkflows?: number; queries?: boolean } = {}) {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    workflowBundle: bundle,
    activities: createActivities(world.deps),
    interceptors: { activity: obs.interceptors.activity },
    sinks: obs.sinks,
    shutdownGraceTime: '1s',
  });
  const s = await spec(service);
  const report = await worker.runUntil(async () => {
    const handle = await startDeployment(env.client, s, { requestedBy: 'alice', taskQueue: TASK_QUEUE });
    // Status queries while it runs, as `shipwatch status` makes them.
    for (let i = 0; options.queries && i < 200 && (await handle.query(statusQuery)).phase !== 'WATCH'; i++) await new Promise((r) => setTimeout(r, 100));
    return settledReport(handle);
  });
  await obs.tracing.flush();
  return report;
}

/** The deployment's trace, found by its run span's service attribute, once `complete` accepts it. */
async function deploymentTrace(service: string, complete: (spans: TraceSpan[]) => boolean): Promise<TraceSpan[]> {
  const runs = await jaeger.waitFor(
    () => jaeger.spans('shipwatch', { operation: 'RunWorkflow:deploymentWorkflow' }),
    (spans) => spans.some((s) => s.name === 'RunWorkflow:deploymentWorkflow' && s.attributes[TRACE_NAMES.attr.service] === service),
  );
  const traceId = runs.find((s) => s.name === 'RunWorkflow:deploymentWorkflow' && s.attributes[TRACE_NAMES.attr.service] === service)!.traceId;
  return jaeger.waitFor(() => jaeger.trace(traceId), complete);
}

const named = (spans: TraceSpan[], name: string): TraceSpan[] => spans.filter((s) => s.name === name);
const one = (spans: TraceSpan[], name: string): TraceSpan => {
  const found = named(spans, name);
  if (found.length !== 1) throw new Error(`expected one span "${name}", found ${found.length} among: ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
};

/** The deployment's two run spans: the first (the trace's root) and the watch's, under the first's ContinueAsNew. */
const runsOf = (spans: TraceSpan[]): [TraceSpan, TraceSpan] => {
  const runs = named(spans, 'RunWorkflow:deploymentWorkflow');
  const first = runs.filter((s) => s.parentSpanId === undefined);
  if (runs.length !== 2 || first.length !== 1) throw new Error(`expected two run spans, one of them the root; found ${runs.map((s) => `${s.spanId} (parent ${s.parentSpanId ?? 'none'})`).join(', ')}`);
  const second = runs.find((s) => s !== first[0])!;
  expect(spans.find((s) => s.spanId === second.parentSpanId)?.name).toBe('ContinueAsNew:deploymentWorkflow');
  return [first[0]!, second];
};

test('the worker logs at start that tracing is on and where spans go', () => {
  const line = logLines.find((l) => l.msg?.startsWith('tracing on'));
  expect(line).toMatchObject({ tracing: true });
  expect(line?.msg).toContain(`${jaeger.otlpHttpUrl}/v1/traces`);
});

test('a deployment is one trace: its two runs (the watch continues the first), a span per phase under its run, each activity under its phase', async () => {
  const report = await deploy('user-management');
  expect(report.outcome).toBe('SUCCEEDED');
  const spans = await deploymentTrace('user-management', (s) => named(s, 'RunActivity:runSmokeSuite').length === 1 && named(s, 'Phase:DONE').length === 1 && named(s, 'RunWorkflow:deploymentWorkflow').length === 2);

  // Two runs, one trace: the watch has a run of its own (continue-as-new, patch watch-fresh-run);
  // the second run's span is the child of the first run's ContinueAsNew.
  const [run, watchRun] = runsOf(spans);
  expect(run.attributes).toMatchObject({
    [TRACE_NAMES.attr.service]: 'user-management',
    [TRACE_NAMES.attr.namespace]: 'production',
    [TRACE_NAMES.attr.release]: 'v1.0.0',
    [TRACE_NAMES.attr.workflowId]: 'deploy-production-user-management',
  });
  expect(watchRun.attributes).toMatchObject({ [TRACE_NAMES.attr.service]: 'user-management', [TRACE_NAMES.attr.outcome]: 'SUCCEEDED', [TRACE_NAMES.attr.workflowId]: 'deploy-production-user-management' });
  expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([run.traceId]));

  const phases = spans.filter((s) => s.name.startsWith(TRACE_NAMES.phasePrefix)).sort((a, b) => a.startTime - b.startTime);
  const names = phases.map((p) => p.name);
  expect(names[0]).toBe('Phase:PRECHECK');
  expect(names.slice(-2)).toEqual(['Phase:WATCH', 'Phase:DONE']);
  expect(names).toEqual(expect.arrayContaining(['Phase:ROLLOUT', 'Phase:VERIFY_PODS', 'Phase:SMOKE', 'Phase:REPORT']));
  expect(names).not.toContain('Phase:ROLLBACK');
  // Each phase once in its run: the forward path in the first, the watch (again) and the end in the second.
  const inRun = (r: TraceSpan) => phases.filter((p) => p.parentSpanId === r.spanId).map((p) => p.name);
  expect(inRun(run)).toEqual(names.filter((n) => n !== 'Phase:DONE').slice(0, -1));
  expect(inRun(watchRun)).toEqual(['Phase:WATCH', 'Phase:DONE']);
  expect(inRun(run).length + inRun(watchRun).length).toBe(phases.length);

  // The smoke suite: scheduled in the SMOKE phase, run on the worker as the child of that schedule.
  const startSmoke = one(spans, 'StartActivity:runSmokeSuite');
  expect(startSmoke.parentSpanId).toBe(one(spans, 'Phase:SMOKE').spanId);
  const runSmoke = one(spans, 'RunActivity:runSmokeSuite');
  expect(runSmoke.parentSpanId).toBe(startSmoke.spanId);
  expect(runSmoke.service).toBe('shipwatch');
  // Every activity the deployment scheduled is under one of its phases, none straight under the run.
  const phaseIds = new Set(phases.map((p) => p.spanId));
  const starts = spans.filter((s) => s.name.startsWith('StartActivity:'));
  expect(starts.filter((s) => phaseIds.has(s.parentSpanId ?? '')).length).toBeGreaterThan(5);
  expect(starts.filter((s) => s.parentSpanId === run.spanId || s.parentSpanId === watchRun.spanId).map((s) => s.name)).toEqual([]);
  // Each activity attempt the worker ran is the child of its schedule, in the same trace.
  const startIds = new Set(starts.map((s) => s.spanId));
  const runs = spans.filter((s) => s.name.startsWith('RunActivity:'));
  expect(runs.length).toBeGreaterThan(5);
  expect(runs.filter((s) => !startIds.has(s.parentSpanId ?? '')).map((s) => s.name)).toEqual([]);
});

test('a rollback is its own span: Phase:ROLLBACK, with the rollback activity under it', async () => {
  const report = await deploy('billing', createFakeDeps({ smokeFails: true }));
  expect(report.outcome).toBe('ROLLED_BACK');
  const spans = await deploymentTrace('billing', (s) => named(s, 'Phase:ROLLBACK').length === 1 && named(s, 'RunWorkflow:deploymentWorkflow').length === 1);
  const run = one(spans, 'RunWorkflow:deploymentWorkflow');
  expect(run.attributes[TRACE_NAMES.attr.outcome]).toBe('ROLLED_BACK');
  const rollback = one(spans, 'Phase:ROLLBACK');
  expect(rollback.parentSpanId).toBe(run.spanId);
  expect(rollback.startTime).toBeGreaterThanOrEqual(one(spans, 'Phase:SMOKE').startTime);
  const startRollback = one(spans, 'StartActivity:rollbackDeployment');
  expect(startRollback.parentSpanId).toBe(rollback.spanId);
  await jaeger.waitFor(() => jaeger.trace(run.traceId), (s) => named(s, 'RunActivity:rollbackDeployment').some((r) => r.parentSpanId === startRollback.spanId));
  expect(named(spans, 'Phase:WATCH')).toEqual([]);
});

test('with no workflow cache (every task replays the history) and status queries, the trace is whole: each span once, every parent in it', async () => {
  // Each span once also covers a workflow task run twice live (its completion rejected because a
  // signal arrived meanwhile): the worker drops the repeated spans (onlyOnce in src/tracing/worker.ts).
  const report = await deploy('inventory', createFakeDeps(), { maxCachedWorkflows: 0, queries: true });
  expect(report.outcome).toBe('SUCCEEDED');
  const spans = await deploymentTrace('inventory', (s) => named(s, 'Phase:DONE').length === 1 && named(s, 'RunActivity:runSmokeSuite').length === 1 && named(s, 'RunWorkflow:deploymentWorkflow').length === 2);
  const ids = spans.map((s) => s.spanId);
  expect(spans.filter((s, i) => ids.indexOf(s.spanId) !== i).map((s) => spans.filter((x) => x.spanId === s.spanId).map((x) => `${x.name}@${x.startTime}/${x.parentSpanId ?? '-'}`).join(' = '))).toEqual([]);
  const [run] = runsOf(spans);
  // A phase span is created again on every replay: it must get the ID its exported children point to.
  expect(spans.filter((s) => s !== run && !ids.includes(s.parentSpanId ?? '')).map((s) => `${s.name} (parent ${s.parentSpanId ?? 'none'})`)).toEqual([]);
  expect(one(spans, 'StartActivity:runSmokeSuite').parentSpanId).toBe(one(spans, 'Phase:SMOKE').spanId);
  // The watch evaluator, shared by every open window, runs in a trace of its own.
  // (started by the first deployment of this file; a later one finds it running)
  expect(named(spans, 'StartChildWorkflow:watchEvaluatorWorkflow').length).toBeLessThanOrEqual(1);
  expect(named(spans, 'RunWorkflow:watchEvaluatorWorkflow')).toEqual([]);
  // Queries are not traced (they run live only; see DeploymentOtelInbound).
  expect(await jaeger.spans('shipwatch', { operation: 'HandleQuery:status' })).toEqual([]);
});

test('deploymentTraceId() in a workflow and activityTraceId() in its activity are the ID of the trace the backend holds', async () => {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'tracing-id',
    workflowBundle: bundle,
    activities: { traceIdActivity: async () => activityTraceId() },
    interceptors: { activity: obs.interceptors.activity },
    sinks: obs.sinks,
    shutdownGraceTime: '1s',
  });
  const ids = (await worker.runUntil(env.client.workflow.execute('traceIdWorkflow', { taskQueue: 'tracing-id', workflowId: 'trace-id-1', args: [] }))) as {
    workflow?: string;
    activity?: string;
  };
  expect(ids.workflow).toMatch(/^[0-9a-f]{32}$/);
  const traceId = ids.workflow!;
  expect(ids.activity).toBe(traceId);
  await obs.tracing.flush();
  const spans = await jaeger.waitFor(() => jaeger.trace(traceId), (s) => s.length > 0);
  expect(one(spans, 'RunWorkflow:traceIdWorkflow').traceId).toBe(traceId);
  // What a report shows for it: the ID and the link to it in the trace backend, which answers.
  const reference = traceReference(traceId, obs.tracing.settings);
  expect(reference).toEqual({ traceId, url: `${jaeger.queryUrl}/api/traces/${traceId}` });
  const linked = (await (await fetch(reference!.url!)).json()) as { data: { traceID: string }[] };
  expect(linked.data.map((t) => t.traceID)).toEqual([traceId]);
});

test("the sample service's request spans arrive, as children of the caller's traceparent", async () => {
  // What the rendered tracing ConfigMap sets beside the endpoint (read when the service starts).
  process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment=production';
  const service = await startService({
    port: 0,
    host: '127.0.0.1',
    version: 'v2.0.0',
    // No database: /health answers 503, which is a request span like any other.
    databaseUrl: 'postgres://nobody@127.0.0.1:1/none',
    jwtSecret: 's',
    faults: { errorRate: 0, latencyMs: 0 },
    tracing: { tracesUrl: `${jaeger.otlpHttpUrl}/v1/traces`, serviceName: 'user-management' },
  }).finally(() => delete process.env.OTEL_RESOURCE_ATTRIBUTES);
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parentId = '00f067aa0ba902b7';
  let status: number;
  try {
    const res = await fetch(`${service.url}/health`, { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
    status = res.status;
    await fetch(`${service.url}/users/no-such-user`);
    await fetch(`${service.url}/metrics`);
  } finally {
    await service.close();
  }
  const spans = await jaeger.waitFor(() => jaeger.trace(traceId), (s) => s.length > 0);
  const raw = (await (await fetch(`${jaeger.queryUrl}/api/traces/${traceId}`)).json()) as { data: { processes: Record<string, { tags: { key: string; value: unknown }[] }> }[] };
  const resource = Object.fromEntries(Object.values(raw.data[0]!.processes)[0]!.tags.map((t) => [t.key, t.value]));
  expect(resource).toMatchObject({ 'service.version': 'v2.0.0', 'deployment.environment': 'production' });
  const health = one(spans, 'GET /health');
  expect(health).toMatchObject({ service: 'user-management', parentSpanId: parentId });
  expect(health.attributes).toMatchObject({ 'http.route': '/health', 'http.response.status_code': status, 'span.kind': 'server' });
  // A request without a traceparent starts its own trace; /metrics scrapes are not traced.
  const all = await jaeger.waitFor(() => jaeger.spans('user-management'), (s) => s.some((x) => x.attributes['url.path'] === '/users/no-such-user'));
  expect(all.filter((s) => s.attributes['url.path'] === '/metrics')).toEqual([]);
});

test('spans that cannot be exported (no backend at the endpoint) are reported in the log, not dropped silently', async () => {
  const warnings: string[] = [];
  const port = await freePort(); // nothing listens there
  const tracing = setupTracing(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }), { warn: (m) => warnings.push(m) });
  try {
    // One activity attempt through the worker's tracing interceptor: a RunActivity span to export.
    const ctx = { info: { activityType: 'probe', activityId: '1', inWorkflow: false } } as unknown as Parameters<(typeof tracing.activityInterceptors)[number]>[0];
    const { inbound } = tracing.activityInterceptors[0]!(ctx);
    await inbound!.execute!({ args: [], headers: {} }, async () => 'done');
    // The batch processor's own export (a second later) fails: OpenTelemetry reports it through diag.
    for (let i = 0; i < 200 && warnings.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(warnings.join('\n')).toMatch(/^tracing: .*ECONNREFUSED/m);
    // An explicit flush (worker shutdown) of a span that cannot be sent says so too, and does not throw.
    warnings.length = 0;
    await inbound!.execute!({ args: [], headers: {} }, async () => 'done');
    await tracing.flush();
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^tracing: sending the buffered spans to http://127.0.0.1:${port}/v1/traces failed: .*ECONNREFUSED`))]);
  } finally {
    await tracing.shutdown().catch(() => undefined);
  }
});

test("after the traced workflows above ran in this process, the process's own clock still runs", async () => {
  // This file imports the tracing workflow module (TRACE_NAMES) outside any sandbox. Its guard of
  // the SDK's sandbox clock once patched this process's performance.now() at that import and froze
  // it for every later test in the process (the smoke suite's latencies then read 0 ms).
  const before = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  expect(performance.now() - before).toBeGreaterThanOrEqual(40);
});
