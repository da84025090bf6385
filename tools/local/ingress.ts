/**
 * The local stack's ingress controller: one HTTP listener on 127.0.0.1 that routes each request by
 * its Host header and path through the cluster's Ingresses (networking.k8s.io/v1) and Gateway API
 * HTTPRoutes, read from the API server at every request (so a changed route applies at once), to
 * the local URL serving the named Service (a pod runner's Service proxy). Like a real controller it
 * answers 404 when no route matches the host and path, and 503 when the Service has no endpoints
 * here. The routing decision is src/activities/entry-point-route.ts, the one the check reads too;
 * what makes the check real is that the request crosses this proxy to whichever process the route
 * names, and that process says which release it is.
 */
import { CustomObjectsApi, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { routeFor } from '../../src/activities/entry-point-route';
import type { RouteBackend, RouteObject } from '../../src/activities/entry-point-route';

export interface IngressProxyOptions {
  kubeconfigPath: string;
  /**
   * Where each Service is served locally: "name.namespace:port" or "name.namespace" (any port) →
   * base URL, e.g. { "user-management.production": "http://127.0.0.1:41234" }.
   */
  services: Record<string, string>;
  /** Port to listen on (0 or absent: a free one). */
  port?: number;
  onEvent?: (text: string) => void;
}

export interface IngressProxy {
  url: string;
  /** Adds or replaces where a Service is served (a runner started later, a Service moved). */
  setService(address: string, url: string): void;
  stop(): Promise<void>;
}

interface Routed {
  namespace: string;
  object: string;
  rule: string;
  backend: RouteBackend;
}

export async function startIngressProxy(options: IngressProxyOptions): Promise<IngressProxy> {
  const kc = new KubeConfig();
  kc.loadFromFile(options.kubeconfigPath);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const services = { ...options.services };
  const say = options.onEvent ?? (() => undefined);

  /** Every Ingress and HTTPRoute in the cluster (HTTPRoutes only when their CRD is installed). */
  async function routeObjects(): Promise<RouteObject[]> {
    const ingresses = (await networking.listIngressForAllNamespaces()).items.map((i) => ({ kind: 'Ingress', ...i }) as RouteObject);
    let routes: RouteObject[] = [];
    try {
      const list = (await custom.listClusterCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' })) as { items?: RouteObject[] };
      routes = (list.items ?? []).map((r) => ({ ...r, kind: 'HTTPRoute' }));
    } catch (err) {
      // No Gateway API CRDs in this cluster: only Ingresses route.
      if ((err as { code?: number }).code !== 404) throw err;
    }
    return [...ingresses, ...routes].sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  }

  async function route(host: string, path: string): Promise<Routed | undefined> {
    for (const object of await routeObjects()) {
      const match = routeFor(object, host, path);
      if (!match || match.backends.length === 0) continue;
      return { namespace: object.metadata?.namespace ?? 'default', object: `${object.kind} ${object.metadata?.namespace}/${object.metadata?.name}`, rule: match.rule, backend: pickWeighted(match.backends) };
    }
    return undefined;
  }

  function serviceUrl(r: Routed): string | undefined {
    const base = `${r.backend.service}.${r.namespace}`;
    return services[`${base}:${r.backend.port ?? ''}`] ?? services[base];
  }

  const answer = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(`${text}\n`);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const path = req.url ?? '/';
    let routed: Routed | undefined;
    try {
      routed = await route(host, path);
    } catch (err) {
      return answer(res, 502, `ingress: cannot read the cluster's routes: ${(err as Error).message}`);
    }
    if (!routed) return answer(res, 404, `ingress: no route for host ${host} path ${path}`);
    const target = serviceUrl(routed);
    if (!target) return answer(res, 503, `ingress: ${routed.object} (${routed.rule}) routes to Service ${routed.namespace}/${routed.backend.service}, which has no endpoints here`);
    say(`${req.method} ${host}${path} → ${routed.object} → Service ${routed.backend.service} (${target})`);
    const url = new URL(path, target);
    const upstream = request(url, { method: req.method, headers: { ...req.headers, 'x-forwarded-host': host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => (res.headersSent ? res.destroy(err) : answer(res, 502, `ingress: Service ${routed.backend.service} at ${target}: ${err.message}`)));
    req.pipe(upstream);
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    setService(address: string, url: string) {
      services[address] = url;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One backend, by weight (HTTPRoute traffic splitting); weight 0 never. */
function pickWeighted(backends: RouteBackend[]): RouteBackend {
  const total = backends.reduce((sum, b) => sum + (b.weight ?? 1), 0);
  let at = Math.random() * total;
  for (const b of backends) {
    at -= b.weight ?? 1;
    if (at < 0) return b;
  }
  return backends[0]!;
}
