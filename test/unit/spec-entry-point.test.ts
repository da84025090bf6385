/**
 * The public entry point (issue 16): the spec's entryPoint resolved with its defaults and the
 * health step it runs, and where an Ingress or HTTPRoute sends a host and path (the routing the
 * check and the local ingress proxy share).
 */
import { describeRoutes, hostMatches, pathMatches, routeFor } from '../../src/activities/entry-point-route';
import { routeProblem } from '../../src/activities/entry-point';
import { resolveSpec } from '../../src/spec';
import type { ResolvedEntryPoint } from '../../src/spec/types';

const base = {
  service: 'user-management',
  namespace: 'production',
  release: 'v1.0.0',
  image: 'ghcr.io/org/user-management:v1.0.0',
  kubernetes: { deployment: 'user-management', container: 'app' },
  serviceUrl: 'http://user-management.production:8080',
};

describe('the spec', () => {
  test('defaults: the spec namespace and service, path /, https://<host>, a GET of healthPath when there is no smoke suite', async () => {
    const spec = await resolveSpec({ ...base, entryPoint: { kind: 'Ingress', name: 'user-management', host: 'users.example.com' } });
    expect(spec.entryPoint).toEqual({
      kind: 'Ingress',
      name: 'user-management',
      namespace: 'production',
      host: 'users.example.com',
      path: '/',
      service: 'user-management',
      url: 'https://users.example.com',
      healthStep: { name: 'Health endpoint', method: 'GET', path: '/health', headers: {}, expect: { status: 200, json: {} }, capture: {} },
    });
  });

  test("the smoke suite's health step is the one run through the entry point", async () => {
    const suite = { name: 's', steps: [{ name: 'Health', path: '/health', expect: { json: { status: 'ok' } } }, { name: 'Login', method: 'POST', path: '/login' }] };
    const spec = await resolveSpec({ ...base, smoke: { suite }, entryPoint: { kind: 'HTTPRoute', name: 'um', host: 'users.example.com', url: 'http://127.0.0.1:8443/', port: 8080, releaseField: 'version' } });
    expect(spec.entryPoint).toMatchObject({ kind: 'HTTPRoute', url: 'http://127.0.0.1:8443', port: 8080, releaseField: 'version', healthStep: { name: 'Health', path: '/health', expect: { status: 200, json: { status: 'ok' } } } });
  });
});

describe('routing', () => {
  const ingress = {
    kind: 'Ingress',
    metadata: { name: 'um', namespace: 'production' },
    spec: {
      defaultBackend: { service: { name: 'fallback', port: { number: 80 } } },
      rules: [
        { host: 'users.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'user-management', port: { number: 8080 } } } }, { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { name: 'http' } } } }, { path: '/api/health', pathType: 'Exact', backend: { service: { name: 'health', port: { number: 80 } } } }] } },
        { host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'wild', port: { number: 80 } } } }] } },
      ],
    },
  };

  test('host: exact, or a wildcard one label deep', () => {
    expect(hostMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('users.example.com', 'USERS.example.com:443')).toBe(true);
    expect(hostMatches(undefined, 'anything')).toBe(true);
  });

  test('path: prefixes by element, exact only exact', () => {
    expect(pathMatches('Prefix', '/api', '/api/x?y=1')).toBe(true);
    expect(pathMatches('Prefix', '/api', '/apix')).toBe(false);
    expect(pathMatches('Prefix', '/', '/anything')).toBe(true);
    expect(pathMatches('Exact', '/api', '/api/')).toBe(false);
  });

  test('the exact host before the wildcard, the longest path, Exact before Prefix, the default backend last', () => {
    expect(routeFor(ingress, 'users.example.com', '/health')?.backends).toEqual([{ service: 'user-management', port: 8080 }]);
    expect(routeFor(ingress, 'users.example.com', '/api/users')?.backends).toEqual([{ service: 'api', port: 'http' }]);
    expect(routeFor(ingress, 'users.example.com', '/api/health')).toEqual({ rule: 'host users.example.com, Exact /api/health', backends: [{ service: 'health', port: 80 }] });
    expect(routeFor(ingress, 'shop.example.com', '/')?.backends).toEqual([{ service: 'wild', port: 80 }]);
    expect(routeFor(ingress, 'other.org', '/')?.backends).toEqual([{ service: 'fallback', port: 80 }]);
    expect(routeFor({ kind: 'Ingress', spec: { rules: [] } }, 'users.example.com', '/')).toBeUndefined();
  });

  test('an HTTPRoute: hostnames, matches and weighted backendRefs (non-Service refs ignored)', () => {
    const route = {
      kind: 'HTTPRoute',
      spec: {
        hostnames: ['users.example.com'],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'user-management', port: 8080, weight: 90 }, { name: 'user-management-canary', port: 8080, weight: 10 }, { name: 'bucket', group: 'storage.example.com', kind: 'Bucket' }] },
        ],
      },
    };
    expect(routeFor(route, 'users.example.com', '/x')?.backends).toEqual([
      { service: 'user-management', port: 8080, weight: 90 },
      { service: 'user-management-canary', port: 8080, weight: 10 },
    ]);
    expect(routeFor(route, 'other.example.com', '/')).toBeUndefined();
    expect(describeRoutes(route)).toEqual(['users.example.com/ (Prefix) → Service user-management:8080 (weight 90), Service user-management-canary:8080 (weight 10)']);
  });

  test('a route that splits traffic with another Service is the wrong Service, named', () => {
    const e = { kind: 'HTTPRoute', name: 'um', namespace: 'production', host: 'users.example.com', path: '/', service: 'user-management' } as ResolvedEntryPoint;
    const split = { kind: 'HTTPRoute', spec: { hostnames: ['users.example.com'], rules: [{ backendRefs: [{ name: 'user-management', port: 8080 }, { name: 'legacy', port: 80 }] }] } };
    expect(routeProblem(split, { entryPoint: e, release: 'v1.0.0' }).problem).toBe('HTTPRoute production/um routes users.example.com/ to Service legacy:80, not Service user-management');
    const right = { kind: 'HTTPRoute', spec: { hostnames: ['users.example.com'], rules: [{ backendRefs: [{ name: 'user-management', port: 8080 }] }] } };
    expect(routeProblem(right, { entryPoint: { ...e, port: 8080 }, release: 'v1.0.0' }).problem).toBeUndefined();
    expect(routeProblem(right, { entryPoint: { ...e, port: 9090 }, release: 'v1.0.0' }).problem).toBe('HTTPRoute production/um routes users.example.com/ to Service user-management:8080, not Service user-management:9090');
  });
});
