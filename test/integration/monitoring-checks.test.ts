/**
 * The monitoring checks against real parts: a real Prometheus scraping the real sample service and
 * loading the rules file generated from the spec, a local Kubernetes control plane (kwok) holding
 * the new release's pods, and a local receiver standing in for the error tracker. Each check is
 * shown passing, and failing for the reason it exists: rule missing, threshold drift, target down,
 * logs unreadable, a panel with no data, a pod without the DSN, the tracker refusing the event.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { createMonitoringChecks } from '../../src/activities/monitoring-checks';
import { createFakeDeps } from '../helpers/fakes';
import type { MonitoringCheckInput, MonitoringPort } from '../../src/activities/types';
import { DEFAULT_MONITORING_POLICY, MONITORING_CHECKS } from '../../src/model';
import type { MonitoringCheckName, MonitoringCheckResult, MonitoringCheckStatus, MonitoringSettings } from '../../src/model';
import { filebeatConfig, monitoringFiles } from '../../src/monitoring';
import { resolveSpec } from '../../src/spec';
import type { DeploySpec } from '../../src/spec';
import { defaultAlertRules } from '../../src/spec/defaults';
import type { RunningService } from '../../examples/user-management/src/server';
import { eventually, startCluster } from '../helpers/cluster';
import type { TestCluster } from '../helpers/cluster';
import { startPostgres, type LocalPostgres } from '../helpers/postgres';
import { startPrometheus, type LocalPrometheus } from '../helpers/prometheus';
import type { ScrapeTarget } from '../../tools/local/prometheus';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { migrateDatabase, startSampleService } from '../helpers/sample-service';

jest.setTimeout(240_000);

const NS = 'production';
const NEW = 'ghcr.io/org/user-management:v1.0.1';
const DSN_ENV = 'SW_TEST_MONITORING_SENTRY_DSN';

let cluster: TestCluster;
let pg: LocalPostgres;
let service: RunningService;
let prom: LocalPrometheus;
let receiver: Receiver;
let dir: string;
let rulesFile: string;
let spec: DeploySpec;
let pods: string[];
let checks: MonitoringPort;
let running = true;
let traffic: Promise<void>[] = [];

const settings = (extra: Partial<MonitoringSettings> = {}): MonitoringSettings => ({ policy: DEFAULT_MONITORING_POLICY, ...extra });
const input = (extra: Partial<MonitoringSettings> = {}, s: DeploySpec = spec): MonitoringCheckInput => ({ spec: s, settings: settings(extra) });

function deployment(name: string, env: unknown[]): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: NEW, env }] } },
    },
  });
}

async function podNames(app: string): Promise<string[]> {
  const list = await cluster.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` });
  return list.items.map((p) => p.metadata!.name!).sort();
}

/** Prometheus's active targets of the sample service's job. */
async function activeTargetCount(): Promise<number> {
  const body = (await (await fetch(`${prom.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: { labels: Record<string, string> }[] } };
  return body.data.activeTargets.filter((t) => t.labels.job === 'user-management').length;
}

/** One static target per pod (the same sample service answers for both), labelled with the pod's name. */
function jobsFor(targets: Record<string, string>): ScrapeTarget[] {
  const [first, ...rest] = Object.entries(targets).map(([pod, address]) => ({ targets: [address], labels: { namespace: NS, pod } }));
  return [{ job: 'user-management', ...first!, more: rest }];
}

beforeAll(async () => {
  cluster = await startCluster('monitoring-checks-test');
  await cluster.kubectl('create', 'namespace', NS);
  await cluster.kubectl('-n', NS, 'create', 'secret', 'generic', 'user-management-sentry', '--from-literal=SENTRY_DSN=http://key@127.0.0.1:1/1');
  await cluster.apply(deployment('user-management', [{ name: 'SENTRY_DSN', valueFrom: { secretKeyRef: { name: 'user-management-sentry', key: 'SENTRY_DSN' } } }]));
  await cluster.apply(deployment('no-dsn', [{ name: 'LOG_LEVEL', value: 'info' }]));
  await cluster.kubectl('-n', NS, 'rollout', 'status', 'deployment/user-management', '--timeout=90s');
  await cluster.kubectl('-n', NS, 'rollout', 'status', 'deployment/no-dsn', '--timeout=90s');
  pods = await podNames('user-management');
  for (const pod of pods) await cluster.writePodLog(NS, pod, ['{"level":"info","msg":"listening on :8080"}'], 'app');

  const seed = defaultAlertRules({ service: 'user-management', namespace: NS, deployment: 'user-management', selector: 'job="user-management"', window: '10s' });
  const rules = seed.filter((r) => r.name === 'HighErrorRate' || r.name === 'HighResponseTime').map(({ forMs: _forMs, ...r }) => ({ ...r, for: '3s' }));
  spec = await resolveSpec({
    service: 'user-management',
    namespace: NS,
    release: 'v1.0.1',
    image: NEW,
    kubernetes: { deployment: 'user-management', container: 'app' },
    serviceUrl: 'http://127.0.0.1:8080',
    metrics: { prometheusUrl: 'http://127.0.0.1:9090', window: '10s' },
    watch: { interval: '1s', rules },
  });
  dir = await mkdtemp(join(tmpdir(), 'shipwatch-monitoring-checks-'));
  rulesFile = join(dir, 'prometheus-alerts.yml');
  await writeFile(rulesFile, monitoringFiles(spec).find((f) => f.name === 'prometheus-alerts.yml')!.content);

  pg = await startPostgres({ database: 'users' });
  await migrateDatabase(pg.url('users'));
  service = await startSampleService(pg.url('users'));
  const address = `127.0.0.1:${service.port}`;
  prom = await startPrometheus({ jobs: jobsFor(Object.fromEntries(pods.map((p) => [p, address]))), ruleFiles: [rulesFile] });
  spec = { ...spec, metrics: { ...spec.metrics!, prometheusUrl: prom.url } };
  receiver = await startReceiver();
  process.env[DSN_ENV] = `http://publickey@127.0.0.1:${new URL(receiver.url).port}/42`;
  checks = createMonitoringChecks({ kubeConfig: cluster.kc });

  traffic = Array.from({ length: 4 }, async () => {
    while (running) {
      await fetch(`${service.url}/health`).then((r) => r.arrayBuffer()).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 40));
    }
  });
  await prom.waitForRuleGroups(['user-management']);
  // Every target scraped and a request rate over the 10s window: what the dashboards and rules read.
  await eventually('two scrapes of every target and a request rate', async () => {
    const body = (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('sum(rate(http_requests_total{job="user-management"}[10s])) > 0 and on() count(up{job="user-management"} == 1) == 2')}`)).json()) as { data: { result: unknown[] } };
    return body.data.result.length > 0 ? true : undefined;
  }, 60_000, 250);
}, 900_000);

afterAll(async () => {
  running = false;
  await Promise.all(traffic);
  await prom?.stop();
  await receiver?.close();
  await service?.close();
  await pg?.stop();
  await cluster?.stop();
  delete process.env[DSN_ENV];
  if (dir) await rm(dir, { recursive: true, force: true });
}, 180_000);

describe('scrape', () => {
  test('every pod of the new release is an up target: passed', async () => {
    const r = await checks.scrape(input());
    expect(r).toMatchObject({ check: 'scrape', status: 'passed' });
    expect(r.detail).toBe(`2 targets up, up{job="user-management"} = 1, all 2 pods of v1.0.1 scraped`);
    expect(r.found).toEqual(expect.arrayContaining(pods.map((p) => `pod ${p}: a target of its own, up`)));
  });

  test('a target down fails naming it; a pod that is no target fails naming the pod', async () => {
    const dead = `127.0.0.1:1`;
    await prom.setTargets(jobsFor({ [pods[0]!]: `127.0.0.1:${service.port}`, [pods[1]!]: dead }));
    const down = await eventually('the dead target to be down', async () => {
      const r = await checks.scrape(input());
      return r.status === 'failed' && /not up/.test(r.detail) ? r : undefined;
    }, 30_000, 250);
    expect(down.detail).toMatch(new RegExp(`^1 of 2 targets are not up: http://127\\.0\\.0\\.1:1/metrics \\(down: .+\\)$`));

    await prom.setTargets(jobsFor({ [pods[0]!]: `127.0.0.1:${service.port}` }));
    const missing = await eventually('the second target to be gone', async () => {
      const r = await checks.scrape(input());
      return r.status === 'failed' && /not scraped/.test(r.detail) ? r : undefined;
    }, 30_000, 250);
    // Before it says so, the check looked again for two scrape intervals (1 s here) + 5 s: at least
    // that long (how much longer a loaded machine takes is the bench's business, not this test's).
    const waited = new RegExp(`^1 of 2 pods of v1\\.0\\.1 are not scraped: ${pods[1]} \\(looked again for (\\d+) s\\)$`).exec(missing.detail);
    expect(waited).not.toBeNull();
    expect(Number(waited![1])).toBeGreaterThanOrEqual(6);

    await prom.setTargets(jobsFor(Object.fromEntries(pods.map((p) => [p, `127.0.0.1:${service.port}`]))));
    await eventually('both targets up again', async () => ((await checks.scrape(input())).status === 'passed' ? true : undefined), 30_000, 250);
  });

  test('a new pod Prometheus has not seen yet is waited for, and the detail says how long', async () => {
    await prom.setTargets(jobsFor({ [pods[0]!]: `127.0.0.1:${service.port}` }));
    await eventually('the second target to be gone', async () => ((await activeTargetCount()) === 1 ? true : undefined), 30_000, 250);
    const atOnce = createMonitoringChecks({ kubeConfig: cluster.kc, scrapeWaitMs: 0 });
    await eventually('its series to be stale', async () => (/not scraped/.test((await atOnce.scrape(input())).detail) ? true : undefined), 30_000, 250);
    // The pod's target appears 2 s into the check (as after a service-discovery refresh).
    const appear = new Promise((r) => setTimeout(r, 2_000)).then(() => prom.setTargets(jobsFor(Object.fromEntries(pods.map((p) => [p, `127.0.0.1:${service.port}`])))));
    const r = await checks.scrape(input());
    await appear;
    expect(r).toMatchObject({ status: 'passed' });
    const seen = /^2 targets up, up\{job="user-management"\} = 1, all 2 pods of v1\.0\.1 scraped \(seen after (\d+) s\)$/.exec(r.detail);
    expect(seen).not.toBeNull();
    expect(Number(seen![1])).toBeGreaterThanOrEqual(2);
  });

  test('without a Prometheus in the spec it did not run, and says why', async () => {
    const { metrics: _m, ...rest } = spec;
    const r = await checks.scrape(input({}, rest));
    expect(r).toMatchObject({ status: 'not_run', detail: expect.stringContaining('no metrics section') });
  });
});

