/**
 * The worker's kustomize base (deploy/kubernetes/, `kubectl apply -k`) on the local apiserver:
 * the rendered objects have the shape docs/production.md promises, the apiserver accepts them in a
 * server-side dry run, and once applied the worker's ServiceAccount can do exactly what the
 * Kubernetes adapter needs in the target namespace (`kubectl auth can-i --as=…` per verb) and
 * none of a few things it must not.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startCluster } from '../helpers/cluster';
import type { TestCluster } from '../helpers/cluster';

jest.setTimeout(300_000);

const REPO = join(__dirname, '..', '..');
const BASE = join(REPO, 'deploy', 'kubernetes');
const SA = 'system:serviceaccount:shipwatch:shipwatch-worker';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}
interface Container {
  image: string;
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
  resources: { requests: Record<string, string> };
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }[];
  volumeMounts: { name: string; mountPath: string }[];
}

let cluster: TestCluster;
let objects: Obj[];

const find = (kind: string, name?: string): Obj => {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''} in the rendered base`);
  return o;
};

/** `kubectl auth can-i` as the worker's ServiceAccount: "yes" or "no" (it exits 1 on no). */
async function canI(verb: string, resource: string, namespace: string, subresource?: string): Promise<string> {
  const args = ['auth', 'can-i', verb, resource, '-n', namespace, `--as=${SA}`, ...(subresource ? [`--subresource=${subresource}`] : [])];
  return new Promise((resolve, reject) =>
    execFile(cluster.env.KUBECTL!, ['--kubeconfig', cluster.kubeconfigPath, ...args], (err, stdout, stderr) => {
      const answer = stdout.trim();
      if (answer === 'yes' || answer === 'no') resolve(answer);
      else reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err?.message}`));
    }),
  );
}

beforeAll(async () => {
  cluster = await startCluster('kustomize-test');
  objects = parseAllDocuments(await cluster.kubectl('kustomize', BASE)).map((d) => d.toJSON() as Obj);
});

afterAll(async () => {
  await cluster?.stop();
});

test('deploy/kubernetes/rbac.yaml is deploy/rbac.yaml (kustomize cannot reach files above its directory)', () => {
  expect(readFileSync(join(BASE, 'rbac.yaml'), 'utf8')).toBe(readFileSync(join(REPO, 'deploy', 'rbac.yaml'), 'utf8'));
});

test('the base renders the worker as promised: 2 replicas, probes, requests, non-root, read-only root, backups, settings from a ConfigMap and Secrets', () => {
  const deployment = find('Deployment', 'shipwatch-worker');
  const spec = deployment.spec as {
    replicas: number;
    template: { spec: { serviceAccountName: string; securityContext: { runAsNonRoot: boolean }; containers: Container[]; volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] } };
  };
  expect(spec.replicas).toBe(2);
  const pod = spec.template.spec;
  expect(pod.serviceAccountName).toBe('shipwatch-worker');
  expect(pod.securityContext.runAsNonRoot).toBe(true);
  const c = pod.containers[0]!;
  expect(c.readinessProbe.httpGet.path).toBe('/readyz');
  expect(c.livenessProbe.httpGet.path).toBe('/healthz');
  expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
  expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  const configMap = find('ConfigMap');
  expect(configMap.metadata.name).toMatch(/^shipwatch-temporal-/); // hashed: a settings change rolls the workers
  expect(c.envFrom).toEqual(
    expect.arrayContaining([{ configMapRef: { name: configMap.metadata.name } }, { secretRef: { name: 'shipwatch-temporal', optional: true } }]),
  );
  expect((configMap as unknown as { data: Record<string, string> }).data).toMatchObject({ TEMPORAL_ADDRESS: expect.any(String), TEMPORAL_NAMESPACE: 'default' });
  expect(c.volumeMounts.map((m) => m.mountPath)).toEqual(expect.arrayContaining(['/var/lib/shipwatch/backups', '/tmp', '/etc/shipwatch/temporal-tls']));
  expect(pod.volumes.find((v) => v.name === 'backups')?.persistentVolumeClaim?.claimName).toBe('shipwatch-backups');
  expect(find('PodDisruptionBudget').spec).toMatchObject({ minAvailable: 1 });
  expect(find('Service', 'shipwatch-worker-metrics').spec).toMatchObject({ ports: [{ name: 'metrics', port: 9464 }] });
  expect(find('ServiceMonitor').spec).toMatchObject({ endpoints: [{ port: 'metrics', path: '/metrics' }] });
  expect(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
});

test('the apiserver accepts the base in a server-side dry run, then applied, the worker may do exactly what the adapter needs', async () => {
  await cluster.kubectl('create', 'namespace', 'production');
  await cluster.kubectl('apply', '-f', join(REPO, 'deploy', 'crds', 'servicemonitor.yaml'));
  await cluster.kubectl('wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com', '--timeout=60s');
  // A dry run cannot create the namespace its other objects go into: it exists first, as it
  // would after a first apply.
  await cluster.kubectl('apply', '-f', join(BASE, 'namespace.yaml'));
  const dry = await cluster.kubectl('apply', '-k', BASE, '--server-side', '--dry-run=server');
  for (const o of objects) expect(dry).toContain(`/${o.metadata.name} serverside-applied (server dry run)`);
  expect(await cluster.kubectl('-n', 'shipwatch', 'get', 'deployments,serviceaccounts,servicemonitors', '-o', 'name')).not.toMatch(/shipwatch-worker/);

  await cluster.kubectl('apply', '-k', BASE, '--server-side');
  const role = find('Role', 'shipwatch-deployer');
  const needed = role.rules!.flatMap((r) => r.resources.flatMap((res) => r.verbs.map((verb) => ({ verb, res, group: r.apiGroups[0]! }))));
  expect(needed.length).toBeGreaterThanOrEqual(12);
  for (const { verb, res, group } of needed) {
    const [resource, sub] = res.split('/') as [string, string | undefined];
    const qualified = group ? `${resource}.${group}` : resource;
    expect(`${verb} ${res}: ${await canI(verb, qualified, 'production', sub)}`).toBe(`${verb} ${res}: yes`);
  }
  const forbidden: [string, string, string][] = [
    ['get', 'secrets', 'production'], // it creates the migration Job's secret, never reads one
    ['list', 'secrets', 'production'],
    ['delete', 'deployments.apps', 'production'],
    ['create', 'deployments.apps', 'production'],
    ['delete', 'pods', 'production'],
    ['create', 'rolebindings.rbac.authorization.k8s.io', 'production'],
    ['patch', 'deployments.apps', 'kube-system'],
    ['list', 'pods', 'default'],
    ['list', 'namespaces', ''],
    ['get', 'nodes', ''],
  ];
  for (const [verb, resource, namespace] of forbidden) {
    const args = namespace ? [verb, resource, namespace] : [verb, resource, 'production'];
    expect(`${verb} ${resource} in ${namespace || 'the cluster'}: ${await canI(args[0]!, args[1]!, args[2]!)}`).toBe(
      `${verb} ${resource} in ${namespace || 'the cluster'}: no`,
    );
  }
});
