/**
 * The whole local stack shipwatch deploys into, for the demo, the end-to-end tests and the
 * benchmarks: the Temporal dev server with its Web UI, a kwok Kubernetes cluster, PostgreSQL,
 * Prometheus, Jaeger (the trace backend: the workers' deployment traces and the sample services'
 * request spans go to it over OTLP), the sample service at its old release (real processes behind
 * the pod runner), its public entry point (an Ingress served by a local ingress controller), a
 * blackbox exporter probing its health for the uptime check, a little steady traffic, a webhook receiver standing in for Slack and the pager, and shipwatch
 * workers as child processes (so a test can SIGKILL one). With `auditLog: true`, also the second
 * sample service, audit-log, which calls user-management's API (./audit-log.ts), for release trains.
 * It is over 300 lines because every piece shares the start-up's cleanups and the stack's handles.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { startReceiver } from '../../test/helpers/receiver';
import type { Receiver } from '../../test/helpers/receiver';
import { defaultAlertRules } from '../../src/spec/defaults';
import { parseDuration } from '../../src/spec/duration';
import { blackboxScrapeJob, prometheusRulesFile } from '../../src/monitoring';
import type { ResolvedUptime } from '../../src/spec/types';
import { AUDIT_LOG, AUDIT_LOG_REPLICAS, startAuditLog } from './audit-log';
import type { LocalAuditLog } from './audit-log';
import { startBlackboxExporter } from './blackbox';
import type { LocalBlackboxExporter } from './blackbox';
import { startIngressProxy } from './ingress';
import type { IngressProxy } from './ingress';
import { startJaeger } from './jaeger';
import type { LocalJaeger } from './jaeger';
import { startPodRunner } from './pod-runner';
import type { PodRunner } from './pod-runner';
import { startPostgres } from './postgres';
import type { LocalPostgres } from './postgres';
import { startPrometheus } from './prometheus';
import type { LocalPrometheus } from './prometheus';
import { startDevServer, waitForPort } from './temporal';
import type { DevServer } from './temporal';
import { freePort } from './ports';

const run = promisify(execFile);
export const REPO = resolve(__dirname, '..', '..');
const EXAMPLE = join(REPO, 'examples', 'user-management');
const NAMESPACE = 'production';
const SERVICE = 'user-management' as const;
/** The public host of user-management's Ingress; the local ingress controller (./ingress.ts) routes it. */
export const PUBLIC_HOST = 'users.shipwatch.test';
/** Who the demo's on-call schedule names (the one-line form an on-call tool exports). */
export const DEMO_ON_CALL = 'Priya Raman <priya@example.com>';
export type SampleService = typeof SERVICE | typeof AUDIT_LOG;

export interface StackOptions {
  /** Cluster name and state folder name. */
  name: string;
  /** Where the SQLite file, specs, backups, reports and logs go. */
  stateDir: string;
  /** Release running before the deployment. */
  initialRelease?: string;
  temporalPort?: number;
  uiPort?: number;
  /** Requests per second of background traffic (0: none), to each service. */
  trafficPerSecond?: number;
  /** Also run the second sample service, audit-log (which calls user-management), for release trains. */
  auditLog?: boolean;
  log?: (line: string) => void;
}

export interface WorkerProcess {
  child: ChildProcess;
  metricsUrl: string;
  /** Resolves when the worker process has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface DemoSpecOptions {
  release: string;
  /** Health window after each rollout step. */
  stepWindow?: string;
  watch?: string;
  interval?: string;
  pageAfter?: string;
  rollbackAfter?: string;
  /** Prometheus `for` of every alert rule (the seed's are 1–5 minutes). */
  alertFor?: string;
  autoRollback?: boolean;
  /** Extra env on the new pods, e.g. FAULT_ERROR_RATE for a release that fails at once. */
  podEnv?: Record<string, string>;
}

export interface ReleaseSpecOptions {
  name: string;
  /** Each service's deploy spec options; audit-log comes after user-management. */
  userManagement: DemoSpecOptions;
  auditLog: DemoSpecOptions;
  onFailure?: 'rollback-all' | 'halt' | 'continue';
  /** The shared watch window after the last service, and how long the rest of the train may take. */
  watch?: string;
  trainTimeout?: string;
  statusInterval?: string;
}

