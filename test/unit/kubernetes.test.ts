/** The Kubernetes adapter's pure parts: migration log parsing, 403 parsing, error mapping, health sentences, pod checks, heartbeat details. */
import { ApiException } from '@kubernetes/client-node';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { deploymentProblems, parseAppliedMigrations, parseForbidden, STEPPED_ANNOTATION } from '../../src/activities/kubernetes';
import { KubernetesApiError, mapApiError } from '../../src/activities/kubernetes/api';
import { parseFailingMigration } from '../../src/activities/kubernetes/migrations';
import { checkPod } from '../../src/activities/kubernetes/pods';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../../src/activities/errors';
import { readHeartbeat } from '../../src/activities/heartbeat';
import type { WatchIdentity } from '../../src/activities/heartbeat';
import { createActivities } from '../../src/activities';
import type { KubeClients } from '../../src/activities/kubernetes/api';
import { RolloutRecorder } from '../../src/activities/kubernetes/recorder';
import type { Snapshot } from '../../src/activities/kubernetes/snapshot';
import { RolloutWatch } from '../../src/activities/kubernetes/watch';
import type { RolloutOptions } from '../../src/activities/kubernetes/watch';
import type { ProgressContext } from '../../src/activities/types';
import { createFakeDeps } from '../helpers/fakes';

const target = { namespace: 'production', deployment: 'user-management', container: 'app' };

test('parses the [X] lines after "Migrations applied:" (also in CRI log format)', () => {
  const log = ['Running migrations:', '  Applying users.0003_user_roles... OK', 'Migrations applied:', '  [X] 0001_initial', '  [X] 0002_roles', '  [ ] 0003_user_roles', 'done'].join('\n');
  expect(parseAppliedMigrations(log)).toEqual(['0001_initial', '0002_roles']);
  const cri = ['2025-11-15T10:05:00.1Z stdout F Migrations applied:', '2025-11-15T10:05:00.2Z stdout F   [X] 0001_initial'].join('\n');
  expect(parseAppliedMigrations(cri)).toEqual(['0001_initial']);
  expect(parseAppliedMigrations('error: applying users.0003_user_roles failed')).toEqual([]);
  expect(parseFailingMigration('Running migrations:\nerror: applying users.0005_unique_email failed: duplicate key')).toBe('users.0005_unique_email');
  expect(parseFailingMigration('  Applying users.0004_x... OK\n  Applying users.0005_y...\nerror: boom')).toBe('users.0005_y');
});

test('a 403 names the missing permission', () => {
  const message = 'deployments.apps "user-management" is forbidden: User "system:serviceaccount:shipwatch:w" cannot patch resource "deployments" in API group "apps" in the namespace "production"';
  expect(parseForbidden(message)).toEqual({ user: 'system:serviceaccount:shipwatch:w', verb: 'patch', resource: 'deployments', group: 'apps', namespace: 'production' });
  const err = mapApiError('patch deployment/user-management', new ApiException(403, 'Forbidden', JSON.stringify({ kind: 'Status', message }), {}));
  expect(err).toBeInstanceOf(ForbiddenError);
  expect(err.message).toContain('missing permission: patch deployments.apps in namespace production for system:serviceaccount:shipwatch:w');
});

test('status codes map to permanent or retryable errors', () => {
  const ex = (code: number) => new ApiException(code, 'x', JSON.stringify({ message: `m${code}` }), {});
  expect(mapApiError('w', ex(404))).toBeInstanceOf(NotFoundError);
  expect(mapApiError('w', ex(422))).toBeInstanceOf(InvalidInputError);
  expect(mapApiError('w', ex(401))).toBeInstanceOf(ForbiddenError);
  for (const code of [409, 429, 500, 503]) {
    const err = mapApiError('w', ex(code));
    expect(err).toBeInstanceOf(KubernetesApiError);
    expect(err.message).toBe(`cannot w: HTTP ${code}: m${code}`);
  }
  expect(mapApiError('w', new Error('socket hang up'))).toBeInstanceOf(KubernetesApiError);
});

function deployment(status: V1Deployment['status'], spec: Partial<NonNullable<V1Deployment['spec']>> = {}, annotations: Record<string, string> = {}): V1Deployment {
  return {
    metadata: { generation: 2, annotations },
    spec: { replicas: 3, selector: {}, template: { spec: { containers: [{ name: 'app', image: 'x:v1' }] } }, ...spec },
    status: { observedGeneration: 2, ...status },
  };
}

