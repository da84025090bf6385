/**
 * The user-management HTTP service the seed deploys: health, registration, JWT login, profile,
 * admin-only role assignment and deletion, Prometheus metrics, and a fault switch (error rate,
 * latency) for rollback scenarios, and request spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT
 * is set (./tracing). Everything comes from its config; nothing is global.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { hashPassword, signToken, verifyPassword, verifyToken } from './auth';
import { appliedMigrations, MIGRATIONS } from './migrations';
import { createRequestTracer, noTracing, tracingFromEnv } from './tracing';
import type { TracingConfig } from './tracing';
import { createErrorReporter, parseDsn } from './error-tracking';
import type { ErrorTrackingConfig } from './error-tracking';

export interface ServiceConfig {
  port: number;
  host: string;
  version: string;
  databaseUrl: string;
  jwtSecret: string;
  /** Bearer token for /admin/* (faults); admin endpoints are off when absent. */
  adminToken?: string;
  /** Created (or reset) at start-up with the admin role, so a smoke suite can assign roles. */
  bootstrapAdmin?: { username: string; password: string };
  faults: Faults;
  /** Request spans over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME); off when absent. */
  tracing?: TracingConfig;
  /** Error events to the tracker behind SENTRY_DSN (SENTRY_ENVIRONMENT); off when absent. */
  errorTracking?: ErrorTrackingConfig;
}

export interface Faults {
  /** Share of requests answered with 500, 0..1. */
  errorRate: number;
  /** Added to every request, milliseconds. */
  latencyMs: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads the config from the environment (PORT, HOST, VERSION, DATABASE_URL, JWT_SECRET, …). */
export function configFromEnv(env: NodeJS.ProcessEnv): ServiceConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigError(`${name} is not set`);
    return value;
  };
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${text}"`);
    return value;
  };
  const config: ServiceConfig = {
    port: number('PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    version: env.VERSION || 'dev',
    databaseUrl: required('DATABASE_URL'),
    jwtSecret: required('JWT_SECRET'),
    faults: { errorRate: number('FAULT_ERROR_RATE', 0, 0, 1), latencyMs: number('FAULT_LATENCY_MS', 0, 0, 600_000) },
  };
  const tracing = tracingFromEnv(env, (message) => new ConfigError(message));
  if (tracing) config.tracing = tracing;
  if (env.ADMIN_TOKEN) config.adminToken = env.ADMIN_TOKEN;
  if (env.SENTRY_DSN) {
    const errorTracking = { dsn: env.SENTRY_DSN, release: `user-management@${config.version}`, environment: env.SENTRY_ENVIRONMENT || 'production' };
    try {
      parseDsn(errorTracking.dsn);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
    config.errorTracking = errorTracking;
  }
  if (env.BOOTSTRAP_ADMIN_USERNAME && env.BOOTSTRAP_ADMIN_PASSWORD) {
    config.bootstrapAdmin = { username: env.BOOTSTRAP_ADMIN_USERNAME, password: env.BOOTSTRAP_ADMIN_PASSWORD };
  }
  return config;
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
  /** The `route` label, e.g. /users/:id. */
  name: string;
  handler: (ctx: RequestContext) => Promise<unknown>;
}

interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  body: () => Promise<Record<string, unknown>>;
}

export interface RunningService {
  server: Server;
  url: string;
  port: number;
  faults: Faults;
  close(): Promise<void>;
}

