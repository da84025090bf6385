/**
 * `applyMonitoring` (`shipwatch monitoring render --apply`) against a real kube-apiserver on etcd
 * (built by tools/build-kube.sh): a clear error naming the missing CRDs, then, with deploy/crds/
 * installed, the ServiceMonitor and PrometheusRule created and, on a second apply, updated.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { request } from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { MissingCrdError, applyMonitoring } from '../../src/commands/monitoring';
import { freePort } from '../helpers/ports';

jest.setTimeout(600_000);

const ROOT = join(__dirname, '../..');
let dir: string;
let kubeconfig: string;
let apiPort: number;
const TOKEN = 'shipwatch-test-token';

/**
 * POSTs a manifest as written. The typed client would drop the CRD schema's
 * x-kubernetes-preserve-unknown-fields (its serializer only knows camel-cased property names).
 */
function postRaw(path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: apiPort, path, method: 'POST', rejectUnauthorized: false, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
const children: ChildProcess[] = [];

/** The control plane's binaries: SHIPWATCH_KUBE_BIN_DIR/SHIPWATCH_ETCD_BIN_DIR, or tools/build-kube.sh's cache. */
function binDirs(): { kube: string; etcd: string } {
  const { SHIPWATCH_KUBE_BIN_DIR: kube, SHIPWATCH_ETCD_BIN_DIR: etcd } = process.env;
  if (kube && etcd) return { kube, etcd };
  const out = execFileSync('bash', [join(ROOT, 'tools/build-kube.sh'), '--print-paths'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const paths = Object.fromEntries(out.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
  return { kube: paths.KUBE_BIN_DIR!, etcd: paths.ETCD_BIN_DIR! };
}

function start(bin: string, args: string[]): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(child);
  return child;
}

async function waitFor(what: string, fn: () => Promise<unknown>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fn();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} not ready: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const specYaml = `
service: user-management
namespace: production
release: v1.0.0
image: ghcr.io/org/user-management:v1.0.0
kubernetes: { deployment: user-management, container: app }
serviceUrl: http://user-management.production:8080
`;

beforeAll(async () => {
  const bins = binDirs();
  dir = await mkdtemp(join(tmpdir(), 'shipwatch-apply-'));
  const [etcdClient, etcdPeer] = [await freePort(), await freePort()];
  apiPort = await freePort();
  start(join(bins.etcd, 'etcd'), [
    '--name=default',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
  ]);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(join(dir, 'tokens.csv'), `${TOKEN},admin,admin,system:masters\n`);
  start(join(bins.kube, 'kube-apiserver'), [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=AlwaysAllow',
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/24',
  ]);
  kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{ name: local, cluster: { server: "https://127.0.0.1:${apiPort}", insecure-skip-tls-verify: true } }]
users: [{ name: admin, user: { token: ${TOKEN} } }]
contexts: [{ name: local, context: { cluster: local, user: admin } }]
current-context: local
`,
  );
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor('kube-apiserver', () => core.readNamespace({ name: 'default' }));
  await core.createNamespace({ body: { metadata: { name: 'production' } } });
  await writeFile(join(dir, 'deploy.yaml'), specYaml);
});

afterAll(async () => {
  for (const child of children.reverse()) {
    if (child.exitCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('without the Prometheus Operator CRDs: a clear error naming them, nothing applied', async () => {
  const error = await applyMonitoring({ specFile: join(dir, 'deploy.yaml'), kubeconfig }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MissingCrdError);
  expect((error as MissingCrdError).missing).toEqual(['servicemonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com']);
  expect((error as Error).message).toMatch(/no servicemonitors\.monitoring\.coreos\.com and prometheusrules\.monitoring\.coreos\.com CustomResourceDefinitions.*Nothing was applied/s);
});

test('with the CRDs installed: created, then updated, as the spec says', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  for (const file of ['servicemonitor.yaml', 'prometheusrule.yaml']) {
    const crd = parse(await readFile(join(ROOT, 'deploy/crds', file), 'utf8')) as V1CustomResourceDefinition;
    expect(await postRaw('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).toBe(201);
    await waitFor(`CRD ${crd.metadata!.name}`, async () => {
      const got = await ext.readCustomResourceDefinition({ name: crd.metadata!.name! });
      if (!got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) throw new Error('not established');
    });
  }
  const specFile = join(dir, 'deploy.yaml');
  // Discovery of freshly established CRDs can lag a moment behind the Established condition.
  let first: Awaited<ReturnType<typeof applyMonitoring>> | undefined;
  await waitFor('first apply', async () => {
    first = await applyMonitoring({ specFile, kubeconfig });
  }, 30_000);
  expect(first!.applied.map((a) => [a.kind, a.namespace, a.name, a.action])).toEqual([
    ['ServiceMonitor', 'production', 'user-management', 'created'],
    ['PrometheusRule', 'production', 'user-management-alerts', 'created'],
  ]);

  const custom = kc.makeApiClient(CustomObjectsApi);
  const monitor = (await custom.getNamespacedCustomObject({
    group: 'monitoring.coreos.com',
    version: 'v1',
    namespace: 'production',
    plural: 'servicemonitors',
    name: 'user-management',
  })) as { spec: { endpoints: { port: string; interval: string }[] } };
  expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'metrics', interval: '30s' });

  await writeFile(specFile, `${specYaml}watch: { interval: 15s }\n`);
  const second = await applyMonitoring({ specFile, kubeconfig });
  expect(second.applied.map((a) => a.action)).toEqual(['updated', 'updated']);
  const rule = (await custom.getNamespacedCustomObject({
    group: 'monitoring.coreos.com',
    version: 'v1',
    namespace: 'production',
    plural: 'prometheusrules',
    name: 'user-management-alerts',
  })) as { spec: { groups: { interval: string; rules: { alert: string }[] }[] } };
  expect(rule.spec.groups[0]!.interval).toBe('15s');
  expect(rule.spec.groups[0]!.rules.map((r) => r.alert)).toEqual(['HighErrorRate', 'HighResponseTime', 'PodDown', 'HighMemoryUsage']);
});