export interface LocalStack {
  temporal: DevServer;
  temporalAddress: string;
  uiUrl: string;
  kubeconfig: string;
  kubectl(args: string[], input?: string): Promise<string>;
  postgres: LocalPostgres;
  databaseUrl: string;
  prometheus: LocalPrometheus;
  /** The trace backend; workers and sample pods export to it (OTEL_EXPORTER_OTLP_ENDPOINT). */
  jaeger: LocalJaeger;
  runner: PodRunner;
  serviceUrl: string;
  /** The local ingress controller routing PUBLIC_HOST through the cluster's Ingress. */
  ingress: IngressProxy;
  /** The blackbox exporter probing user-management's health for the uptime check. */
  blackbox: LocalBlackboxExporter;
  receiver: Receiver;
  /** The env a worker needs for the secrets the sample spec references. */
  workerEnv: Record<string, string>;
  startWorker(extraEnv?: Record<string, string>): Promise<WorkerProcess>;
  /** Writes a deploy spec for the sample service pointing at this stack; returns its path. */
  writeSpec(options: DemoSpecOptions): string;
  /** audit-log, when the stack was started with `auditLog: true`. */
  auditLog?: LocalAuditLog & { serviceUrl: string; writeSpec(options: DemoSpecOptions): string };
  /** Writes a release spec of user-management then audit-log (needs `auditLog: true`); returns its path. */
  writeReleaseSpec(options: ReleaseSpecOptions): string;
  /** Injects errors/latency into the pods running a version (the sample service's /admin/faults). */
  injectFaults(version: string, faults: { errorRate?: number; latencyMs?: number }): Promise<number>;
  /** Stops the Temporal server and starts it again on the same port and SQLite file. */
  restartTemporal(): Promise<void>;
  stop(): Promise<void>;
}

const ADMIN_TOKEN = 'demo-admin-token';
const SECRETS = {
  'jwt-secret': 'demo-jwt-secret-not-for-production',
  'admin-token': ADMIN_TOKEN,
  'admin-username': 'admin',
  'admin-password': 'admin-password-demo',
};

/** Compiles the project once if its output is missing: the pods run the compiled sample service. */
export async function ensureBuilt(log: (line: string) => void = () => undefined): Promise<void> {
  const outputs = [join('examples', 'user-management', 'src', 'main.js'), join('examples', 'audit-log', 'src', 'main.js'), 'workflow-bundle.js', 'workflow-bundle-untraced.js'];
  if (outputs.every((file) => existsSync(join(REPO, 'dist', file)))) return;
  log('compiling the project (npm run build)…');
  await run('npm', ['run', 'build'], { cwd: REPO });
}

function parseEnvLines(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

export { freePort as freeLoopbackPort };

/** A sample service's Deployment manifest at a release, with optional extra env on its container. */
export function deploymentManifest(release: string, podEnv: Record<string, string> = {}, service: SampleService = SERVICE): string {
  const doc = parseYaml(readFileSync(join(REPO, 'examples', service, 'k8s', 'deployment.yaml'), 'utf8')) as {
    spec: { template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } } };
  };
  const container = doc.spec.template.spec.containers[0]!;
  container.image = container.image.replace(/:[^:]+$/, `:${release}`);
  container.env = container.env.filter((e) => !(e.name in podEnv)).map((e) => (e.name === 'VERSION' ? { ...e, value: release } : e));
  for (const [name, value] of Object.entries(podEnv)) container.env.push({ name, value });
  return stringifyYaml(doc);
}

