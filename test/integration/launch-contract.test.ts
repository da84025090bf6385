/**
 * The fakes of the launch checks (test/helpers/fakes.ts) agree with the real checkers: the same
 * cases through both give the same status and the same sentences. The real entry point checker
 * reads an in-memory route and sends the health step to a local HTTP server; the real uptime checker
 * reads a local stand-in for Prometheus's query API. (The real components themselves are exercised in
 * entry-point.test.ts on kube-apiserver and uptime.test.ts with the blackbox exporter.)
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createEntryPointChecker } from '../../src/activities/entry-point';
import type { RouteObject } from '../../src/activities/entry-point-route';
import type { EntryPointInput, UptimeInput } from '../../src/activities/types';
import { createUptimeChecker } from '../../src/activities/uptime';
import { createFakeDeps } from '../helpers/fakes';

const servers: Server[] = [];
async function serve(handler: (url: URL) => { status: number; body: unknown }): Promise<string> {
  const server = createServer((req, res) => {
    const answer = handler(new URL(req.url ?? '/', 'http://x'));
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}
afterAll(() => servers.forEach((s) => s.close()));

const signal = new AbortController().signal;

describe('entry point', () => {
  const ingress = (service: string): RouteObject => ({
    kind: 'Ingress',
    metadata: { name: 'um', namespace: 'production' },
    spec: { rules: [{ host: 'users.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: service === 'other' ? 80 : 8080 } } } }] } }] },
  });
  async function input(): Promise<EntryPointInput> {
    const url = await serve(() => ({ status: 200, body: { status: 'ok', version: 'v1.0.0' } }));
    return {
      release: 'v1.0.0',
      entryPoint: { kind: 'Ingress', name: 'um', namespace: 'production', host: 'users.example.com', path: '/', service: 'user-management', url, releaseField: 'version', healthStep: { name: 'Health endpoint', method: 'GET', path: '/health', headers: {}, expect: { status: 200, json: {} }, capture: {} } },
    };
  }
  const fake = (status: 'passed' | 'failed' | 'not_run') => createFakeDeps({ entryPoint: status }).deps.entryPoint!;

  test('passed: the same status and sentence', async () => {
    const i = await input();
    const real = await createEntryPointChecker({ readRoute: async () => ingress('user-management') }).check(i, signal);
    const faked = await fake('passed').check(i, signal);
    expect({ status: faked.status, detail: faked.detail }).toEqual({ status: real.status, detail: real.detail });
    expect(real.status).toBe('passed');
  });

  test('failed on another Service: the same status, sentence and what was found', async () => {
    const i = await input();
    const real = await createEntryPointChecker({ readRoute: async () => ingress('other') }).check(i, signal);
    const faked = await fake('failed').check(i, signal);
    expect({ status: faked.status, detail: faked.detail, found: faked.found }).toEqual({ status: real.status, detail: real.detail, found: real.found });
  });

  test('not run when the route cannot be read: the same status and the same sentence up to the error', async () => {
    const i = await input();
    const real = await createEntryPointChecker({ readRoute: async () => Promise.reject(new Error('connect ECONNREFUSED')) }).check(i, signal);
    const faked = await fake('not_run').check(i, signal);
    expect(faked.status).toBe(real.status);
    expect(real.detail).toBe('could not read Ingress production/um: connect ECONNREFUSED');
    expect(faked.detail).toMatch(/^could not read Ingress production\/um: /);
  });
});

describe('uptime', () => {
  /** A stand-in for Prometheus's query API: the probe's value, its time, and the HTTP status it saw. */
  const prometheus = (value: number, at: number) =>
    serve((url) => {
      const q = url.searchParams.get('query') ?? '';
      const v = q.startsWith('timestamp(') ? at : q.startsWith('probe_http_status_code') ? (value ? 200 : 503) : value;
      return { status: 200, body: { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [at, String(v)] }] } } };
    });
  const since = '2026-11-30T10:00:00.000Z';
  const input = (prometheusUrl: string): UptimeInput => ({ prometheusUrl, job: 'uptime-user-management', url: 'https://users.example.com/health', since, waitMs: 1_000 });
  const fake = (status: 'passed' | 'failed' | 'not_run') => createFakeDeps({ uptime: status }).deps.uptime!;
  const after = Date.parse(since) / 1000 + 1;

  test.each([
    ['passed', 1],
    ['failed', 0],
  ] as const)('%s: the same status, sentence and series', async (status, value) => {
    const i = input(await prometheus(value, after));
    const real = await createUptimeChecker({ pollMs: 100 }).check(i, signal);
    const faked = await fake(status).check(i, signal);
    expect(real.status).toBe(status);
    expect({ status: faked.status, detail: faked.detail, found: faked.found }).toEqual({ status: real.status, detail: real.detail, found: real.found });
  });

  test('not run when Prometheus cannot be read: the same status and sentence up to the error', async () => {
    const real = await createUptimeChecker().check(input('http://127.0.0.1:1'), signal);
    const faked = await fake('not_run').check(input('http://127.0.0.1:1'), signal);
    expect(faked.status).toBe(real.status);
    expect(faked.found).toBe(real.found);
    expect(real.detail).toMatch(/^the probe's result could not be read: /);
    expect(faked.detail).toMatch(/^the probe's result could not be read: /);
  });
});
