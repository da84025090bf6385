/**
 * The migration Job (success with the parsed list, failure with its logs), the log scan, and the
 * worker's least-privilege RBAC (deploy/rbac.yaml) on a real local control plane with RBAC on:
 * every adapter operation runs with a ServiceAccount token bound to that Role only, and a missing
 * permission is a ForbiddenError naming it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { createKubernetesAdapter } from '../../src/activities/kubernetes';
import type { KubernetesAdapter } from '../../src/activities/kubernetes';
import { ForbiddenError } from '../../src/activities/errors';
import { readHeartbeat } from '../../src/activities/heartbeat';
import type { MigrationHeartbeat } from '../../src/activities/heartbeat';
import type { MigrationJobInput, ProgressContext, RolloutStepInput } from '../../src/activities/types';
import { eventually, startCluster } from '../helpers/cluster';
import type { TestCluster } from '../helpers/cluster';

jest.setTimeout(180_000);

const NS = 'production';
const OLD = 'ghcr.io/org/user-management:v0.9.0';
const NEW = 'ghcr.io/org/user-management:v1.0.0';
const RBAC = readFileSync(join(__dirname, '../../deploy/rbac.yaml'), 'utf8');
let cluster: TestCluster;
let core: CoreV1Api;
const durations: Record<string, number> = {};

const MIGRATE_OUTPUT = [
  'Operations to perform:',
  '  Apply all migrations: users',
  'Running migrations:',
  '  Applying users.0001_initial... OK',
  '  Applying users.0002_roles... OK',
  '  Applying users.0003_user_roles... OK',
  'Migration duration: 0.12s',
  'Migrations applied:',
  '  [X] 0001_initial',
  '  [X] 0002_roles',
  '  [X] 0003_user_roles',
];

/** An activity context that keeps the heartbeats; `resumeFrom` as a retried attempt gets it. */
function ctx(resumeFrom?: unknown): ProgressContext & { beats: unknown[] } {
  const beats: unknown[] = [];
  return { heartbeat: (d) => void beats.push(d), signal: new AbortController().signal, beats, ...(resumeFrom !== undefined ? { resumeFrom } : {}) };
}

function deployment(name: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: 3,
      progressDeadlineSeconds: 30,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: OLD }] } },
    },
  });
}

function job(jobName: string, image = NEW): MigrationJobInput {
  return { namespace: NS, jobName, image, command: ['node', 'dist/examples/user-management/src/migrate.js', '--no-input'], env: { LOG_LEVEL: 'info', DATABASE_URL: 'env:SHIPWATCH_TEST_MIGRATION_DATABASE_URL' }, timeoutMs: 60_000 };
}

/** Plays the kubelet for a Job: once its pod exists, writes its log and sets its exit code. */
async function kubeletFinishes(jobName: string, exitCode: number, lines: string[]): Promise<string> {
  const pod = await eventually(`the pod of job/${jobName}`, async () => {
    const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: `job-name=${jobName}` });
    return pods.items.find((p) => p.status?.phase === 'Running')?.metadata?.name;
  });
  await cluster.finishJobPod(NS, pod, exitCode, lines);
  return pod;
}

/** A KubeConfig for a ServiceAccount: a TokenRequest token, the admin config's server and CA. */
async function serviceAccountConfig(namespace: string, name: string): Promise<KubeConfig> {
  const token = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { expirationSeconds: 3600, audiences: [] } } });
  const admin = cluster.kc.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: admin.server, ...(admin.caData ? { caData: admin.caData } : {}), ...(admin.caFile ? { caFile: admin.caFile } : {}), skipTLSVerify: admin.skipTLSVerify }],
    users: [{ name, token: token.status!.token }],
    contexts: [{ name: 'sa', cluster: 'local', user: name }],
    currentContext: 'sa',
  });
  return kc;
}

beforeAll(async () => {
  process.env.SHIPWATCH_TEST_MIGRATION_DATABASE_URL = 'postgres://migrator:s3cret@127.0.0.1:5432/users';
  cluster = await startCluster('kube-jobs-rbac-test');
  durations.clusterUp = cluster.upMs;
  core = cluster.kc.makeApiClient(CoreV1Api);
  await cluster.kubectl('create', 'namespace', NS);
  await cluster.kubectl('create', 'namespace', 'shipwatch');
  await cluster.apply(RBAC);
}, 900_000);

afterAll(async () => {
  const t = Date.now();
  await cluster?.stop();
  durations.clusterDown = Date.now() - t;
  console.log(`kubernetes-jobs-rbac durations (ms): ${JSON.stringify(durations)}`);
}, 180_000);