export async function startStack(options: StackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const initialRelease = options.initialRelease ?? 'v0.9.0';
  const cleanups: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };

  try {
    await ensureBuilt(log);

    const temporalPort = options.temporalPort ?? (await freePort());
    const uiPort = options.uiPort ?? (await freePort());
    const dbFile = join(stateDir, 'temporal.db');
    log(`starting Temporal (dev server, Web UI on http://127.0.0.1:${uiPort})…`);
    let temporal = await startDevServer({ port: temporalPort, uiPort, dbFile });
    cleanups.push(() => temporal.stop());

    log(`starting the local Kubernetes cluster '${options.name}' (kwok)…`);
    const up = await run('bash', [join(REPO, 'tools', 'cluster.sh'), 'up', options.name], { maxBuffer: 1 << 20 });
    const clusterEnv = parseEnvLines(up.stdout);
    const kubeconfig = clusterEnv.KUBECONFIG!;
    const kubectlBin = clusterEnv.KUBECTL!;
    cleanups.push(() => run('bash', [join(REPO, 'tools', 'cluster.sh'), 'down', options.name]));
    const kubectl = (args: string[], input?: string): Promise<string> =>
      new Promise((resolveOut, reject) => {
        const child = execFile(kubectlBin, ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 1 << 22 }, (err, stdout, stderr) =>
          err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolveOut(stdout),
        );
        if (input !== undefined) child.stdin!.end(input);
      });

    log('starting PostgreSQL…');
    const postgres = await startPostgres({ database: 'users' });
    cleanups.push(() => postgres.stop());
    const databaseUrl = postgres.url('users');

    log('starting Jaeger (trace backend)…');
    const jaeger = await startJaeger();
    cleanups.push(() => jaeger.stop());
    // Every sample pod sends its request spans there, as its own service.
    const tracePodEnv = (service: SampleService): Record<string, string> => ({ OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl, OTEL_SERVICE_NAME: service });

    log(`creating namespace ${NAMESPACE}, the service's secret, and ${SERVICE} ${initialRelease} (3 replicas)…`);
    await kubectl(['create', 'namespace', NAMESPACE]).catch((err: Error) => {
      if (!/AlreadyExists/.test(err.message)) throw err;
    });
    // The receiver stands in for Slack, the pager and the error tracker (Sentry's store API).
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const sentryDsn = `http://shipwatch-demo@${new URL(receiver.url).host}/1`;
    const secret = { 'database-url': databaseUrl, 'sentry-dsn': sentryDsn, ...SECRETS };
    await kubectl(
      ['apply', '-f', '-'],
      stringifyYaml({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: SERVICE, namespace: NAMESPACE },
        stringData: secret,
      }),
    );
    // The old release's schema: migrations up to 0002.
    await run(process.execPath, [join(REPO, 'dist', 'examples', 'user-management', 'src', 'migrate.js'), 'users', '0002'], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
    await kubectl(['apply', '-f', join(EXAMPLE, 'k8s', 'service.yaml')]);
    await kubectl(['apply', '-f', '-'], deploymentManifest(initialRelease, tracePodEnv(SERVICE)));
    await kubectl(['-n', NAMESPACE, 'rollout', 'status', `deployment/${SERVICE}`, '--timeout=120s']);

    const runner = await startPodRunner({
      kubeconfigPath: kubeconfig,
      namespace: NAMESPACE,
      deployment: SERVICE,
      selector: `app=${SERVICE}`,
      container: 'app',
      cwd: REPO,
      jobs: true,
      ...(clusterEnv.POD_LOGS_DIR ? { logDir: clusterEnv.POD_LOGS_DIR } : {}),
      onEvent: (line) => log(`  [pods] ${line}`),
    });
    cleanups.push(() => runner.stop());
    await waitFor(async () => runner.pods().filter((p) => p.ready).length >= 3, 60_000, 'the old release’s 3 pods to answer');

    let auditLog: LocalAuditLog | undefined;
    if (options.auditLog) {
      log(`creating ${AUDIT_LOG} ${initialRelease} (${AUDIT_LOG_REPLICAS} replicas, its own database, calling ${SERVICE}'s API)…`);
      const started = await startAuditLog({
        repo: REPO,
        namespace: NAMESPACE,
        kubeconfig,
        kubectl,
        postgres,
        manifest: deploymentManifest(initialRelease, tracePodEnv(AUDIT_LOG), AUDIT_LOG),
        userManagement: { address: `${SERVICE}.${NAMESPACE}:8080`, url: runner.serviceUrl },
        secrets: { 'admin-token': ADMIN_TOKEN, 'sentry-dsn': sentryDsn },
        ...(clusterEnv.POD_LOGS_DIR ? { logDir: clusterEnv.POD_LOGS_DIR } : {}),
        log,
      });
      cleanups.push(() => started.runner.stop());
      auditLog = started;
      await waitFor(async () => started.runner.pods().filter((p) => p.ready).length >= AUDIT_LOG_REPLICAS, 60_000, `the old ${AUDIT_LOG} pods to answer`);
    }
    const served: { service: SampleService; runner: PodRunner }[] = [{ service: SERVICE, runner }, ...(auditLog ? [{ service: AUDIT_LOG, runner: auditLog.runner }] : [])];

    log(`applying the public entry point (Ingress ${SERVICE}, host ${PUBLIC_HOST}), starting the local ingress controller and the blackbox exporter…`);
    await kubectl(
      ['apply', '-f', '-'],
      stringifyYaml({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: SERVICE, namespace: NAMESPACE },
        spec: { rules: [{ host: PUBLIC_HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: SERVICE, port: { number: 8080 } } } }] } }] },
      }),
    );
    const ingress = await startIngressProxy({
      kubeconfigPath: kubeconfig,
      services: Object.fromEntries(served.map((x) => [`${x.service}.${NAMESPACE}`, x.runner.serviceUrl])),
      onEvent: (line) => log(`  [ingress] ${line}`),
    });
    cleanups.push(() => ingress.stop());
    const blackbox = await startBlackboxExporter();
    cleanups.push(() => blackbox.stop());
    // The probe of user-management's health as `monitoring render` writes it (blackbox-scrape.yml), every second.
    const uptime: ResolvedUptime = { url: `${runner.serviceUrl}/health`, module: 'http_2xx', interval: '1s', intervalMs: 1_000, prober: blackbox.address, job: `uptime-${SERVICE}`, onFailure: 'block' };

    log('starting Prometheus…');
    // Prometheus evaluates the demo specs' alert rules, as `shipwatch monitoring render` writes them
    // (prometheus-alerts.yml, one group per service), so a deployment's "Alerts configured" check
    // compares against real ones. writeSpec rewrites the file for each spec it writes and reloads Prometheus.
    const rulesFile = join(stateDir, 'prometheus-alerts.yml');
    const ruleOptions = new Map<SampleService, DemoSpecOptions | Record<string, never>>(served.map((x) => [x.service, {}]));
    writeFileSync(rulesFile, demoRulesFile(ruleOptions));
    const prometheus = await startPrometheus({
      jobs: served.map((x) => ({ job: x.service, targets: [new URL(x.runner.metricsUrl).host] })),
      scrapeInterval: '1s',
      ruleFiles: [rulesFile],
      rawJobs: [blackboxScrapeJob({ service: SERVICE, namespace: NAMESPACE }, uptime)],
    });
    await prometheus.waitForRuleGroups(served.map((x) => x.service));
    cleanups.push(() => prometheus.stop());

    // A deployment's first act is to capture the metrics baseline: wait until Prometheus has two
    // scrapes of traffic to compute rates from, as it would on a service that has been running.
    const trafficPerSecond = options.trafficPerSecond ?? 10;
    const timers: NodeJS.Timeout[] = [];
    cleanups.push(async () => timers.forEach((t) => clearInterval(t)));
    for (const { service, runner: target } of trafficPerSecond > 0 ? served : []) {
      timers.push(
        setInterval(() => {
          void fetch(`${target.serviceUrl}/health`).then((r) => r.arrayBuffer()).catch(() => undefined);
        }, 1000 / trafficPerSecond),
      );
      const baselineQuery = encodeURIComponent(`sum(rate(http_request_duration_seconds_count{job="${service}"}[30s]))`);
      await waitFor(
        async () =>
          fetch(`${prometheus.url}/api/v1/query?query=${baselineQuery}`)
            .then((r) => r.json() as Promise<{ data?: { result?: unknown[] } }>)
            .then((body) => (body.data?.result?.length ?? 0) > 0)
            .catch(() => false),
        90_000,
        `Prometheus to have a traffic baseline of ${service}`,
      );
    }

    const workerEnv: Record<string, string> = {
      ...jaeger.env('shipwatch'),
      USER_MANAGEMENT_DATABASE_URL: databaseUrl,
      SMOKE_USER_PASSWORD: 'smoke-password-demo',
      USER_MANAGEMENT_ADMIN_USERNAME: SECRETS['admin-username'],
      USER_MANAGEMENT_ADMIN_PASSWORD: SECRETS['admin-password'],
      SLACK_WEBHOOK_URL: `${receiver.url}/slack`,
      PAGER_WEBHOOK_URL: `${receiver.url}/pager`,
      SENTRY_DSN: sentryDsn,
      ONCALL_SCHEDULE: DEMO_ON_CALL,
      ...(auditLog ? { AUDIT_LOG_DATABASE_URL: auditLog.databaseUrl } : {}),
    };

    /** A deploy spec of a sample service pointing at this stack, its alert rules loaded in Prometheus. */
    const writeServiceSpec = (service: SampleService, o: DemoSpecOptions, serviceUrl: string): string => {
      const doc = parseYaml(readFileSync(join(REPO, 'examples', service, 'shipwatch.yaml'), 'utf8')) as {
        [key: string]: unknown;
        image: string;
        kubernetes: Record<string, unknown>;
        database: { backup: Record<string, unknown> };
        migrations: Record<string, unknown>;
        smoke: Record<string, unknown>;
        metrics: Record<string, unknown>;
      };
      // Files named by release for user-management (as they always were), by service and release for the others.
      const stem = service === SERVICE ? o.release : `${service}-${o.release}`;
      const manifestPath = join(stateDir, `deployment-${stem}.yaml`);
      writeFileSync(manifestPath, deploymentManifest(o.release, { ...tracePodEnv(service), ...o.podEnv }, service));
      doc.release = o.release;
      doc.image = doc.image.replace(/:[^:]+$/, `:${o.release}`);
      doc.kubernetes = { ...doc.kubernetes, manifest: manifestPath, stepWindow: o.stepWindow ?? '15s', progressDeadline: '90s' };
      doc.serviceUrl = serviceUrl;
      doc.database.backup.store = join(stateDir, 'backups');
      // Every release of the sample services runs on the newest schema (expand/contract), so a
      // rollback keeps the schema; the migration-rollback path is tested in the workflow and
      // Kubernetes suites.
      delete doc.migrations.rollbackCommand;
      doc.smoke.suiteFile = join(REPO, 'examples', service, 'smoke.yaml');
      doc.metrics = { ...doc.metrics, prometheusUrl: prometheus.url, window: '30s' };
      doc.watch = {
        duration: o.watch ?? '2m',
        interval: o.interval ?? '5s',
        autoRollback: o.autoRollback ?? true,
        escalation: { pageAfter: o.pageAfter ?? '10s', rollbackAfter: o.rollbackAfter ?? '20s' },
        rules: demoRules(o, service).map(({ forMs: _forMs, ...rule }) => ({ ...rule, for: o.alertFor ?? '10s' })),
      };
      ruleOptions.set(service, o);
      writeFileSync(rulesFile, demoRulesFile(ruleOptions));
      // Reloading takes milliseconds; the deployment that reads this spec checks the rules seconds later.
      void prometheus.reload().catch((err: unknown) => log(`reloading Prometheus's rules failed: ${String(err)}`));
      doc.report = { dir: join(stateDir, 'reports') };
      if (service === SERVICE) {
        // The launch checks: who is on call, the public entry point through the local ingress controller, the uptime probe.
        doc.onCall = { rotation: `${SERVICE}-primary`, schedule: 'env:ONCALL_SCHEDULE' };
        doc.entryPoint = { kind: 'Ingress', name: SERVICE, host: PUBLIC_HOST, url: ingress.url, releaseField: 'version' };
        doc.uptime = { url: uptime.url, interval: uptime.interval, prober: blackbox.address };
      }
      const path = join(stateDir, `deploy-${stem}.yaml`);
      writeFileSync(path, `# Generated by the local stack for ${service} ${o.release}; see examples/${service}/shipwatch.yaml.\n${stringifyYaml(doc)}`);
      return path;
    };

    const workers = new Set<WorkerProcess>();
    cleanups.push(async () => Promise.all([...workers].map((w) => w.stop())));

    const stack: LocalStack = {
      get temporal() {
        return temporal;
      },
      temporalAddress: `127.0.0.1:${temporalPort}`,
      uiUrl: `http://127.0.0.1:${uiPort}`,
      kubeconfig,
      kubectl,
      postgres,
      databaseUrl,
      prometheus,
      jaeger,
      runner,
      serviceUrl: runner.serviceUrl,
      ingress,
      blackbox,
      receiver,
      workerEnv,
      async startWorker(extraEnv = {}) {
        const metricsPort = await freePort();
        const child = spawn(process.execPath, [join(REPO, 'dist', 'src', 'worker.js')], {
          cwd: stateDir,
          env: {
            ...process.env,
            ...workerEnv,
            TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
            TEMPORAL_NAMESPACE: 'default',
            KUBECONFIG: kubeconfig,
            SHIPWATCH_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
            SHIPWATCH_LOG_LEVEL: 'warn',
            ...extraEnv,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const logFile = join(stateDir, 'worker.log');
        const { createWriteStream } = await import('node:fs');
        const out = createWriteStream(logFile, { flags: 'a' });
        child.stdout.pipe(out);
        child.stderr.pipe(out);
        const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
        const worker: WorkerProcess = {
          child,
          metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
          exited,
          async stop(signal = 'SIGTERM') {
            workers.delete(worker);
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            await exited;
          },
        };
        workers.add(worker);
        await Promise.race([
          waitForReady(`http://127.0.0.1:${metricsPort}/readyz`, 90_000),
          exited.then((code) => {
            throw new Error(`the worker exited with code ${code} while starting; see ${logFile}`);
          }),
        ]);
        return worker;
      },
      writeSpec: (o) => writeServiceSpec(SERVICE, o, runner.serviceUrl),
      ...(auditLog
        ? { auditLog: { ...auditLog, serviceUrl: auditLog.runner.serviceUrl, writeSpec: (o: DemoSpecOptions) => writeServiceSpec(AUDIT_LOG, o, auditLog.runner.serviceUrl) } }
        : {}),
      writeReleaseSpec(o) {
        if (!auditLog) throw new Error('writeReleaseSpec needs the stack started with auditLog: true (the release has two services)');
        const release = {
          apiVersion: 'shipwatch.dev/v1',
          kind: 'Release',
          name: o.name,
          onFailure: o.onFailure ?? 'rollback-all',
          watch: { mode: 'together', duration: o.watch ?? '30s', trainTimeout: o.trainTimeout ?? '10m' },
          statusInterval: o.statusInterval ?? '2s',
          report: { dir: join(stateDir, 'reports') },
          services: [
            { spec: writeServiceSpec(SERVICE, o.userManagement, runner.serviceUrl) },
            { spec: writeServiceSpec(AUDIT_LOG, o.auditLog, auditLog.runner.serviceUrl), after: [SERVICE] },
          ],
        };
        const path = join(stateDir, `release-${o.name}.yaml`);
        writeFileSync(path, `# Generated by the local stack; see examples/release.yaml.\n${stringifyYaml(release)}`);
        return path;
      },
      async injectFaults(version, faults) {
        const pods = runner.pods().filter((p) => p.version === version);
        await Promise.all(
          pods.map((p) =>
            fetch(`http://127.0.0.1:${p.port}/admin/faults`, {
              method: 'POST',
              headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
              body: JSON.stringify(faults),
            }),
          ),
        );
        return pods.length;
      },
      async restartTemporal() {
        await temporal.stop();
        temporal = await startDevServer({ port: temporalPort, uiPort, dbFile });
      },
      stop: stopAll,
    };
    return stack;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const port = Number(new URL(url).port);
  await waitForPort(port, timeoutMs);
  await waitFor(
    async () =>
      fetch(url).then(
        (r) => r.ok,
        () => false,
      ),
    timeoutMs,
    url,
  );
}

/** A demo spec's alert rules (the seed's four on a sample service, 30s rate window), with the spec's `for`. */
function demoRules(o: Pick<DemoSpecOptions, 'alertFor'>, service: SampleService) {
  const target = { service, namespace: NAMESPACE, deployment: service, selector: `job="${service}"`, window: '30s' };
  return defaultAlertRules(target).map((rule) => ({ ...rule, forMs: parseDuration(o.alertFor ?? '10s') ?? rule.forMs }));
}

/** prometheus-alerts.yml for the demo specs, one group per service, as `shipwatch monitoring render` writes each. */
function demoRulesFile(services: Map<SampleService, Pick<DemoSpecOptions, 'alertFor' | 'interval'>>): string {
  const groups = [...services].flatMap(([service, o]) => {
    const source = { service, namespace: NAMESPACE, watch: { intervalMs: parseDuration(o.interval ?? '5s') ?? 5_000, rules: demoRules(o, service) } };
    return prometheusRulesFile(source).groups;
  });
  return stringifyYaml({ groups }, { lineWidth: 0 });
}
