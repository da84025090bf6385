/**
 * The adapter waits for what the step after a rollout or a rollback needs, on a real local control
 * plane (kube-apiserver, controller-manager with its endpoints controller, kwok's pods): when the
 * last step or the undo returns, the Service routes to the pods of the release it left running
 * and to no other, and the wait is an event the timeline shows.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { createKubernetesAdapter } from '../../src/activities/kubernetes';
import type { ProgressContext } from '../../src/activities/types';
import { startCluster } from '../helpers/cluster';
import type { TestCluster } from '../helpers/cluster';

jest.setTimeout(180_000);

const NS = 'production';
const OLD = 'ghcr.io/org/user-management:v0.9.0';
const NEW = 'ghcr.io/org/user-management:v1.0.0';
let cluster: TestCluster;
let core: CoreV1Api;

const ctx = (): ProgressContext => ({ heartbeat: () => undefined, signal: new AbortController().signal });

function manifests(name: string, image: string, service: boolean): string[] {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, labels: { app: name } },
    spec: {
      replicas: 3,
      progressDeadlineSeconds: 30,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080 }] }] } },
    },
  };
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { selector: { app: name }, ports: [{ port: 8080, targetPort: 8080 }] } };
  return [JSON.stringify(deployment), ...(service ? [JSON.stringify(svc)] : [])];
}

/** Images of the pods the Service's Endpoints list as ready. */
async function endpointImages(name: string): Promise<string[]> {
  const ep = await core.readNamespacedEndpoints({ name, namespace: NS });
  const names = (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.targetRef?.name ?? ''));
  const images: string[] = [];
  for (const pod of names) images.push((await core.readNamespacedPod({ name: pod, namespace: NS })).spec!.containers[0]!.image!);
  return images;
}

beforeAll(async () => {
  cluster = await startCluster('kube-endpoints-test');
  core = cluster.kc.makeApiClient(CoreV1Api);
  await cluster.kubectl('create', 'namespace', NS);
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
}, 180_000);

test('the last rollout step and the undo return once the Service routes to their pods only, and say so on the timeline', async () => {
  const name = 'ep-service';
  for (const m of manifests(name, OLD, true)) await cluster.apply(m);
  await cluster.kubectl('-n', NS, 'rollout', 'status', `deployment/${name}`, '--timeout=90s');
  const k8s = createKubernetesAdapter(cluster.kc, { pollMs: 200 });
  const before = await k8s.readTarget({ namespace: NS, deployment: name, container: 'app' });

  const rolled = await k8s.rolloutStep({ namespace: NS, deployment: name, container: 'app', image: NEW, release: 'v1.0.0', targetNewPods: 3, progressDeadlineMs: 30_000 }, ctx());
  expect(rolled.complete).toBe(true);
  expect(rolled.events.map((e) => e.title)).toContain(`Service ${name}: 3 ready endpoint(s), all on v1.0.0`);
  expect(await endpointImages(name)).toEqual([NEW, NEW, NEW]);

  const undone = await k8s.rollback({ namespace: NS, deployment: name, container: 'app', toRevision: before.revision, expectedImage: OLD, progressDeadlineMs: 30_000 }, ctx());
  expect(undone.events.map((e) => e.title)).toContain(`Service ${name}: 3 ready endpoint(s), all on v0.9.0`);
  expect(await endpointImages(name)).toEqual([OLD, OLD, OLD]);
});

test('pods no Service selects: nothing to wait for, no event', async () => {
  const name = 'ep-no-service';
  for (const m of manifests(name, OLD, false)) await cluster.apply(m);
  await cluster.kubectl('-n', NS, 'rollout', 'status', `deployment/${name}`, '--timeout=90s');
  const k8s = createKubernetesAdapter(cluster.kc, { pollMs: 200 });
  const rolled = await k8s.rolloutStep({ namespace: NS, deployment: name, container: 'app', image: NEW, release: 'v1.0.0', targetNewPods: 3, progressDeadlineMs: 30_000 }, ctx());
  expect(rolled.events.filter((e) => e.key?.startsWith('endpoints:'))).toEqual([]);
});
