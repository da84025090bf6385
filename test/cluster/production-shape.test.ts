/**
 * The production shape, run for real: the Temporal server built from its Go module on PostgreSQL
 * (not the dev server), two shipwatch worker processes (the compiled worker, as a deployment runs
 * it), the kwok cluster with the sample service as real processes, Prometheus, and the `shipwatch`
 * CLI. One stack for the file. Two deployments run at once on the same two workers:
 * user-management in `production` and a second Deployment of it in `staging` (its own pods, database
 * and scrape job). Worker A runs the rollout alone and is SIGKILLed mid-rollout; worker B, started
 * meanwhile, takes the rollout over after the heartbeat timeout; during the watch window the
 * Temporal server process is SIGKILLed and started again; both deployments must complete with
 * every step done once. Figures (takeover, server start) go to test-artifacts/cluster-figures.json.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection, WorkflowClient } from '@temporalio/client';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { prometheusRulesFile } from '../../src/monitoring';
import { defaultAlertRules, defaultMetricChecks } from '../../src/spec/defaults';
import { parseDuration } from '../../src/spec/duration';
import { startPodRunner } from '../../tools/local/pod-runner';
import type { PodRunner } from '../../tools/local/pod-runner';
import { deploymentManifest, REPO, startStack } from '../../tools/local/stack';
import type { LocalStack, WorkerProcess } from '../../tools/local/stack';
import { DYNAMIC_CONFIG, startTemporalServer } from '../../tools/local/temporal-server';
import type { TemporalServer } from '../../tools/local/temporal-server';
import { ensureTool } from '../../tools/local/tools';
import { shipwatch, timeline, timelineProblems, waitForStatus } from '../e2e/helpers';

jest.setTimeout(900_000);

const run = promisify(execFile);
const PROD_ID = 'deploy-production-user-management';
const STAGING_ID = 'deploy-staging-user-management';
const STAGING_JOB = 'user-management-staging';
const RELEASE = 'v1.1.0';
const CLUSTER = 'production-shape';
/** Requests per second to each Deployment: enough for rates, little load on a shared 2-core machine. */
const TRAFFIC = 3;

let stack: LocalStack;
let server: TemporalServer;
let staging: PodRunner;
let stateDir: string;
let env: Record<string, string>;
let workerEnv: Record<string, string>;
const figures: Record<string, number | string> = {};
const log = (line: string) => process.stderr.write(`[cluster] ${line}\n`);

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const toStaging = (text: string): string => text.replace(/namespace: production/g, 'namespace: staging');

/** A second Deployment of the sample service in `staging`: its own database, pods, Service proxy and scrape job. */
async function startStaging(): Promise<PodRunner> {
  await stack.kubectl(['create', 'namespace', 'staging']);
  await stack.postgres.createDatabase('users_staging');
  const databaseUrl = stack.postgres.url('users_staging');
  await run(process.execPath, [join(REPO, 'dist', 'examples', 'user-management', 'src', 'migrate.js'), 'users', '0002'], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  const secret = parseYaml(await stack.kubectl(['-n', 'production', 'get', 'secret', 'user-management', '-o', 'yaml'])) as {
    data: Record<string, string>;
  };
  const data = { ...secret.data, 'database-url': Buffer.from(databaseUrl).toString('base64') };
  await stack.kubectl(['apply', '-f', '-'], stringifyYaml({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'user-management', namespace: 'staging' }, data }));
  await stack.kubectl(['apply', '-f', '-'], toStaging(readFileSync(join(REPO, 'examples', 'user-management', 'k8s', 'service.yaml'), 'utf8')));
  await stack.kubectl(['apply', '-f', '-'], toStaging(deploymentManifest('v1.0.0')));
  await stack.kubectl(['-n', 'staging', 'rollout', 'status', 'deployment/user-management', '--timeout=120s']);
  // The pods' log files go where kwok serves them from (the log scan after the rollout reads them).
  const clusterEnv = (await run('bash', [join(REPO, 'tools', 'cluster.sh'), 'env', CLUSTER])).stdout;
  const logDir = /^POD_LOGS_DIR=(.+)$/m.exec(clusterEnv)?.[1];
  if (!logDir) throw new Error(`tools/cluster.sh env ${CLUSTER} printed no POD_LOGS_DIR:\n${clusterEnv}`);
  const runner = await startPodRunner({
    logDir,
    kubeconfigPath: stack.kubeconfig,
    namespace: 'staging',
    deployment: 'user-management',
    selector: 'app=user-management',
    container: 'app',
    cwd: REPO,
    jobs: true,
  });
  await waitFor(async () => runner.pods().filter((p) => p.ready).length >= 3, 'the staging pods');
  await stack.prometheus.setTargets([
    { job: 'user-management', targets: [new URL(stack.runner.metricsUrl).host] },
    { job: STAGING_JOB, targets: [new URL(runner.metricsUrl).host] },
  ]);
  const traffic = setInterval(() => void fetch(`${runner.serviceUrl}/health`).then((r) => r.arrayBuffer()).catch(() => undefined), 1000 / TRAFFIC);
  afterAllStops.push(async () => clearInterval(traffic));
  const query = encodeURIComponent(`sum(rate(http_request_duration_seconds_count{job="${STAGING_JOB}"}[30s]))`);
  await waitFor(
    () =>
      fetch(`${stack.prometheus.url}/api/v1/query?query=${query}`)
        .then((r) => r.json() as Promise<{ data?: { result?: unknown[] } }>)
        .then((b) => (b.data?.result?.length ?? 0) > 0)
        .catch(() => false),
    'a staging traffic baseline in Prometheus',
  );
  workerEnv.USER_MANAGEMENT_STAGING_DATABASE_URL = databaseUrl;
  return runner;
}

