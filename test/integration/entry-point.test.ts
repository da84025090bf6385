/**
 * The public entry point check against a real API server (kube-apiserver via tools/cluster.sh) and
 * the local ingress controller (tools/local/ingress.ts): the route is read from the cluster, and
 * the health request crosses the proxy with the public Host header to whichever local service the
 * route names. A right route to the new release passes; a route to another Service, no rule for
 * the host, no object at all, or a route to a process of the old release fails saying what it found.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { request } from 'undici';
import { clusterRouteReader, createEntryPointChecker } from '../../src/activities/entry-point';
import type { EntryPointInput, EntryPointPort } from '../../src/activities/types';
import { startIngressProxy } from '../../tools/local/ingress';
import type { IngressProxy } from '../../tools/local/ingress';
import { startCluster } from '../helpers/cluster';
import type { TestCluster } from '../helpers/cluster';

jest.setTimeout(300_000);

const NS = 'production';
const HOST = 'users.example.test';
let cluster: TestCluster;
let proxy: IngressProxy;
let checker: EntryPointPort;
const servers: Server[] = [];

/** A stand-in for a Service: answers /health with the release it runs. */
async function service(version: string): Promise<string> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', version, host: req.headers.host }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

function ingress(name: string, host: string, serviceName: string, port = 8080): string {
  return JSON.stringify({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS },
    spec: { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: serviceName, port: { number: port } } } }] } }] },
  });
}

const HTTPROUTE_CRD = JSON.stringify({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  // The annotation the real Gateway API CRDs carry (*.k8s.io groups need it).
  metadata: { name: 'httproutes.gateway.networking.k8s.io', annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/1538' } },
  spec: {
    group: 'gateway.networking.k8s.io',
    names: { kind: 'HTTPRoute', listKind: 'HTTPRouteList', plural: 'httproutes', singular: 'httproute' },
    scope: 'Namespaced',
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});

const input = (over: Partial<EntryPointInput['entryPoint']> = {}): EntryPointInput => ({
  release: 'v1.0.0',
  entryPoint: {
    kind: 'Ingress',
    name: 'user-management',
    namespace: NS,
    host: HOST,
    path: '/',
    service: 'user-management',
    port: 8080,
    url: proxy.url,
    releaseField: 'version',
    healthStep: { name: 'Health endpoint', method: 'GET', path: '/health', headers: {}, expect: { status: 200, json: { status: 'ok' } }, capture: {} },
    ...over,
  },
});
const check = (i: EntryPointInput) => checker.check(i, new AbortController().signal);

beforeAll(async () => {
  cluster = await startCluster('launch-entry-point');
  await cluster.kubectl('create', 'namespace', NS);
  proxy = await startIngressProxy({
    kubeconfigPath: cluster.kubeconfigPath,
    services: { 'user-management.production:8080': await service('v1.0.0'), 'audit-log.production': await service('audit-log v2.1.0') },
  });
  checker = createEntryPointChecker({ readRoute: clusterRouteReader(cluster.kc), stepTimeoutMs: 5_000 });
});
afterAll(async () => {
  await proxy?.stop();
  for (const s of servers) s.close();
  await cluster?.stop();
});

test('an Ingress routing the public host to the Service: passes, the health step answered through the proxy as the new release', async () => {
  await cluster.apply(ingress('user-management', HOST, 'user-management'));
  const result = await check(input());
  expect(result).toEqual({
    status: 'passed',
    found: `Ingress production/user-management routes ${HOST}/ (host ${HOST}, Prefix /) to Service user-management:8080`,
    request: expect.stringMatching(new RegExp(`^GET ${proxy.url}/health with Host: ${HOST} → 200 in \\d+ms$`)),
    detail: `${HOST}/ routes to Service user-management; Health endpoint answered as v1.0.0 (version)`,
  });
});

test('the route sends the host to another Service: failed, naming the Service it found', async () => {
  await cluster.apply(ingress('user-management', HOST, 'audit-log', 8080));
  const result = await check(input());
  expect(result.status).toBe('failed');
  expect(result.detail).toBe(`Ingress production/user-management routes ${HOST}/ to Service audit-log:8080, not Service user-management:8080`);
  expect(result.found).toContain('to Service audit-log:8080');
  // The proxy really sends the host there: the other service answers.
  const res = await request(`${proxy.url}/health`, { headers: { host: HOST } });
  expect(((await res.body.json()) as { version: string }).version).toBe('audit-log v2.1.0');
});

test('no rule for the host, and no object at all: failed with what the cluster has', async () => {
  await cluster.apply(ingress('user-management', 'other.example.test', 'user-management'));
  const noRule = await check(input());
  expect(noRule).toMatchObject({ status: 'failed', detail: `Ingress production/user-management does not route ${HOST}/` });
  expect(noRule.found).toBe(`Ingress production/user-management has no rule for ${HOST}/ (its rules: other.example.test/ (Prefix) → Service user-management:8080)`);
  const res = await request(`${proxy.url}/health`, { headers: { host: HOST } });
  expect(res.statusCode).toBe(404);
  expect(await res.body.text()).toBe(`ingress: no route for host ${HOST} path /health\n`);

  await cluster.kubectl('-n', NS, 'delete', 'ingress', 'user-management');
  expect(await check(input())).toMatchObject({ status: 'failed', found: 'no Ingress production/user-management in the cluster' });
});

test('the route is right but the process behind it runs the old release: failed, naming the release that answered', async () => {
  await cluster.apply(ingress('user-management', HOST, 'user-management'));
  proxy.setService('user-management.production:8080', await service('v0.9.0'));
  const result = await check(input());
  expect(result.status).toBe('failed');
  expect(result.detail).toBe('Health endpoint through users.example.test: FAILED: expected version = "v1.0.0", got version = "v0.9.0"');
  proxy.setService('user-management.production:8080', await service('v1.0.0'));
});

test('a Gateway API HTTPRoute is read and routed the same way', async () => {
  await cluster.kubectl('-n', NS, 'delete', 'ingress', 'user-management', '--ignore-not-found');
  await cluster.apply(HTTPROUTE_CRD);
  await cluster.kubectl('wait', '--for=condition=Established', 'crd/httproutes.gateway.networking.k8s.io', '--timeout=60s');
  const route = (backend: string) =>
    JSON.stringify({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'user-management', namespace: NS },
      spec: { hostnames: [HOST], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: backend, port: 8080 }] }] },
    });
  await cluster.apply(route('user-management'));
  expect(await check(input({ kind: 'HTTPRoute' }))).toMatchObject({ status: 'passed' });
  await cluster.apply(route('audit-log'));
  expect(await check(input({ kind: 'HTTPRoute' }))).toMatchObject({
    status: 'failed',
    detail: `HTTPRoute production/user-management routes ${HOST}/ to Service audit-log:8080, not Service user-management:8080`,
  });
});

test('an API server that cannot be reached: not run (never passed), saying why', async () => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'gone', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'c', cluster: 'gone', user: 'u' }],
    currentContext: 'c',
  });
  const result = await createEntryPointChecker({ readRoute: clusterRouteReader(kc) }).check(input(), new AbortController().signal);
  expect(result.status).toBe('not_run');
  expect(result.detail).toMatch(/^could not read Ingress production\/user-management: cannot read ingress\/user-management in production: /);
});