describe('alerts configured (no Operator CRDs: compared with /api/v1/rules)', () => {
  test("the spec's rules, as loaded from the generated file: passed", async () => {
    const r = await checks.alertsConfigured(input());
    expect(r.status).toBe('passed');
    expect(r.found[0]).toMatch(/^no Prometheus Operator CRDs in the cluster/);
    expect(r.found.slice(1)).toEqual([expect.stringMatching(/^HighErrorRate: .* > 0\.05` for 3s, as in the spec/), expect.stringMatching(/^HighResponseTime: .* > 0\.5` for 3s, as in the spec/)]);
  });

  test('a rule the spec has and Prometheus lacks fails naming it', async () => {
    const extra = { ...spec.watch.rules[0]!, name: 'HighErrorRateStrict', threshold: 0.01 };
    const r = await checks.alertsConfigured(input({}, { ...spec, watch: { ...spec.watch, rules: [...spec.watch.rules, extra] } }));
    expect(r.status).toBe('failed');
    expect(r.detail).toContain('HighErrorRateStrict: not installed (no alerting rule of that name)');
  });

  test('a deliberately different installed threshold fails the check with the rule and the field named', async () => {
    const original = await readFile(rulesFile, 'utf8');
    expect(original).toContain('> 0.05');
    await writeFile(rulesFile, original.replace('> 0.05', '> 0.01'));
    await prom.reload();
    try {
      await eventually('the drifted rule to be loaded', async () => {
        const body = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; query: string }[] }[] } };
        return body.data.groups.flatMap((g) => g.rules).some((x) => x.name === 'HighErrorRate' && x.query.endsWith('> 0.01')) ? true : undefined;
      }, 30_000, 100);
      const r = await checks.alertsConfigured(input());
      expect(r.status).toBe('failed');
      expect(r.detail).toBe(`1 difference between the spec and Prometheus at ${prom.url}: HighErrorRate: threshold 0.01 installed, 0.05 in the spec`);
      expect(r.found).toContain('HighErrorRate: threshold 0.01 installed, 0.05 in the spec');
    } finally {
      await writeFile(rulesFile, original);
      await prom.reload();
    }
  });
});