test('health: a rollout in progress is a problem, a held step is not', () => {
  const mid = { replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 1 };
  expect(deploymentProblems(deployment(mid), target)).toEqual(['1/3 pods updated (a rollout is in progress)']);
  expect(deploymentProblems(deployment(mid, { paused: true }, { [STEPPED_ANNOTATION]: '{}' }), target)).toEqual([]);
  expect(deploymentProblems(deployment(mid, { paused: true }), target)).toContain('deployment/user-management is paused');
  const failed = deployment({ replicas: 4, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x" has timed out progressing.' }] });
  expect(deploymentProblems(failed, target)).toContain('progress deadline exceeded: ReplicaSet "x" has timed out progressing.');
  expect(deploymentProblems(deployment({ replicas: 3, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 3 }), target)).toEqual(['2/3 pods ready', '2/3 pods available']);
});

test('pod check names what is wrong with a pod', () => {
  const pod: V1Pod = {
    metadata: { name: 'um-1' },
    spec: { containers: [{ name: 'app', image: 'x:v0.9.0' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'app', image: 'x:v0.9.0', imageID: '', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
  };
  expect(checkPod(pod, { ...target, image: 'x:v1.0.0', maxRestarts: 2 }).problem).toBe('runs x:v0.9.0, expected x:v1.0.0; not Ready (CrashLoopBackOff); restarted 4 times (max 2)');
});

describe('heartbeat details: the rollout watch writes them, a retried attempt reads the same shape back', () => {
  const signal = new AbortController().signal;
  const options: RolloutOptions = { pollMs: 500, maxCrashRestarts: 5, maxFailedPods: 3, objects: {} as RolloutOptions['objects'] };
  const input = { ...target, progressDeadlineMs: 20_000 };

  function written(identity: WatchIdentity, write: (watch: RolloutWatch) => void): unknown[] {
    const beats: unknown[] = [];
    const ctx: ProgressContext = { heartbeat: (d) => void beats.push(d), signal };
    const recorder = new RolloutRecorder({ release: 'v1.0.0', direction: 'forward' });
    write(new RolloutWatch({ clients: {} as KubeClients, options, input, ctx, recorder, identity, what: 'test' }));
    return beats;
  }

  /** What Temporal stores and hands back: the details as JSON. */
  const wire = (details: unknown): unknown => JSON.parse(JSON.stringify(details));

  const step = written({ kind: 'rollout-step', release: 'v1.0.0', targetNewPods: 2 }, (w) => {
    w.beat('applied');
    w.beat('held', { newReady: 2, oldReady: 1 } as Snapshot);
  });
  const undo = written({ kind: 'rollback', toRevision: 4 }, (w) => w.beat('watching', { newReady: 1, oldReady: 2 } as Snapshot));

  test('each written shape reads back equal, with its kind', () => {
    expect(step).toEqual([
      { kind: 'rollout-step', release: 'v1.0.0', targetNewPods: 2, phase: 'applied', newReady: 0, oldReady: 0 },
      { kind: 'rollout-step', release: 'v1.0.0', targetNewPods: 2, phase: 'held', newReady: 2, oldReady: 1 },
    ]);
    expect(undo).toEqual([{ kind: 'rollback', toRevision: 4, phase: 'watching', newReady: 1, oldReady: 2 }]);
    for (const beat of [...step, ...undo]) expect(readHeartbeat(wire(beat))).toEqual(beat);
  });

  test('the activity hands the last heartbeat of the previous attempt to the port as resumeFrom', async () => {
    const world = createFakeDeps();
    const activities = createActivities(world.deps);
    const probe = { url: 'http://127.0.0.1:1/healthz', intervalMs: 1_000 };
    const stepInput = { ...input, image: 'ghcr.io/org/user-management:v1.0.0', release: 'v1.0.0', targetNewPods: 2 };
    await new MockActivityEnvironment({ heartbeatDetails: wire(step[1]) }).run(() => activities.rolloutStep({ step: stepInput, probe }));
    const rollbackInput = { ...input, toRevision: 4, expectedImage: 'ghcr.io/org/user-management:v0.9.0' };
    await new MockActivityEnvironment({ heartbeatDetails: wire(undo[0]) }).run(() => activities.rollbackDeployment({ rollback: rollbackInput, probe }));
    expect(world.calls.find((c) => c.op === 'rolloutStep')?.resumeFrom).toEqual(step[1]);
    expect(world.calls.find((c) => c.op === 'rollback')?.resumeFrom).toEqual(undo[0]);
  });

  test('the fakes write the same shapes as the adapter', async () => {
    const world = createFakeDeps();
    const beats: unknown[] = [];
    const ctx: ProgressContext = { heartbeat: (d) => void beats.push(d), signal };
    await world.deps.kubernetes.rolloutStep({ ...input, image: 'x:v1.0.0', release: 'v1.0.0', targetNewPods: 1 }, ctx);
    await world.deps.kubernetes.rollback({ ...input, toRevision: 4, expectedImage: 'x:v0.9.0' }, ctx);
    await world.deps.kubernetes.runMigrationJob({ namespace: 'production', jobName: 'migrate-1', image: 'x:v1.0.0', command: ['migrate'], env: {}, timeoutMs: 1_000 }, ctx);
    expect(beats.map((b) => readHeartbeat(wire(b))?.kind)).toEqual(['rollout-step', 'rollback', 'migration-job']);
    for (const beat of beats) expect(readHeartbeat(wire(beat))).toEqual(beat);
  });

  test('anything else is not resumed from; a migration heartbeat from before `kind` still is', () => {
    expect(readHeartbeat({ kind: 'rollout-step', phase: 'watching' })).toBeUndefined();
    expect(readHeartbeat({ kind: 'rollout-step', release: 'v1', targetNewPods: 1, phase: 'sleeping', newReady: 0, oldReady: 0 })).toBeUndefined();
    expect(readHeartbeat({ step: 1, of: 3 })).toBeUndefined();
    expect(readHeartbeat('applied')).toBeUndefined();
    expect(readHeartbeat(undefined)).toBeUndefined();
    expect(readHeartbeat({ jobName: 'migrate-1', startedAt: '2026-11-30T19:00:00.000Z', phase: 'waiting', active: 1 })).toEqual({
      kind: 'migration-job',
      jobName: 'migrate-1',
      startedAt: '2026-11-30T19:00:00.000Z',
      phase: 'waiting',
      active: 1,
    });
  });
});
