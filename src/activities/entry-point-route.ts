/**
 * Where an Ingress (networking.k8s.io/v1) or a Gateway API HTTPRoute sends a host and path, as an
 * ingress controller or gateway decides it: the rules whose host matches (exact, or a "*." wildcard
 * one label deep; no host = every host), then the longest matching path (Exact before Prefix at the
 * same length). Pure: the entry point check reads the cluster's object with it, and the local
 * stack's ingress proxy (tools/local/ingress.ts) routes real requests with it.
 */

export interface RouteBackend {
  service: string;
  /** The Service port the route names (a number, or a port name). */
  port?: number | string;
  /** HTTPRoute backendRef weight (absent: 1). */
  weight?: number;
}

export interface RouteMatch {
  /** The rule that matched, in words ("host users.example.com, Prefix /"), for reports. */
  rule: string;
  backends: RouteBackend[];
}

/** The parts of an Ingress or HTTPRoute the routing reads (the API object as JSON). */
export interface RouteObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: Record<string, unknown>;
}

type PathType = 'Exact' | 'Prefix';

interface Candidate {
  host?: string;
  pathType: PathType;
  path: string;
  backends: RouteBackend[];
}

/** Host matching as Ingress and Gateway API define it: exact, or "*.example.com" for one more label. */
export function hostMatches(pattern: string | undefined, host: string): boolean {
  if (!pattern) return true;
  const h = host.toLowerCase().replace(/:\d+$/, '');
  const p = pattern.toLowerCase();
  if (!p.startsWith('*.')) return p === h;
  const suffix = p.slice(1);
  return h.endsWith(suffix) && !h.slice(0, -suffix.length).includes('.') && h.length > suffix.length;
}

/** Prefix matching by path elements ("/api" matches "/api" and "/api/x", not "/apix"). */
export function pathMatches(type: PathType, pattern: string, path: string): boolean {
  const clean = path.split('?')[0]!;
  if (type === 'Exact') return clean === pattern;
  const p = pattern.replace(/\/+$/, '');
  return p === '' || clean === p || clean.startsWith(`${p}/`);
}

const asArray = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? (v as Record<string, unknown>[]) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function ingressCandidates(spec: Record<string, unknown>): Candidate[] {
  const out: Candidate[] = [];
  for (const rule of asArray(spec.rules)) {
    const http = (rule.http ?? {}) as Record<string, unknown>;
    for (const p of asArray(http.paths)) {
      const backend = ((p.backend ?? {}) as Record<string, unknown>).service as Record<string, unknown> | undefined;
      if (!backend) continue;
      const port = (backend.port ?? {}) as Record<string, unknown>;
      const portValue = typeof port.number === 'number' ? port.number : str(port.name);
      out.push({
        ...(str(rule.host) ? { host: str(rule.host)! } : {}),
        pathType: p.pathType === 'Exact' ? 'Exact' : 'Prefix',
        path: str(p.path) ?? '/',
        backends: [{ service: String(backend.name), ...(portValue !== undefined ? { port: portValue } : {}) }],
      });
    }
  }
  const fallback = ((spec.defaultBackend ?? {}) as Record<string, unknown>).service as Record<string, unknown> | undefined;
  if (fallback) {
    const port = (fallback.port ?? {}) as Record<string, unknown>;
    const portValue = typeof port.number === 'number' ? port.number : str(port.name);
    out.push({ pathType: 'Prefix', path: '/', backends: [{ service: String(fallback.name), ...(portValue !== undefined ? { port: portValue } : {}) }] });
  }
  return out;
}

function httpRouteCandidates(spec: Record<string, unknown>): Candidate[] {
  const hostnames = Array.isArray(spec.hostnames) ? (spec.hostnames as string[]) : [];
  const hosts: (string | undefined)[] = hostnames.length ? hostnames : [undefined];
  const out: Candidate[] = [];
  for (const rule of asArray(spec.rules)) {
    const backends = asArray(rule.backendRefs)
      .filter((b) => (b.kind ?? 'Service') === 'Service' && (b.group ?? '') === '')
      .map((b) => ({ service: String(b.name), ...(typeof b.port === 'number' ? { port: b.port } : {}), ...(typeof b.weight === 'number' ? { weight: b.weight } : {}) }));
    const matches = asArray(rule.matches);
    const paths = matches.length ? matches.map((m) => (m.path ?? { type: 'PathPrefix', value: '/' }) as Record<string, unknown>) : [{ type: 'PathPrefix', value: '/' }];
    for (const host of hosts) {
      for (const p of paths) {
        out.push({ ...(host ? { host } : {}), pathType: p.type === 'Exact' ? 'Exact' : 'Prefix', path: str(p.value) ?? '/', backends });
      }
    }
  }
  return out;
}

/** Where `object` routes `host` + `path`; undefined when no rule matches. */
export function routeFor(object: RouteObject, host: string, path: string): RouteMatch | undefined {
  const spec = object.spec ?? {};
  const candidates = object.kind === 'HTTPRoute' ? httpRouteCandidates(spec) : ingressCandidates(spec);
  const matching = candidates.filter((c) => hostMatches(c.host, host) && pathMatches(c.pathType, c.path, path));
  // A rule naming the host exactly wins over a wildcard or no host; then the longest path; Exact before Prefix.
  const rank = (c: Candidate) => [c.host && !c.host.startsWith('*.') ? 2 : c.host ? 1 : 0, c.path.length, c.pathType === 'Exact' ? 1 : 0];
  matching.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return y[0]! - x[0]! || y[1]! - x[1]! || y[2]! - x[2]!;
  });
  const best = matching[0];
  if (!best) return undefined;
  return { rule: `host ${best.host ?? '*'}, ${best.pathType} ${best.path}`, backends: best.backends };
}

/** "users.example.com/ → Service user-management:8080" for every rule of the object, for "what it found". */
export function describeRoutes(object: RouteObject): string[] {
  const spec = object.spec ?? {};
  const candidates = object.kind === 'HTTPRoute' ? httpRouteCandidates(spec) : ingressCandidates(spec);
  return candidates.map((c) => `${c.host ?? '*'}${c.path} (${c.pathType}) → ${c.backends.map(backendText).join(', ') || 'no Service backend'}`);
}

export function backendText(b: RouteBackend): string {
  return `Service ${b.service}${b.port !== undefined ? `:${b.port}` : ''}${b.weight !== undefined ? ` (weight ${b.weight})` : ''}`;
}