describe('with only the permissions of deploy/rbac.yaml', () => {
  let k8s: KubernetesAdapter;
  beforeAll(async () => {
    k8s = createKubernetesAdapter(await serviceAccountConfig('shipwatch', 'shipwatch-worker'), { pollMs: 200 });
  });

  test('migration Job: success, with the applied migrations parsed from its log; a retry finds the same Job', async () => {
    const t = Date.now();
    const first = ctx();
    const [result, pod] = await Promise.all([k8s.runMigrationJob(job('user-management-migrate-v1-0-0'), first), kubeletFinishes('user-management-migrate-v1-0-0', 0, MIGRATE_OUTPUT)]);
    durations.migrationJob = Date.now() - t;
    expect(pod).toMatch(/^user-management-migrate-v1-0-0-/);
    expect(result).toMatchObject({ jobName: 'user-management-migrate-v1-0-0', succeeded: true, applied: ['0001_initial', '0002_roles', '0003_user_roles'] });
    expect(result.logTail).toContain('Applying users.0003_user_roles... OK');
    // The activity retried after a crash: the same Job, already complete, same answer, no second Job.
    const retry = ctx(JSON.parse(JSON.stringify(first.beats[first.beats.length - 1])));
    const again = await k8s.runMigrationJob(job('user-management-migrate-v1-0-0'), retry);
    expect(again.applied).toEqual(result.applied);
    // Its heartbeats are the union's migration shape and keep the first attempt's start (the Job's timeout spans attempts).
    for (const beat of [...first.beats, ...retry.beats]) expect(readHeartbeat(JSON.parse(JSON.stringify(beat)))).toEqual(beat);
    const startedAt = (first.beats[0] as MigrationHeartbeat).startedAt;
    expect(retry.beats).toContainEqual(expect.objectContaining({ kind: 'migration-job', phase: 'created', startedAt }));
    const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: 'job-name=user-management-migrate-v1-0-0' });
    expect(pods.items).toHaveLength(1);
    // The secret reference was resolved on the worker into a Secret the Job reads; the Job spec holds no value.
    const env = pods.items[0]!.spec!.containers[0]!.env!;
    expect(env.find((e) => e.name === 'LOG_LEVEL')).toEqual({ name: 'LOG_LEVEL', value: 'info' });
    expect(env.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toMatchObject({ name: 'user-management-migrate-v1-0-0-env', key: 'DATABASE_URL' });
    const secret = await core.readNamespacedSecret({ name: 'user-management-migrate-v1-0-0-env', namespace: NS });
    expect(Buffer.from(secret.data!.DATABASE_URL!, 'base64').toString()).toBe(process.env.SHIPWATCH_TEST_MIGRATION_DATABASE_URL);
  });

  test('migration Job: a failure is an outcome with its logs and the failing migration (the contract: migration-contract.test.ts)', async () => {
    const lines = ['Operations to perform:', '  Apply all migrations: users', 'Running migrations:', '  Applying users.0003_user_roles...', 'error: applying users.0003_user_roles failed: relation "roles" already exists'];
    const [outcome] = await Promise.all([k8s.runMigrationJob(job('user-management-migrate-v1-0-1'), ctx()), kubeletFinishes('user-management-migrate-v1-0-1', 1, lines)]);
    expect(outcome).toMatchObject({ succeeded: false, failed: 'users.0003_user_roles', applied: [] });
    expect(outcome.reason).toContain('job/user-management-migrate-v1-0-1');
    expect(outcome.logTail).toContain('relation "roles" already exists');
  });

  test('readTarget, stepped rollout, verify, log scan and rollback need nothing more', async () => {
    await cluster.apply(deployment('user-management'));
    await cluster.kubectl('-n', NS, 'rollout', 'status', 'deployment/user-management', '--timeout=90s');
    const target = { namespace: NS, deployment: 'user-management', container: 'app' };
    const before = await k8s.readTarget(target);
    expect(before).toMatchObject({ revision: 1, healthy: true });
    const step = (n: number): RolloutStepInput => ({ ...target, image: NEW, release: 'v1.0.0', targetNewPods: n, progressDeadlineMs: 20_000 });
    await k8s.rolloutStep(step(1), ctx());
    const done = await k8s.rolloutStep(step(3), ctx());
    expect(done.complete).toBe(true);
    // The Role lets the rollout watch (no "followed by polling" note).
    expect(done.events.filter((e) => e.key?.startsWith('bell:'))).toEqual([]);
    expect((await k8s.verifyPods({ ...target, image: NEW, maxRestarts: 0 })).ok).toBe(true);

    const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=user-management' });
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp && p.spec?.containers[0]?.image === NEW).map((p) => p.metadata!.name!);
    expect(live).toHaveLength(3);
    await cluster.writePodLog(NS, live[0]!, ['user-management v1.0.0 listening on :8080', 'GET /health 200']);
    await cluster.writePodLog(NS, live[1]!, ['user-management v1.0.0 listening on :8080', 'ERROR database connection refused']);
    await cluster.writePodLog(NS, live[2]!, ['user-management v1.0.0 listening on :8080']);
    const scan = await eventually('logs served', async () => {
      const s = await k8s.scanLogs({ ...target, image: NEW, patterns: ['ERROR', 'FATAL', 'panic'] });
      return s.errorLines.length ? s : undefined;
    });
    expect(scan).toEqual({ podsScanned: 3, errorLines: [{ pod: live[1], line: 'ERROR database connection refused' }] });

    const undone = await k8s.rollback({ ...target, toRevision: before.revision, expectedImage: OLD, progressDeadlineMs: 20_000 }, ctx());
    expect(undone.image).toBe(OLD);
    expect(undone.events.filter((e) => e.key?.startsWith('bell:'))).toEqual([]);
    expect((await k8s.verifyPods({ ...target, image: OLD, maxRestarts: 0 })).ok).toBe(true);
  });
});

