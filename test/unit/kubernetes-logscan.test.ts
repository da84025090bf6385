/**
 * The log scan waits (bounded) for a new pod's log to exist instead of failing the deploy: the API
 * answers 400 "waiting to start" / "no logs" for a container whose log the kubelet has not written
 * yet. A log that never appears still fails, with the API's own words. Stubbed API clients.
 */
import { ApiException } from '@kubernetes/client-node';
import type { KubeClients } from '../../src/activities/kubernetes/api';
import { scanLogs } from '../../src/activities/kubernetes/pods';

const IMAGE = 'ghcr.io/org/user-management:v1.0.0';
const deployment = { metadata: { name: 'user-management', namespace: 'production', uid: 'u' }, spec: { selector: { matchLabels: { app: 'user-management' } }, template: { spec: { containers: [{ name: 'app', image: IMAGE }] } } } };
const pod = (name: string) => ({ metadata: { name }, spec: { containers: [{ name: 'app', image: IMAGE }] } });

function clients(logs: Record<string, (attempt: number) => string>): { c: KubeClients; attempts: Record<string, number> } {
  const attempts: Record<string, number> = {};
  const c = {
    apps: { readNamespacedDeployment: async () => deployment },
    core: {
      listNamespacedPod: async () => ({ items: Object.keys(logs).map(pod) }),
      readNamespacedPodLog: async ({ name }: { name: string }) => {
        attempts[name] = (attempts[name] ?? 0) + 1;
        return logs[name]!(attempts[name]);
      },
    },
  } as unknown as KubeClients;
  return { c, attempts };
}

const notYet = (name: string) => new ApiException(400, 'Bad Request', JSON.stringify({ kind: 'Status', message: `container "app" in pod "${name}" is waiting to start: ContainerCreating`, code: 400 }), {});

test("a pod whose log does not exist yet is read again until it does; the wait is in the result, the other pods' logs are scanned", async () => {
  const { c, attempts } = clients({
    'um-1': (n) => {
      if (n < 3) throw notYet('um-1');
      return 'started\nERROR: boom';
    },
    'um-2': () => 'started',
  });
  const result = await scanLogs(c, { namespace: 'production', deployment: 'user-management', container: 'app', image: IMAGE, patterns: ['ERROR'] });
  expect(attempts['um-1']).toBe(3);
  expect(result.podsScanned).toBe(2);
  expect(result.errorLines).toEqual([{ pod: 'um-1', line: 'ERROR: boom' }]);
  expect(result.waited?.map((w) => w.pod)).toEqual(['um-1']);
  expect(result.waited?.[0]?.why).toMatch(/waiting to start/);
});

test('any other refusal is not waited for: it fails at once, as before', async () => {
  const { c, attempts } = clients({
    'um-1': () => {
      throw new ApiException(403, 'Forbidden', JSON.stringify({ kind: 'Status', message: 'pods "um-1" is forbidden: User "x" cannot get resource "pods/log"', code: 403 }), {});
    },
  });
  await expect(scanLogs(c, { namespace: 'production', deployment: 'user-management', container: 'app', image: IMAGE, patterns: ['ERROR'] })).rejects.toThrow(/forbidden/);
  expect(attempts['um-1']).toBe(1);
});
