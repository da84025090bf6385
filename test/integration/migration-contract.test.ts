/**
 * The migration Job contract: the same cases against the workflow tests' fake (test/helpers/fakes.ts)
 * and the real Kubernetes adapter on a local control plane (kwok plays the kubelet), so the branch
 * the workflow tests cover is the one production takes. A Job that ran and failed is an outcome
 * (`succeeded: false`, what it applied, the failing migration, the log tail), never a throw; a Job
 * under the same name from another deployment is never adopted.
 */
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { createKubernetesAdapter } from '../../src/activities/kubernetes';
import type { KubernetesAdapter } from '../../src/activities/kubernetes';
import { MigrationFailedError } from '../../src/activities/errors';
import type { KubernetesPort, MigrationJobInput, ProgressContext } from '../../src/activities/types';
import type { MigrationResult } from '../../src/model';
import { createFakeDeps } from '../helpers/fakes';
import { eventually, startCluster } from '../helpers/cluster';
import type { TestCluster } from '../helpers/cluster';

jest.setTimeout(180_000);

const NS = 'production';
const NEW = 'ghcr.io/org/user-management:v1.0.0';
const RUN_A = '019ad5c2-7c1e-7a10-8f00-3e1b2c4d5e6f';
const RUN_B = '019ad5c2-7c1e-7b22-9a11-aa55cc77ee99';

/** The cases: what the Job prints and how it exits, and the outcome both sides must give. */
const CASES = [
  {
    name: 'a Job that succeeds: the applied list',
    exitCode: 0,
    lines: ['Running migrations:', '  Applying users.0001_initial... OK', 'Migrations applied:', '  [X] 0001_initial', '  [X] 0002_roles', '  [X] 0003_user_roles'],
    fake: {},
    expected: { succeeded: true, applied: ['0001_initial', '0002_roles', '0003_user_roles'] },
  },
  {
    name: 'a Job that fails half-way: succeeded false, what it applied first, the failing migration, the log tail',
    exitCode: 1,
    lines: ['Running migrations:', '  Applying users.0001_initial... OK', '  Applying users.0002_roles... OK', '  Applying users.0003_user_roles...', 'error: relation "roles" already exists'],
    fake: { migrationFails: true },
    expected: { succeeded: false, applied: ['users.0001_initial', 'users.0002_roles'], failed: 'users.0003_user_roles' },
  },
] as const;

function job(jobName: string, runId: string, image = NEW): MigrationJobInput {
  return { namespace: NS, jobName, runId, image, command: ['migrate'], env: {}, timeoutMs: 60_000 };
}

function ctx(): ProgressContext {
  return { heartbeat: () => undefined, signal: new AbortController().signal };
}

/** The parts of the outcome the contract fixes (durations and log wording are each side's). */
function contractOf(r: MigrationResult) {
  return { succeeded: r.succeeded, applied: r.applied, ...(r.failed ? { failed: r.failed } : {}) };
}

describe('the fake', () => {
  const port = (fake: object): KubernetesPort => createFakeDeps(fake).deps.kubernetes;

  test.each(CASES)('$name', async (c) => {
    const result = await port(c.fake).runMigrationJob(job(`um-migrate-${c.exitCode}`, RUN_A), ctx());
    expect(contractOf(result)).toEqual(c.expected);
    if (!c.expected.succeeded) expect(result.logTail).toContain('relation "roles" already exists');
  });

  test("another deployment's Job under the same name is not adopted", async () => {
    const k = port({});
    await k.runMigrationJob(job('um-migrate-shared', RUN_A), ctx());
    await expect(k.runMigrationJob(job('um-migrate-shared', RUN_B), ctx())).rejects.toBeInstanceOf(MigrationFailedError);
  });
});

describe('the real adapter on a local control plane', () => {
  let cluster: TestCluster;
  let core: CoreV1Api;
  let k8s: KubernetesAdapter;
  beforeAll(async () => {
    cluster = await startCluster('migration-contract-test');
    core = cluster.kc.makeApiClient(CoreV1Api);
    await cluster.kubectl('create', 'namespace', NS);
    k8s = createKubernetesAdapter(cluster.kc, { pollMs: 200 });
  }, 900_000);
  let stopMs = 0;
  afterAll(async () => {
    console.log(`migration Job stopped and gone in ${stopMs} ms`);
    await cluster?.stop();
  }, 180_000);

  /** Plays the kubelet for a Job: once its pod runs, writes its log and sets its exit code. */
  async function kubeletFinishes(jobName: string, exitCode: number, lines: readonly string[]): Promise<void> {
    const pod = await eventually(`the pod of job/${jobName}`, async () => {
      const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: `job-name=${jobName}` });
      return pods.items.find((p) => p.status?.phase === 'Running')?.metadata?.name;
    });
    await cluster.finishJobPod(NS, pod, exitCode, [...lines]);
  }

  test.each(CASES)('$name', async (c) => {
    const name = `um-migrate-${c.exitCode}`;
    const [result] = await Promise.all([k8s.runMigrationJob(job(name, RUN_A), ctx()), kubeletFinishes(name, c.exitCode, c.lines)]);
    expect(contractOf(result)).toEqual(c.expected);
    if (!c.expected.succeeded) {
      expect(result.logTail).toContain('relation "roles" already exists');
      expect(result.reason).toContain(`job/${name}`);
    }
  });

  test('a cancelled wait (a rollback requested meanwhile) stops the Job: deleted with its pods, gone before the call ends', async () => {
    const name = 'um-migrate-slow';
    const abort = new AbortController();
    const call = k8s.runMigrationJob(job(name, RUN_A), { heartbeat: () => undefined, signal: abort.signal }).then(
      () => 'returned',
      (err: unknown) => err,
    );
    await eventually(`the pod of job/${name} running`, async () => {
      const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: `job-name=${name}` });
      return pods.items.some((p) => p.status?.phase === 'Running') || undefined;
    });
    const t = Date.now();
    abort.abort(new Error('rollback requested'));
    const outcome = await call;
    stopMs = Date.now() - t;
    expect((outcome as Error).message).toBe('rollback requested');
    const batch = cluster.kc.makeApiClient(BatchV1Api);
    const gone = await batch.readNamespacedJob({ name, namespace: NS }).then(() => false, () => true);
    expect(gone).toBe(true);
    expect((await core.listNamespacedPod({ namespace: NS, labelSelector: `job-name=${name}` })).items).toEqual([]);
  });

  test("another deployment's Job under the same name is not adopted; this deployment's is", async () => {
    const name = 'um-migrate-shared';
    await Promise.all([k8s.runMigrationJob(job(name, RUN_A), ctx()), kubeletFinishes(name, 0, CASES[0].lines)]);
    const again = await k8s.runMigrationJob(job(name, RUN_A), ctx());
    expect(again.succeeded).toBe(true);
    const foreign = await k8s.runMigrationJob(job(name, RUN_B), ctx()).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(MigrationFailedError);
    expect((foreign as Error).message).toContain(`shipwatch.dev/run-id label is ${RUN_A}, this deployment is ${RUN_B}`);
    const otherImage = await k8s.runMigrationJob(job(name, RUN_A, 'ghcr.io/org/user-management:v1.0.1'), ctx()).catch((e: unknown) => e);
    expect((otherImage as Error).message).toContain('it runs ghcr.io/org/user-management:v1.0.0, this deployment ghcr.io/org/user-management:v1.0.1');
  });
});