test('a missing permission is a ForbiddenError naming verb, resource and namespace', async () => {
  // The same Role without "patch deployments", bound to another ServiceAccount.
  const docs = parseAllDocuments(RBAC).map((d) => d.toJSON() as { kind: string; metadata: { name: string }; rules?: { resources: string[]; verbs: string[] }[]; subjects?: { name: string }[]; roleRef?: { name: string } });
  const role = docs.find((d) => d.kind === 'Role')!;
  role.metadata.name = 'no-patch';
  role.rules = role.rules!.map((r) => (r.resources.includes('deployments') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r));
  const binding = docs.find((d) => d.kind === 'RoleBinding')!;
  binding.metadata.name = 'no-patch';
  binding.roleRef!.name = 'no-patch';
  binding.subjects![0]!.name = 'limited';
  const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'limited', namespace: 'shipwatch' } };
  await cluster.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [sa, role, binding] }));
  await cluster.apply(deployment('forbidden'));
  const k8s = createKubernetesAdapter(await serviceAccountConfig('shipwatch', 'limited'), { pollMs: 200 });
  const target = { namespace: NS, deployment: 'forbidden', container: 'app' };
  await expect(k8s.readTarget(target)).resolves.toMatchObject({ deployment: 'forbidden' });
  const err = await k8s.rolloutStep({ ...target, image: NEW, release: 'v1.0.0', targetNewPods: 3, progressDeadlineMs: 20_000 }, ctx()).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ForbiddenError);
  expect((err as Error).message).toContain('missing permission: patch deployments.apps in namespace production for system:serviceaccount:shipwatch:limited');
  expect((err as ForbiddenError).details).toMatchObject({ status: 403, permission: { verb: 'patch', resource: 'deployments', group: 'apps', namespace: NS } });
  // Without "watch", the rollout is followed by polling and says so.
  const fresh = parseAllDocuments(RBAC).map((d) => d.toJSON() as typeof role);
  const full = fresh.find((d) => d.kind === 'Role')!;
  const noWatch = { ...full, metadata: { ...full.metadata, name: 'no-watch' }, rules: full.rules!.map((r) => ({ ...r, verbs: r.verbs.filter((v) => v !== 'watch') })) };
  const noWatchBinding = { ...binding, metadata: { ...binding.metadata, name: 'no-watch' }, roleRef: { ...binding.roleRef!, name: 'no-watch' }, subjects: [{ ...binding.subjects![0]!, name: 'no-watch' }] };
  await cluster.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ ...sa, metadata: { ...sa.metadata, name: 'no-watch' } }, noWatch, noWatchBinding] }));
  const polling = createKubernetesAdapter(await serviceAccountConfig('shipwatch', 'no-watch'), { pollMs: 200 });
  await cluster.kubectl('-n', NS, 'rollout', 'status', 'deployment/forbidden', '--timeout=90s');
  const done = await polling.rolloutStep({ ...target, image: NEW, release: 'v1.0.0', targetNewPods: 3, progressDeadlineMs: 20_000 }, ctx());
  expect(done.complete).toBe(true);
  expect(done.events).toContainEqual(expect.objectContaining({ status: 'info', title: 'Rollout followed by polling, not watching', detail: expect.stringMatching(/^the watch of .* could not start \(HTTP 403 /) }));
  // And a namespace the Role does not cover at all.
  const elsewhere = await k8s.readTarget({ ...target, namespace: 'default' }).catch((e: unknown) => e);
  expect(elsewhere).toBeInstanceOf(ForbiddenError);
  expect((elsewhere as Error).message).toContain('missing permission: get deployments.apps in namespace default');
});