describe('alerts tested', () => {
  test('each rule evaluated once: its value and whether it would fire', async () => {
    const r = await checks.alertsTested(input());
    expect(r.status).toBe('passed');
    expect(r.detail).toBe('every rule returns a value and none would fire now');
    expect(r.found).toEqual([expect.stringMatching(/^HighErrorRate: 0 > 0\.05 is false: quiet \(over 1 series\)$/), expect.stringMatching(/^HighResponseTime: [\d.e-]+ > 0\.5 is false: quiet/)]);
  });

  test('a rule with no data fails: it could never fire', async () => {
    const podDown = defaultAlertRules({ service: 'user-management', namespace: NS, deployment: 'user-management', selector: 'job="user-management"', window: '10s' }).find((x) => x.name === 'PodDown')!;
    const r = await checks.alertsTested(input({}, { ...spec, watch: { ...spec.watch, rules: [...spec.watch.rules, podDown] } }));
    expect(r.status).toBe('failed');
    expect(r.detail).toBe('PodDown returned no value: this alert could never fire');
  });
});

describe('logging', () => {
  test("the new pods' logs are readable and the named filebeat config ships them: passed", async () => {
    await cluster.kubectl('create', 'namespace', 'logging').catch(() => '');
    await cluster.kubectl('-n', 'logging', 'create', 'configmap', 'filebeat-config', `--from-literal=filebeat.yml=${filebeatConfig(spec)}`);
    for (const pod of pods) await eventually(`kwok to serve the log of ${pod}`, async () => ((await cluster.kubectl('-n', NS, 'logs', pod).catch(() => '')).trim() ? true : undefined), 20_000);
    const r = await checks.logging(input({ logPipeline: { namespace: 'logging', configMap: 'filebeat-config', key: 'filebeat.yml' } }));
    expect(r.status).toBe('passed');
    expect(r.found).toEqual([...pods.map((p) => `pod ${p}: log readable (1 of the last 20 lines)`), "log pipeline: configmap logging/filebeat-config ships the service's container logs"]);
  });

  test('pods whose logs cannot be read fail, naming them', async () => {
    const silent = await podNames('no-dsn');
    const r = await checks.logging(input({}, { ...spec, kubernetes: { ...spec.kubernetes, deployment: 'no-dsn' } }));
    expect(r.status).toBe('failed');
    expect(r.detail).toBe(`the logs of ${silent.join(', ')} cannot be read: the log scan and log shipping see nothing of them`);
  });

  test('a named pipeline config that is absent fails, naming it (one for another service: unit test)', async () => {
    const r = await checks.logging(input({ logPipeline: { namespace: 'logging', configMap: 'absent', key: 'filebeat.yml' } }));
    expect(r.status).toBe('failed');
    expect(r.detail).toMatch(/^log pipeline: cannot read configmap logging\/absent: .*not found/);
  });
});