const STAGING_RULE_GROUP = 'user-management-staging';

/**
 * Adds staging's alert rules (as `shipwatch monitoring render` writes them) to the rules file the
 * stack's Prometheus loads, in a group of their own, so staging's "Alerts configured" check finds them.
 */
function installStagingRules(rules: { name: string; expr: string; for: string }[]): void {
  const rulesFile = join(stateDir, 'prometheus-alerts.yml');
  const installed = parseYaml(readFileSync(rulesFile, 'utf8')) as { groups: { name: string }[] };
  const resolved = rules.map((r) => ({ ...r, forMs: parseDuration(r.for) ?? 0 }));
  const [group] = prometheusRulesFile({ service: 'user-management', namespace: 'staging', watch: { intervalMs: 3_000, rules: resolved as never } }).groups;
  installed.groups = [...installed.groups.filter((g) => g.name !== STAGING_RULE_GROUP), { ...group!, name: STAGING_RULE_GROUP }];
  writeFileSync(rulesFile, stringifyYaml(installed, { lineWidth: 0 }));
}

/** The sample spec pointed at the staging Deployment, its Service proxy, database and scrape job. */
function stagingSpec(path: string): string {
  const doc = parseYaml(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
  const target = { service: 'user-management', namespace: 'staging', deployment: 'user-management', selector: `job="${STAGING_JOB}"`, window: '30s' };
  const manifest = join(stateDir, 'deployment-staging.yaml');
  writeFileSync(manifest, toStaging(deploymentManifest(RELEASE)));
  // Staging has no public entry point or uptime probe of its own: those launch checks name
  // production's Ingress and probe job, so they are production's alone.
  const { entryPoint: _entryPoint, uptime: _uptime, ...rest } = doc;
  const out = {
    ...rest,
    namespace: 'staging',
    serviceUrl: staging.serviceUrl,
    database: { ...doc.database, url: 'env:USER_MANAGEMENT_STAGING_DATABASE_URL', backup: { ...(doc.database!.backup as object), store: join(stateDir, 'backups-staging') } },
    migrations: { ...doc.migrations, env: { DATABASE_URL: 'env:USER_MANAGEMENT_STAGING_DATABASE_URL' } },
    kubernetes: { ...doc.kubernetes, manifest: manifest },
    metrics: { ...doc.metrics, selector: target.selector, checks: metricChecks(target) },
    watch: { ...doc.watch, rules: defaultAlertRules(target).map(({ forMs: _forMs, ...rule }) => ({ ...rule, for: '10s' })) },
    report: { dir: join(stateDir, 'reports-staging') },
  };
  const file = join(stateDir, 'deploy-staging.yaml');
  writeFileSync(file, stringifyYaml(out));
  installStagingRules(out.watch.rules);
  return file;
}

const afterAllStops: (() => Promise<unknown>)[] = [];

/** Polls the server's view of the workflow until a rolloutStep activity is running; who runs it. */
async function waitForRolloutStep(id: string): Promise<{ attempt: number; identity: string }> {
  const connection = await Connection.connect({ address: server.address });
  try {
    const handle = new WorkflowClient({ connection }).getHandle(id);
    const deadline = Date.now() + 300_000;
    for (;;) {
      const { raw, status } = await handle.describe();
      const step = raw.pendingActivities?.find((a) => a.activityType?.name === 'rolloutStep' && Number(a.state) === 2 /* PENDING_ACTIVITY_STATE_STARTED */);
      if (step) return { attempt: step.attempt ?? 0, identity: step.lastWorkerIdentity ?? '' };
      if (status.name !== 'RUNNING') throw new Error(`${id} ended before a rollout step was seen running`);
      if (Date.now() > deadline) throw new Error(`no rolloutStep of ${id} seen running within 300s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await connection.close();
  }
}

/**
 * The default metric checks with a noise floor on latency and CPU: up to six test processes share
 * two cores here, so a 50 ms swing in p95 is load, not a regression. This tier is about durability;
 * the checks themselves are tested in the unit and e2e tiers.
 */
function metricChecks(target: Parameters<typeof defaultMetricChecks>[0]): Record<string, unknown>[] {
  return defaultMetricChecks(target).map((c) => ({
    name: c.name,
    query: c.query,
    unit: c.unit,
    ...(c.maxIncrease !== undefined ? { maxIncrease: c.maxIncrease } : {}),
    ...(c.maxIncreaseRatio !== undefined ? { maxIncreaseRatio: c.maxIncreaseRatio } : {}),
    ...(c.max !== undefined ? { max: c.max } : {}),
    ...(c.unit === 'seconds' ? { minIncrease: 0.25 } : /CPU/.test(c.name) ? { minIncrease: 0.25 } : c.minIncrease !== undefined ? { minIncrease: c.minIncrease } : {}),
  }));
}

/** A spec file for one of the two Deployments, with the noise floor above. */
function spec(namespace: 'production' | 'staging'): string {
  const path = stack.writeSpec({ release: RELEASE, stepWindow: namespace === 'production' ? '6s' : '4s', watch: '40s', interval: '3s' });
  if (namespace === 'production') {
    const doc = parseYaml(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
    const target = { service: 'user-management', namespace, deployment: 'user-management', selector: 'job="user-management"', window: '30s' };
    // Its own file: writeSpec names files by release, and staging's spec starts from the same one.
    const file = join(stateDir, 'deploy-production.yaml');
    writeFileSync(file, stringifyYaml({ ...doc, metrics: { ...doc.metrics, checks: metricChecks(target) } }));
    return file;
  }
  return stagingSpec(path);
}

beforeAll(async () => {
  const t0 = Date.now();
  ensureTool('temporal-server');
  figures.serverToolReadyMs = Date.now() - t0;
  stateDir = mkdtempSync(join(tmpdir(), 'shipwatch-cluster-'));
  stack = await startStack({ name: CLUSTER, stateDir, log, trafficPerSecond: TRAFFIC });
  // The stack starts a dev server; this tier runs everything on the PostgreSQL one instead.
  await stack.temporal.stop();
  log('starting the Temporal server on PostgreSQL…');
  const s0 = Date.now();
  server = await startTemporalServer({ postgres: stack.postgres, logFile: join(stateDir, 'temporal-server.log') });
  figures.serverFirstStartMs = server.startMs;
  figures.serverUsableMs = Date.now() - s0; // schema created and updated, namespace and search attributes registered
  workerEnv = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default' };
  env = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default', SHIPWATCH_USER: 'cluster-tester' };
  log('starting the staging Deployment…');
  staging = await startStaging();
  afterAllStops.push(() => staging.stop());
});

afterAll(async () => {
  for (const stop of afterAllStops.reverse()) await stop().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await stack?.stop();
  const artifacts = join(REPO, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, 'cluster-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
  log(`figures: ${JSON.stringify(figures)}`);
});

test('the server validates the repository’s dynamic config and answers on its loopback port', async () => {
  const bin = ensureTool('temporal-server');
  const { stdout } = await run(bin, ['validate-dynamic-config', DYNAMIC_CONFIG]);
  expect(stdout).toContain('shipwatch.yaml');
  expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
});

test('two deployments at once on two workers: worker A killed mid-rollout, B takes over; the server killed during the watch; both complete with every step once', async () => {
  const workerA = await stack.startWorker(workerEnv);
  const specs = [spec('production'), spec('staging')];
  // Both deployments' pre-deploy checks compare their rules with what Prometheus evaluates.
  await stack.prometheus.reload();
  await stack.prometheus.waitForRuleGroups(['user-management', STAGING_RULE_GROUP]);
  const started = await Promise.all(specs.map((file) => shipwatch(['deploy', '-f', file], env)));
  expect(started.map((r) => [r.code, r.stderr])).toEqual([
    [0, ''],
    [0, ''],
  ]);

  // Kill A while it runs a rollout step: the pending activity, as the server sees it, is a
  // rolloutStep started by A.
  const identityA = `${workerA.child.pid}@${hostname()}`;
  const inFlight = await waitForRolloutStep(PROD_ID);
  expect(inFlight).toEqual({ attempt: 1, identity: identityA });
  const killedAt = Date.now();
  await workerA.stop('SIGKILL');
  log('worker A killed mid-rollout');
  // B starts after the kill: until then no other worker could have taken the step.
  const workerB: WorkerProcess = await stack.startWorker(workerEnv);
  const identityB = `${workerB.child.pid}@${hostname()}`;

  const watching = await waitForStatus(PROD_ID, env, (s) => s.phase === 'WATCH' || s.outcome !== 'IN_PROGRESS', 'the production watch window');
  expect([watching.phase, watching.outcome, watching.outcome === 'IN_PROGRESS' ? '' : watching.lastEvent?.title]).toEqual(['WATCH', 'IN_PROGRESS', '']);
  const s0 = Date.now();
  await server.kill('SIGKILL');
  log('Temporal server killed during the watch window');
  await server.start();
  figures.serverRestartMs = server.startMs;
  figures.serverDownMs = Date.now() - s0;

  const ended = await Promise.all([PROD_ID, STAGING_ID].map((id) => waitForStatus(id, env, (s) => s.outcome !== 'IN_PROGRESS', `${id} to finish`, 600_000)));
  for (const [i, id] of [PROD_ID, STAGING_ID].entries()) {
    if (ended[i]!.outcome !== 'SUCCEEDED') throw new Error(`${id} ended ${ended[i]!.outcome}; its timeline:\n${(await timeline(id, env)).map((e) => `${e.title} (${e.detail ?? ''})`).join('\n')}`);
  }
  expect(ended.map((s) => s.outcome)).toEqual(['SUCCEEDED', 'SUCCEEDED']);

  for (const [id, namespace, runner] of [
    [PROD_ID, 'production', stack.runner],
    [STAGING_ID, 'staging', staging],
  ] as const) {
    const events = await timeline(id, env);
    expect(timelineProblems(events)).toEqual([]);
    expect(events.filter((e) => /^Health check passed – Pod \d/.test(e.title))).toHaveLength(3);
    const jobs = JSON.parse(await stack.kubectl(['-n', namespace, 'get', 'jobs', '-l', 'shipwatch.dev/migration', '-o', 'json'])) as { items: unknown[] };
    expect(jobs.items).toHaveLength(1);
    const sets = JSON.parse(await stack.kubectl(['-n', namespace, 'get', 'replicasets', '-o', 'json'])) as {
      items: { spec: { template: { spec: { containers: { image: string }[] } } } }[];
    };
    expect(sets.items.filter((rs) => rs.spec.template.spec.containers[0]!.image.endsWith(`:${RELEASE}`))).toHaveLength(1);
    expect(runner.pods().map((p) => p.version)).toEqual([RELEASE, RELEASE, RELEASE]);
  }

  // The history says who ran what: a rollout step that A had started, retried after its heartbeat
  // timed out, and completed by B.
  const connection = await Connection.connect({ address: server.address });
  try {
    // The rollout is in the deployment's first run (the watch runs in a run of its own: patch watch-fresh-run).
    const client = new WorkflowClient({ connection });
    const latest = await client.getHandle(PROD_ID).fetchHistory();
    const firstRunId = latest.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId ?? undefined;
    const history = await client.getHandle(PROD_ID, firstRunId).fetchHistory();
    const scheduled = new Map<string, string>();
    const takeovers: { by: string; at: number; failure: string }[] = [];
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
      const st = e.activityTaskStartedEventAttributes;
      if (st && (st.attempt ?? 1) > 1 && scheduled.get(String(st.scheduledEventId)) === 'rolloutStep') {
        const at = Number(e.eventTime!.seconds) * 1000 + Math.round((e.eventTime!.nanos ?? 0) / 1e6);
        takeovers.push({ by: st.identity ?? '', at, failure: st.lastFailure?.message ?? '' });
      }
    }
    expect(takeovers).toHaveLength(1);
    expect(takeovers[0]).toMatchObject({ by: identityB, failure: expect.stringMatching(/heartbeat/i) });
    expect(identityA).not.toBe(identityB);
    figures.takeoverMs = takeovers[0]!.at - killedAt;
    figures.heartbeatTimeout = '30s (src/activities/options.ts LONG_RUNNING) + 5s retry interval';
  } finally {
    await connection.close();
  }
});
