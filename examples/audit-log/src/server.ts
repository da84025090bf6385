/**
 * audit-log, the second sample service: it records who did what, and it depends on
 * user-management's API. A caller signs in through it (`POST /session` forwards to
 * user-management's `/login`), and every event it records is attributed to the user that
 * user-management's `GET /profile` names for the caller's token — so audit-log needs
 * user-management's v1.0.0 (its `user_roles` schema) before it, the order of the sample release.
 * Health, Prometheus metrics and a fault switch as user-management has them; nothing is global.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { appliedMigrations, MIGRATIONS } from './migrations';

export interface ServiceConfig {
  port: number;
  host: string;
  version: string;
  databaseUrl: string;
  /** Base URL of user-management's API, e.g. http://user-management.production:8080. */
  userManagementUrl: string;
  /** Bearer token for /admin/faults; off when absent. */
  adminToken?: string;
  faults: { errorRate: number; latencyMs: number };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads the config from the environment (PORT, HOST, VERSION, DATABASE_URL, USER_MANAGEMENT_URL, …). */
export function configFromEnv(env: NodeJS.ProcessEnv): ServiceConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigError(`${name} is not set`);
    return value;
  };
  const number = (name: string, fallback: number, max: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0 || value > max) throw new ConfigError(`${name} must be a number from 0 to ${max}, got "${text}"`);
    return value;
  };
  const userManagementUrl = required('USER_MANAGEMENT_URL');
  if (!/^https?:\/\//.test(userManagementUrl)) throw new ConfigError(`USER_MANAGEMENT_URL must start with http:// or https://, got "${userManagementUrl}"`);
  return {
    port: number('PORT', 8080, 65535),
    host: env.HOST || '127.0.0.1',
    version: env.VERSION || 'dev',
    databaseUrl: required('DATABASE_URL'),
    userManagementUrl: userManagementUrl.replace(/\/+$/, ''),
    ...(env.ADMIN_TOKEN ? { adminToken: env.ADMIN_TOKEN } : {}),
    faults: { errorRate: number('FAULT_ERROR_RATE', 0, 1), latencyMs: number('FAULT_LATENCY_MS', 0, 600_000) },
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

interface Route {
  method: string;
  pattern: RegExp;
  /** The `route` label, e.g. /events/:id. */
  name: string;
  handler: (req: IncomingMessage, params: string[]) => Promise<unknown>;
}

export interface RunningService {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface EventRow {
  id: string;
  actor: string;
  action: string;
  target: string;
  at: Date;
}

export async function startService(config: ServiceConfig): Promise<RunningService> {
  const pool = new Pool({ connectionString: config.databaseUrl, max: 5, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined); // an idle client lost its connection: the next query reconnects
  const faults = { ...config.faults };
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const upstreamCalls = new Counter({ name: 'upstream_requests_total', help: 'Calls to user-management', labelNames: ['call', 'outcome'], registers: [registry] });
  const recorded = new Counter({ name: 'audit_events_recorded_total', help: 'Audit events recorded', registers: [registry] });
  new Gauge({ name: 'app_info', help: 'The running version', labelNames: ['version'], registers: [registry] }).set({ version: config.version }, 1);

  /** One call to user-management; unreachable or failing becomes a 502 that names it. */
  const upstream = async (call: string, path: string, init: RequestInit): Promise<Record<string, unknown>> => {
    let res: Response;
    try {
      res = await fetch(`${config.userManagementUrl}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
    } catch (err) {
      upstreamCalls.inc({ call, outcome: 'unreachable' });
      const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      process.stderr.write(`WARN user-management unreachable at ${config.userManagementUrl}: ${cause}\n`);
      throw new HttpError(502, `user-management unreachable at ${config.userManagementUrl}: ${cause}`);
    }
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    upstreamCalls.inc({ call, outcome: String(res.status) });
    const said = typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) throw new HttpError(res.status, `user-management refused: ${said}`);
    if (!res.ok) throw new HttpError(502, `user-management answered ${res.status} to ${call}: ${said}`);
    return body;
  };
  const actorOf = async (req: IncomingMessage): Promise<string> => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) throw new HttpError(401, 'a bearer token from POST /session (user-management) is required');
    const profile = await upstream('profile', '/profile', { headers: { authorization: header } });
    if (typeof profile.username !== 'string') throw new HttpError(502, 'user-management’s /profile named no username');
    return profile.username;
  };
  const migrationState = async () => {
    const applied = await appliedMigrations(pool);
    const pending = MIGRATIONS.map((m) => m.name).filter((n) => !applied.includes(n));
    return { applied, pending, status: pending.length === 0 ? 'All applied' : `${pending.length} pending: ${pending.join(', ')}` };
  };
  const requireAdminToken = (req: IncomingMessage): void => {
    const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    const expected = Buffer.from(config.adminToken ?? '');
    if (!config.adminToken || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpError(config.adminToken ? 403 : 404, config.adminToken ? 'wrong admin token' : 'admin endpoints are disabled (ADMIN_TOKEN not set)');
    }
  };
  const text = (body: Record<string, unknown>, key: string, optional = false): string => {
    const value = body[key];
    if (optional && value === undefined) return '';
    if (typeof value !== 'string' || value.length === 0 || value.length > 200) throw new HttpError(400, `"${key}" must be a string of 1 to 200 characters`);
    return value;
  };
  const asEvent = (row: EventRow) => ({ id: String(row.id), actor: row.actor, action: row.action, target: row.target, at: row.at.toISOString() });

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/health$/,
      name: '/health',
      handler: async () => {
        try {
          return { status: 'ok', version: config.version, database: 'ok', migrations: await migrationState() };
        } catch (err) {
          throw new HttpError(503, `database unavailable: ${(err as Error).message}`);
        }
      },
    },
    {
      method: 'POST',
      pattern: /^\/session$/,
      name: '/session',
      handler: async (req) => {
        const b = await readBody(req);
        const login = await upstream('login', '/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: text(b, 'username'), password: text(b, 'password') }),
        });
        return { token: login.token, tokenType: 'Bearer', expiresAt: login.expiresAt };
      },
    },
    {
      method: 'POST',
      pattern: /^\/events$/,
      name: '/events',
      handler: async (req) => {
        const actor = await actorOf(req);
        const b = await readBody(req);
        const row = await pool.query<EventRow>('INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $3) RETURNING *', [actor, text(b, 'action'), text(b, 'target', true)]);
        recorded.inc();
        return created(asEvent(row.rows[0]!));
      },
    },
    {
      method: 'GET',
      pattern: /^\/events\/(\d+)$/,
      name: '/events/:id',
      handler: async (req, params) => {
        await actorOf(req);
        const row = await pool.query<EventRow>('SELECT * FROM audit_events WHERE id = $1', [params[0]]);
        if (!row.rows[0]) throw new HttpError(404, `no event ${params[0]}`);
        return asEvent(row.rows[0]);
      },
    },
    {
      method: 'GET',
      pattern: /^\/events$/,
      name: '/events',
      handler: async (req) => {
        const self = await actorOf(req);
        const actor = new URL(req.url ?? '/', 'http://localhost').searchParams.get('actor') ?? self;
        const rows = await pool.query<EventRow>('SELECT * FROM audit_events WHERE actor = $1 ORDER BY at DESC LIMIT 50', [actor]);
        return { actor, events: rows.rows.map(asEvent) };
      },
    },
    { method: 'GET', pattern: /^\/admin\/migrations$/, name: '/admin/migrations', handler: migrationState },
    {
      method: 'GET',
      pattern: /^\/admin\/faults$/,
      name: '/admin/faults',
      handler: async (req) => {
        requireAdminToken(req);
        return faults;
      },
    },
    {
      method: 'POST',
      pattern: /^\/admin\/faults$/,
      name: '/admin/faults',
      handler: async (req) => {
        requireAdminToken(req);
        const b = await readBody(req);
        if (b.errorRate !== undefined) {
          if (typeof b.errorRate !== 'number' || b.errorRate < 0 || b.errorRate > 1) throw new HttpError(400, '"errorRate" must be a number from 0 to 1');
          faults.errorRate = b.errorRate;
        }
        if (b.latencyMs !== undefined) {
          if (typeof b.latencyMs !== 'number' || b.latencyMs < 0) throw new HttpError(400, '"latencyMs" must be a number ≥ 0');
          faults.latencyMs = b.latencyMs;
        }
        return faults;
      },
    },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    res.setHeader('X-App-Version', config.version);
    if (path === '/metrics' && method === 'GET') {
      res.setHeader('Content-Type', registry.contentType);
      res.end(await registry.metrics());
      return;
    }
    let routeName = 'unmatched';
    let payload: unknown;
    try {
      const matching = routes.filter((r) => r.pattern.test(path));
      if (matching.length === 0) throw new HttpError(404, `no route ${path}`);
      const route = matching.find((r) => r.method === method);
      if (!route) throw new HttpError(405, `${method} is not allowed on ${path}`);
      routeName = route.name;
      if (!path.startsWith('/admin/faults')) {
        if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
        if (faults.errorRate > 0 && Math.random() < faults.errorRate) throw new HttpError(500, 'injected fault (FAULT_ERROR_RATE)');
      }
      res.statusCode = 200;
      payload = await route.handler(req, route.pattern.exec(path)!.slice(1));
      if (payload instanceof Created) {
        res.statusCode = 201;
        payload = payload.body;
      }
    } catch (err) {
      res.statusCode = err instanceof HttpError ? err.status : 500;
      payload = { error: err instanceof HttpError ? err.message : 'internal error' };
      if (!(err instanceof HttpError)) process.stderr.write(`ERROR ${method} ${path}: ${(err as Error).message}\n`);
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(payload));
    const labels = { method, route: routeName, status: String(res.statusCode) };
    requests.inc(labels);
    duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      process.stderr.write(`ERROR unhandled: ${err.message}\n`);
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    port,
    url: `http://${config.host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await pool.end();
    },
  };
}

class Created {
  constructor(readonly body: unknown) {}
}
const created = (body: unknown) => new Created(body);

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
      if (raw.length > 64 * 1024) reject(new HttpError(413, 'body larger than 64 KiB'));
    });
    req.on('end', () => {
      try {
        const parsed: unknown = raw ? JSON.parse(raw) : {};
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        resolve(parsed as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'body is not a JSON object'));
      }
    });
    req.on('error', reject);
  });
}
