/**
 * The production shape of Temporal on this machine: the Temporal server built from its Go module
 * (tools/build-temporal-server.sh) on a local PostgreSQL, its schema created and updated with the
 * module's SQL schema tool, the `default` namespace and shipwatch's search attributes registered.
 * Static config: tools/temporal-server/config/shipwatch.yaml (a template; every port is a free
 * loopback port passed in the environment). Dynamic config: tools/temporal-server/dynamicconfig/,
 * the file docker-compose.yml mounts too. Used by the cluster test tier (test/cluster/) and
 * `npx tsx tools/local/temporal-server.ts` (runs one until Ctrl-C).
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { searchAttributes } from '../../src/workflows/messages';
import { freePort } from './ports';
import { startPostgres } from './postgres';
import type { LocalPostgres } from './postgres';
import { ensureTool } from './tools';

export const SERVER_ROOT = join(__dirname, '..', 'temporal-server');
export const DYNAMIC_CONFIG = join(SERVER_ROOT, 'dynamicconfig', 'shipwatch.yaml');
const NAMESPACE = 'default';
const DATABASES = { temporal: 'temporal', visibility: 'temporal_visibility' } as const;
/** temporal.api.enums.v1.IndexedValueType, by the names search attribute keys use. */
const INDEXED_VALUE_TYPE: Record<string, number> = { TEXT: 1, KEYWORD: 2, INT: 3, DOUBLE: 4, BOOL: 5, DATETIME: 6, KEYWORD_LIST: 7 };

export interface TemporalServerOptions {
  postgres: LocalPostgres;
  /** Server log (stdout and stderr), appended to; default: discarded. */
  logFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface TemporalServer {
  address: string;
  port: number;
  process: ChildProcess;
  /** Milliseconds from spawn until the frontend answered, for the last (re)start. */
  startMs: number;
  /** Kills the server process (SIGKILL by default) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and databases; resolves when the frontend answers. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function sqlTool(binDir: string, pg: LocalPostgres, args: string[]): Promise<string> {
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: pg.host,
    SQL_PORT: String(pg.port),
    SQL_USER: pg.user,
    SQL_PASSWORD: pg.password,
  };
  return new Promise((resolve, reject) =>
    execFile(join(binDir, 'temporal-sql-tool'), args, { env, maxBuffer: 1 << 22 }, (err, stdout, stderr) =>
      err ? reject(new Error(`temporal-sql-tool ${args.join(' ')}: ${(stderr || stdout || err.message).trim().slice(-2000)}`)) : resolve(stdout + stderr),
    ),
  );
}

/** Creates (if missing) and updates both databases to the schema version of the server binary. */
export async function prepareSchema(pg: LocalPostgres): Promise<void> {
  const binDir = dirname(ensureTool('temporal-server'));
  for (const [kind, db] of Object.entries(DATABASES)) {
    const created = await sqlTool(binDir, pg, ['--db', db, 'create-database']).then(
      () => true,
      (err: Error) => {
        if (/already exists/.test(err.message)) return false;
        throw err;
      },
    );
    if (created) await sqlTool(binDir, pg, ['--db', db, 'setup-schema', '-v', '0.0']);
    await sqlTool(binDir, pg, ['--db', db, 'update-schema', '-d', join(binDir, 'schema', 'postgresql', 'v12', kind, 'versioned')]);
  }
}

async function serverEnv(pg: LocalPostgres, logLevel: string): Promise<Record<string, string>> {
  const names = ['FRONTEND', 'FRONTEND_MEMBERSHIP', 'FRONTEND_HTTP', 'MATCHING', 'MATCHING_MEMBERSHIP', 'HISTORY', 'HISTORY_MEMBERSHIP', 'WORKER', 'WORKER_MEMBERSHIP', 'METRICS'];
  const env: Record<string, string> = {
    SHIPWATCH_TS_LOG_LEVEL: logLevel,
    SHIPWATCH_TS_DB_PORT: String(pg.port),
    SHIPWATCH_TS_DB_USER: pg.user,
    SHIPWATCH_TS_DB_PASSWORD: pg.password,
    SHIPWATCH_TS_DB: DATABASES.temporal,
    SHIPWATCH_TS_VISIBILITY_DB: DATABASES.visibility,
    SHIPWATCH_TS_DYNAMIC_CONFIG: DYNAMIC_CONFIG,
  };
  for (const name of names) env[`SHIPWATCH_TS_${name}_PORT`] = String(name.endsWith('MEMBERSHIP') ? await freeMembershipPort() : await freePort());
  return env;
}

/**
 * The server stores membership ports in a PostgreSQL smallint (cluster_membership.rpc_port), so
 * they must be below 32768, where the kernel hands out no ephemeral ports: pick a free one there.
 */
async function freeMembershipPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free loopback port between 20000 and 32000 for the Temporal server\'s membership');
}