describe('error tracking', () => {
  const tracking = { errorTracking: { dsn: `env:${DSN_ENV}`, env: 'SENTRY_DSN' } };

  test('the pods carry the DSN and the tracker accepts a test event: passed', async () => {
    const before = receiver.received.length;
    const r = await checks.errorTracking(input(tracking));
    expect(r.status).toBe('passed');
    expect(r.found.slice(0, 2)).toEqual(pods.map((p) => `pod ${p}: env SENTRY_DSN from secret user-management-sentry`));
    const event = receiver.received[before]!;
    expect(event).toMatchObject({ method: 'POST', path: '/api/42/store/', body: { release: 'user-management@v1.0.1', environment: NS, level: 'info' } });
    expect(event.headers['x-sentry-auth']).toContain('sentry_key=publickey');
  });

  test('pods without the DSN fail, naming them; a tracker refusing the event fails', async () => {
    const missing = await checks.errorTracking(input(tracking, { ...spec, kubernetes: { ...spec.kubernetes, deployment: 'no-dsn' } }));
    expect(missing.status).toBe('failed');
    expect(missing.detail).toBe(`2 of 2 new pods do not carry SENTRY_DSN: ${(await podNames('no-dsn')).join(', ')}`);
    receiver.respondWith([500]);
    const refused = await checks.errorTracking(input(tracking));
    expect(refused).toMatchObject({ status: 'failed', detail: `the tracker at http://127.0.0.1:${new URL(receiver.url).port} refused the test event (HTTP 500)` });
  });

  test('the service reports its own test event (testPath): passed, the event in the tracker with its release', async () => {
    const tracked = await startSampleService(pg.url('users'), { errorTracking: { dsn: process.env[DSN_ENV]!, release: 'user-management@v1.0.1', environment: NS } });
    try {
      const before = receiver.received.length;
      const viaService = { ...spec, serviceUrl: tracked.url };
      const r = await checks.errorTracking(input({ errorTracking: { env: 'SENTRY_DSN', testPath: '/debug/error-tracking' } }, viaService));
      expect(r.status).toBe('passed');
      expect(r.detail).toBe('all 2 new pods carry SENTRY_DSN and the service reported a test event its tracker accepted');
      const events = receiver.received.slice(before);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ path: '/api/42/store/', body: { release: 'user-management@v1.0.1', environment: NS, logger: 'user-management', tags: { check: 'error-tracking' } } });
      expect(r.found[r.found.length - 1]).toBe(`the service reported test event ${(events[0]!.body as { event_id: string }).event_id} and its tracker accepted it (GET ${tracked.url}/debug/error-tracking: HTTP 200)`);

      // The tracker refusing the service's event, and a service that has no tracker: failed, saying what the service answered.
      receiver.respondWith([500]);
      const refused = await checks.errorTracking(input({ errorTracking: { env: 'SENTRY_DSN', testPath: '/debug/error-tracking' } }, viaService));
      expect(refused.status).toBe('failed');
      expect(refused.detail).toMatch(/^the service did not report a test event \(GET .*\/debug\/error-tracking: HTTP 502: test event \w+ not delivered: the tracker answered HTTP 500\)$/);
      const untracked = await checks.errorTracking(input({ errorTracking: { env: 'SENTRY_DSN', testPath: '/debug/error-tracking' } }, { ...spec, serviceUrl: service.url }));
      expect(untracked).toMatchObject({ status: 'failed', detail: expect.stringContaining('HTTP 503: error tracking is off (SENTRY_DSN not set)') });
    } finally {
      await tracked.close();
    }
  });

  test('no DSN in the spec: not run, never passed', async () => {
    expect(await checks.errorTracking(input())).toMatchObject({ status: 'not_run', detail: expect.stringContaining('names no error tracker') });
  });
});