/** Starts listening at once; the database is connected lazily so start-up stays fast. */
export async function startService(config: ServiceConfig): Promise<RunningService> {
  const pool = new Pool({ connectionString: config.databaseUrl, max: 5, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {
    // An idle client lost its connection: the next query reconnects; /health reports the database.
  });
  const faults: Faults = { ...config.faults };
  const tracer = config.tracing ? createRequestTracer(config.tracing, config.version) : noTracing;
  const errors = config.errorTracking ? createErrorReporter(config.errorTracking) : undefined;
  const sessions = new Map<string, number>();

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
  new Gauge({
    name: 'active_sessions',
    help: 'Sessions with an unexpired token',
    registers: [registry],
    collect() {
      const now = Date.now();
      for (const [jti, exp] of sessions) if (exp < now) sessions.delete(jti);
      this.set(sessions.size);
    },
  });
  new Gauge({ name: 'app_info', help: 'The running version', labelNames: ['version'], registers: [registry] }).set({ version: config.version }, 1);

  const currentUser = async (req: IncomingMessage): Promise<{ id: string; username: string; roles: string[] }> => {
    const header = req.headers.authorization ?? '';
    const claims = header.startsWith('Bearer ') ? verifyToken(header.slice(7), config.jwtSecret) : undefined;
    if (!claims) throw new HttpError(401, 'a valid bearer token is required');
    const roles = await pool.query<{ name: string }>(
      'SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = $1',
      [claims.sub],
    );
    return { id: claims.sub, username: claims.username, roles: roles.rows.map((r) => r.name) };
  };
  const requireAdmin = async (req: IncomingMessage): Promise<{ id: string; roles: string[] }> => {
    const user = await currentUser(req);
    if (!user.roles.includes('admin')) throw new HttpError(403, `user ${user.username} (roles: ${user.roles.join(', ') || 'none'}) is not an admin`);
    return user;
  };
  const requireAdminToken = (req: IncomingMessage): void => {
    const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    const expected = Buffer.from(config.adminToken ?? '');
    if (!config.adminToken || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpError(config.adminToken ? 403 : 404, config.adminToken ? 'wrong admin token' : 'admin endpoints are disabled (ADMIN_TOKEN not set)');
    }
  };
  const migrationState = async (): Promise<{ applied: string[]; pending: string[]; status: string }> => {
    const applied = await appliedMigrations(pool);
    const pending = MIGRATIONS.map((m) => m.name).filter((n) => !applied.includes(n));
    return { applied, pending, status: pending.length === 0 ? 'All applied' : `${pending.length} pending: ${pending.join(', ')}` };
  };
  const str = (body: Record<string, unknown>, key: string, min = 1): string => {
    const value = body[key];
    if (typeof value !== 'string' || value.length < min) throw new HttpError(400, `"${key}" must be a string of at least ${min} characters`);
    return value;
  };

  const routes: Route[] = [
    {
      // Reports a test event to the error tracker and says what it answered (shipwatch's "Error tracking" check).
      method: 'GET',
      pattern: /^\/debug\/error-tracking$/,
      name: '/debug/error-tracking',
      handler: async () => {
        if (!errors) throw new HttpError(503, 'error tracking is off (SENTRY_DSN not set)');
        const delivery = await errors.report({ level: 'info', message: `error-tracking test event from user-management ${config.version}`, tags: { check: 'error-tracking' } });
        if (!delivery.accepted) throw new HttpError(502, `test event ${delivery.eventId} not delivered: ${delivery.error}`);
        return { eventId: delivery.eventId, tracker: { status: delivery.status } };
      },
    },
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
      pattern: /^\/register$/,
      name: '/register',
      handler: async ({ body, res }) => {
        const b = await body();
        const username = str(b, 'username', 3);
        const email = str(b, 'email', 3);
        const password = str(b, 'password', 8);
        try {
          const row = await pool.query<{ id: string }>('INSERT INTO users (username, email, password_hash, display_name) VALUES ($1, $2, $3, $1) RETURNING id', [
            username,
            email,
            hashPassword(password),
          ]);
          res.statusCode = 201;
          return { id: Number(row.rows[0]!.id), username, email };
        } catch (err) {
          if ((err as { code?: string }).code === '23505') throw new HttpError(409, `username ${username} is taken`);
          throw err;
        }
      },
    },
    {
      method: 'POST',
      pattern: /^\/login$/,
      name: '/login',
      handler: async ({ body }) => {
        const b = await body();
        const username = str(b, 'username');
        const password = str(b, 'password');
        const row = await pool.query<{ id: string; password_hash: string }>('SELECT id, password_hash FROM users WHERE username = $1', [username]);
        const user = row.rows[0];
        if (!user || !verifyPassword(password, user.password_hash)) throw new HttpError(401, 'wrong username or password');
        const signed = signToken({ sub: String(user.id), username }, config.jwtSecret);
        sessions.set(signed.jti, signed.exp * 1000);
        return { token: signed.token, tokenType: 'Bearer', expiresAt: new Date(signed.exp * 1000).toISOString() };
      },
    },
    {
      method: 'GET',
      pattern: /^\/profile$/,
      name: '/profile',
      handler: async ({ req }) => {
        const user = await currentUser(req);
        const row = await pool.query<Record<string, unknown>>('SELECT id, username, email, display_name AS "displayName" FROM users WHERE id = $1', [user.id]);
        if (!row.rows[0]) throw new HttpError(404, 'user no longer exists');
        return { ...row.rows[0], roles: user.roles };
      },
    },
    {
      method: 'PATCH',
      pattern: /^\/profile$/,
      name: '/profile',
      handler: async ({ req, body }) => {
        const user = await currentUser(req);
        const b = await body();
        const displayName = b.displayName === undefined ? undefined : str(b, 'displayName');
        const email = b.email === undefined ? undefined : str(b, 'email', 3);
        const row = await pool.query<Record<string, unknown>>(
          `UPDATE users SET display_name = COALESCE($2, display_name), email = COALESCE($3, email), updated_at = now()
           WHERE id = $1 RETURNING id, username, email, display_name AS "displayName"`,
          [user.id, displayName ?? null, email ?? null],
        );
        if (!row.rows[0]) throw new HttpError(404, 'user no longer exists');
        return row.rows[0];
      },
    },
    {
      method: 'POST',
      pattern: /^\/users\/(\d+)\/roles$/,
      name: '/users/:id/roles',
      handler: async ({ req, body, params }) => {
        await requireAdmin(req);
        const role = str(await body(), 'role');
        const found = await pool.query<{ id: number }>('SELECT id FROM roles WHERE name = $1', [role]);
        if (!found.rows[0]) throw new HttpError(400, `unknown role "${role}"`);
        const inserted = await pool.query(
          'INSERT INTO user_roles (user_id, role_id) SELECT id, $2 FROM users WHERE id = $1 ON CONFLICT DO NOTHING RETURNING user_id',
          [params[0], found.rows[0].id],
        );
        const exists = await pool.query('SELECT 1 FROM users WHERE id = $1', [params[0]]);
        if (!exists.rows[0]) throw new HttpError(404, `no user ${params[0]}`);
        return { userId: Number(params[0]), role, assigned: true, changed: (inserted.rowCount ?? 0) > 0 };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/users\/(\d+)$/,
      name: '/users/:id',
      handler: async ({ req, params, res }) => {
        await requireAdmin(req);
        const deleted = await pool.query('DELETE FROM users WHERE id = $1', [params[0]]);
        if (!deleted.rowCount) throw new HttpError(404, `no user ${params[0]}`);
        res.statusCode = 200;
        return { deleted: true, userId: Number(params[0]) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/admin\/migrations$/,
      name: '/admin/migrations',
      handler: async () => migrationState(),
    },
    {
      method: 'GET',
      pattern: /^\/admin\/faults$/,
      name: '/admin/faults',
      handler: async ({ req }) => {
        requireAdminToken(req);
        return faults;
      },
    },
    {
      method: 'POST',
      pattern: /^\/admin\/faults$/,
      name: '/admin/faults',
      handler: async ({ req, body }) => {
        requireAdminToken(req);
        const b = await body();
        if (b.errorRate !== undefined) {
          if (typeof b.errorRate !== 'number' || b.errorRate < 0 || b.errorRate > 1) throw new HttpError(400, '"errorRate" must be a number from 0 to 1');
          faults.errorRate = b.errorRate;
        }
        if (b.latencyMs !== undefined) {
          if (typeof b.latencyMs !== 'number' || b.latencyMs < 0) throw new HttpError(400, '"latencyMs" must be a non-negative number');
          faults.latencyMs = b.latencyMs;
        }
        return faults;
      },
    },
  ];

  const readBody = (req: IncomingMessage): (() => Promise<Record<string, unknown>>) => {
    let cached: Promise<Record<string, unknown>> | undefined;
    return () =>
      (cached ??= new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1_000_000) reject(new HttpError(413, 'body too large'));
          else chunks.push(c);
        });
        req.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (text === '') return resolve({});
          try {
            const parsed = JSON.parse(text) as unknown;
            if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return reject(new HttpError(400, 'expected a JSON object'));
            resolve(parsed as Record<string, unknown>);
          } catch {
            reject(new HttpError(400, 'body is not valid JSON'));
          }
        });
        req.on('error', reject);
      }));
  };

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
    // /metrics is left out: a scrape every few seconds would bury the requests people look for.
    const span = tracer.start(req, method, path);
    let routeName = 'unmatched';
    let payload: unknown;
    try {
      const matching = routes.filter((r) => r.pattern.test(path));
      if (matching.length === 0) throw new HttpError(404, `no route ${path}`);
      const route = matching.find((r) => r.method === method);
      if (!route) throw new HttpError(405, `${method} is not allowed on ${path}`);
      routeName = route.name;
      // Faults spare the fault switch itself, so a scenario can always be turned off again.
      if (!path.startsWith('/admin/faults')) {
        if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
        if (faults.errorRate > 0 && Math.random() < faults.errorRate) throw new HttpError(500, 'injected fault (FAULT_ERROR_RATE)');
      }
      res.statusCode = 200;
      payload = await route.handler({ req, res, params: route.pattern.exec(path)!.slice(1), body: readBody(req) });
    } catch (err) {
      if (err instanceof HttpError) {
        res.statusCode = err.status;
        payload = { error: err.message };
      } else {
        res.statusCode = 500;
        payload = { error: 'internal error' };
        process.stderr.write(`ERROR ${method} ${path}: ${(err as Error).message}\n`);
        // Reported in the background: the answer does not wait for the tracker.
        void errors?.report({ level: 'error', message: `${method} ${path}: ${(err as Error).message}` });
      }
    }
    const body = JSON.stringify(payload);
    res.setHeader('Content-Type', 'application/json');
    res.end(body);
    const labels = { method, route: routeName, status: String(res.statusCode) };
    requests.inc(labels);
    duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    span.end(routeName, res.statusCode);
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

  if (config.bootstrapAdmin) {
    // Best effort: the schema may not be migrated yet when the service starts.
    const { username, password } = config.bootstrapAdmin;
    await ensureAdmin(pool, username, password).catch((err: Error) => process.stderr.write(`WARN bootstrap admin not created yet: ${err.message}\n`));
  }

  return {
    server,
    port,
    url: `http://${config.host}:${port}`,
    faults,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await pool.end();
      // Sends the spans still buffered.
      await tracer.close();
    },
  };
}

/** Creates the admin user (or resets its password) and gives it the admin role. */
export async function ensureAdmin(pool: Pool, username: string, password: string): Promise<void> {
  const row = await pool.query<{ id: string }>(
    `INSERT INTO users (username, email, password_hash, display_name) VALUES ($1, $1 || '@localhost', $2, $1)
     ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash RETURNING id`,
    [username, hashPassword(password)],
  );
  await pool.query(`INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE name = 'admin' ON CONFLICT DO NOTHING`, [row.rows[0]!.id]);
}