/** Polls the frontend until it answers GetSystemInfo (or the process exits). */
async function waitForFrontend(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the Temporal server exited (${child.exitCode ?? child.signalCode}) while starting; see its log`);
    }
    const connection = await Connection.connect({ address, connectTimeout: 1_000 }).catch(() => undefined);
    if (connection) {
      await connection.close();
      return;
    }
    if (Date.now() > deadline) throw new Error(`the Temporal server at ${address} did not answer within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const grpcCode = (err: unknown): number | undefined => (err as { code?: number }).code;

/** Registers the default namespace and shipwatch's search attributes; both are idempotent. */
export async function registerNamespace(address: string, timeoutMs = 60_000): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService
      .registerNamespace({ namespace: NAMESPACE, workflowExecutionRetentionPeriod: msToTs('3 days') })
      .catch((err: unknown) => {
        if (grpcCode(err) !== 6 /* ALREADY_EXISTS */) throw err;
      });
    const wanted = Object.fromEntries(Object.values(searchAttributes).map((k) => [k.name, INDEXED_VALUE_TYPE[k.type] ?? 2]));
    const deadline = Date.now() + timeoutMs;
    // The namespace reaches every service's cache within a refresh interval (2 s); until then the
    // calls below answer NOT_FOUND.
    for (;;) {
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
        const missing = Object.fromEntries(Object.entries(wanted).filter(([name]) => !(name in (customAttributes ?? {}))));
        if (Object.keys(missing).length > 0) await connection.operatorService.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: missing });
        await connection.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, pageSize: 1, query: `${searchAttributes.service.name}="probe"` });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`namespace "${NAMESPACE}" not usable after ${timeoutMs / 1000}s: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await connection.close();
  }
}

/** Prepares the schema, starts the server, registers the namespace; resolves when it is usable. */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const bin = ensureTool('temporal-server');
  await prepareSchema(options.postgres);
  const env = await serverEnv(options.postgres, options.logLevel ?? 'warn');
  const port = Number(env.SHIPWATCH_TS_FRONTEND_PORT);
  const address = `127.0.0.1:${port}`;
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  let child: ChildProcess;
  let exited: Promise<void> = Promise.resolve();

  const server: TemporalServer = {
    address,
    port,
    get process() {
      return child;
    },
    startMs: 0,
    async start() {
      const t0 = Date.now();
      child = spawn(bin, ['--root', SERVER_ROOT, '--config', 'config', '--env', 'shipwatch', '--allow-no-auth', 'start'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', log ? 'pipe' : 'ignore', log ? 'pipe' : 'ignore'],
      });
      if (log) {
        child.stdout!.pipe(log, { end: false });
        child.stderr!.pipe(log, { end: false });
      }
      const current = child;
      exited = new Promise((r) => current.once('exit', () => r()));
      await waitForFrontend(address, child, 120_000);
      server.startMs = Date.now() - t0;
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      await server.kill('SIGTERM');
      log?.end();
    },
  };
  // A crashed test run must not leave a server behind.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  try {
    await server.start();
    await registerNamespace(address);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

async function main(): Promise<void> {
  const postgres = await startPostgres();
  const server = await startTemporalServer({ postgres, logLevel: 'warn' });
  console.log(`Temporal server ${server.address} on PostgreSQL 127.0.0.1:${postgres.port} (started in ${server.startMs} ms)`);
  console.log(`Workers: TEMPORAL_ADDRESS=${server.address} npm run worker. Ctrl-C stops both; the data goes with them.`);
  const stop = () => void server.stop().then(() => postgres.stop()).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