describe('dashboards', () => {
  test('the model is valid and every panel query returns data: passed', async () => {
    const r = await checks.dashboards(input());
    expect(r.status).toBe('passed');
    expect(r.found).toEqual(expect.arrayContaining(['Request Rate: data (1 series)', 'Active Users: data (1 series)', 'HighErrorRate (critical): data (1 series)']));
  });

  test('a panel whose query has no data fails, naming the panel', async () => {
    const podDown = defaultAlertRules({ service: 'user-management', namespace: NS, deployment: 'user-management', selector: 'job="user-management"', window: '10s' }).find((x) => x.name === 'PodDown')!;
    const r = await checks.dashboards(input({}, { ...spec, watch: { ...spec.watch, rules: [...spec.watch.rules, podDown] } }));
    expect(r.status).toBe('failed');
    expect(r.detail).toBe('1 panel shows no data: PodDown (critical)');
  });
});

describe('contract: the fake monitoring port (test/helpers/fakes.ts) answers only as the real one does', () => {
  const STATUSES: MonitoringCheckStatus[] = ['passed', 'failed', 'not_run'];
  const CALL: Record<MonitoringCheckName, keyof MonitoringPort> = {
    scrape: 'scrape',
    'alerts-configured': 'alertsConfigured',
    'alerts-tested': 'alertsTested',
    logging: 'logging',
    'error-tracking': 'errorTracking',
    dashboards: 'dashboards',
  };
  const tracking = { errorTracking: { dsn: `env:${DSN_ENV}`, env: 'SENTRY_DSN' } };
  const podDown = () => defaultAlertRules({ service: 'user-management', namespace: NS, deployment: 'user-management', selector: 'job="user-management"', window: '10s' }).find((x) => x.name === 'PodDown')!;
  const withRule = (rule: DeploySpec['watch']['rules'][number]): DeploySpec => ({ ...spec, watch: { ...spec.watch, rules: [...spec.watch.rules, rule] } });
  const noDsnPods = (): DeploySpec => ({ ...spec, kubernetes: { ...spec.kubernetes, deployment: 'no-dsn' } });
  const noPrometheus = (): DeploySpec => {
    const { metrics: _m, ...rest } = spec;
    return rest;
  };
  /** One real situation per check and status the fake can be told to give. */
  const real: Record<MonitoringCheckName, Record<MonitoringCheckStatus, () => Promise<MonitoringCheckResult>>> = {
    scrape: {
      passed: () => checks.scrape(input()),
      failed: () => checks.scrape(input({}, noDsnPods())),
      not_run: () => checks.scrape(input({}, noPrometheus())),
    },
    'alerts-configured': {
      passed: () => checks.alertsConfigured(input()),
      failed: () => checks.alertsConfigured(input({}, withRule({ ...spec.watch.rules[0]!, name: 'HighErrorRateStrict', threshold: 0.01 }))),
      not_run: () => checks.alertsConfigured(input({}, noPrometheus())),
    },
    'alerts-tested': {
      passed: () => checks.alertsTested(input()),
      failed: () => checks.alertsTested(input({}, withRule(podDown()))),
      not_run: () => checks.alertsTested(input({}, noPrometheus())),
    },
    logging: {
      passed: () => checks.logging(input()),
      failed: () => checks.logging(input({}, noDsnPods())),
      not_run: () => createMonitoringChecks({}).logging(input()),
    },
    'error-tracking': {
      passed: () => checks.errorTracking(input(tracking)),
      failed: () => checks.errorTracking(input(tracking, noDsnPods())),
      not_run: () => checks.errorTracking(input()),
    },
    dashboards: {
      passed: () => checks.dashboards(input()),
      failed: () => checks.dashboards(input({}, withRule(podDown()))),
      not_run: () => checks.dashboards(input({}, noPrometheus())),
    },
  };
  const shape = (r: MonitoringCheckResult) => ({
    check: r.check,
    status: r.status,
    checked: typeof r.checked === 'string' && r.checked.length > 0,
    detail: typeof r.detail === 'string' && r.detail.length > 0,
    found: Array.isArray(r.found) && r.found.every((f) => typeof f === 'string'),
  });

  test.each(MONITORING_CHECKS.flatMap((check) => STATUSES.map((status) => [check, status] as const)))('%s %s: the real adapter gives it in a real situation, the fake in the same shape', async (check, status) => {
    const fromReal = await real[check][status]();
    expect({ check: fromReal.check, status: fromReal.status, detail: fromReal.detail }).toMatchObject({ check, status });
    const fake = createFakeDeps({ monitoring: { [check]: status } }).deps.monitoring;
    const fromFake = await fake[CALL[check]](input());
    expect(shape(fromFake)).toEqual(shape(fromReal));
  });
});

test('alerts configured with the Operator CRDs: the PrometheusRule is applied and read back equal to the spec', async () => {
  for (const crd of ['servicemonitor.yaml', 'prometheusrule.yaml']) await cluster.apply(await readFile(resolve(__dirname, '../../deploy/crds', crd), 'utf8'));
  await eventually('the CRDs to be served', async () => ((await cluster.kubectl('get', 'prometheusrules', '-A').then(() => true).catch(() => undefined))), 30_000, 250);
  const r = await checks.alertsConfigured(input());
  expect(r.status).toBe('passed');
  expect(r.found.slice(0, 2)).toEqual([`created ServiceMonitor ${NS}/user-management`, `created PrometheusRule ${NS}/user-management-alerts`]);
  expect(r.detail).toBe(`every rule of the spec is installed in PrometheusRule ${NS}/user-management-alerts with the same expression, threshold and for`);
  const again = await checks.alertsConfigured(input());
  expect(again.found.slice(0, 2)).toEqual([`updated ServiceMonitor ${NS}/user-management`, `updated PrometheusRule ${NS}/user-management-alerts`]);
});
