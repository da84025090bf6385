/** The Kubernetes adapter's pure parts: migration log parsing, 403 parsing, error mapping, health sentences, pod checks. */
import { ApiException } from '@kubernetes/client-node';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { deploymentProblems, parseAppliedMigrations, parseForbidden, STEPPED_ANNOTATION } from '../../src/activities/kubernetes';
import { KubernetesApiError, mapApiError } from '../../src/activities/kubernetes/api';
import { checkPod } from '../../src/activities/kubernetes/pods';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../../src/activities/errors';

const target = { namespace: 'production', deployment: 'user-management', container: 'app' };

test('parses the [X] lines after "Migrations applied:" (also in CRI log format)', () => {
  const log = ['Running migrations:', '  Applying users.0003_user_roles... OK', 'Migrations applied:', '  [X] 0001_initial', '  [X] 0002_roles', '  [ ] 0003_user_roles', 'done'].join('\n');
  expect(parseAppliedMigrations(log)).toEqual(['0001_initial', '0002_roles']);
  const cri = ['2025-11-15T10:05:00.1Z stdout F Migrations applied:', '2025-11-15T10:05:00.2Z stdout F   [X] 0001_initial'].join('\n');
  expect(parseAppliedMigrations(cri)).toEqual(['0001_initial']);
  expect(parseAppliedMigrations('error: applying users.0003_user_roles failed')).toEqual([]);
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
