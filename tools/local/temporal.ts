/**
 * The local Temporal dev server with its Web UI, started from the CLI binary built under tools/,
 * with shipwatch's search attributes registered. Used by `npm run temporal` and the demo.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { searchAttributes } from '../../src/workflows/messages';
import { releaseSearchAttributes } from '../../src/workflows/release/messages';
import { ensureTool } from './tools';

export interface DevServerOptions {
  port: number;
  uiPort: number;
  /** SQLite file; the server keeps its data across restarts. */
  dbFile: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** More `start-dev` arguments, e.g. `--dynamic-config-value key=value` (the bench's `--temporal-flags`). */
  extraArgs?: string[];
}

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const SEARCH_ATTRIBUTE_TYPE: Record<string, string> = { KEYWORD: 'Keyword', TEXT: 'Text', INT: 'Int', DATETIME: 'Datetime', KEYWORD_LIST: 'KeywordList' };

/**
 * Dynamic config the dev server runs with beside its own defaults, the same keys and values as
 * tools/temporal-server/dynamicconfig/shipwatch.yaml (the server on PostgreSQL, docker-compose.yml):
 * eager activity execution, so an activity scheduled by a workflow task is handed to the worker that
 * completed the task in the reply, without a round through the task queue (a rollback's first
 * cluster call 20–60 ms sooner: docs/benchmarks.md, Session 18). The server's default is off.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, boolean> = { 'system.enableActivityEagerExecution': true };

/** DEV_SERVER_DYNAMIC_CONFIG as `start-dev` arguments (also the tests' dev servers', test/helpers/temporal.ts). */
export function devServerDynamicConfigArgs(): string[] {
  return Object.entries(DEV_SERVER_DYNAMIC_CONFIG).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);
}

/** The `temporal server start-dev` arguments, including every shipwatch search attribute and DEV_SERVER_DYNAMIC_CONFIG. */
export function devServerArgs(options: DevServerOptions): string[] {
  // The deployment's and the release train's (ShipwatchTrain lists a release with its services in the Web UI).
  const attributes = [...Object.values(searchAttributes), ...Object.values(releaseSearchAttributes)].flatMap((key) => [
    '--search-attribute',
    `${key.name}=${SEARCH_ATTRIBUTE_TYPE[key.type] ?? 'Keyword'}`,
  ]);
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--db-filename',
    options.dbFile,
    '--log-level',
    options.logLevel ?? 'error',
    ...attributes,
    ...devServerDynamicConfigArgs(),
    ...(options.extraArgs ?? []),
  ];
}

export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the dev server and waits until its frontend and UI ports accept connections. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  mkdirSync(join(options.dbFile, '..'), { recursive: true });
  const child = spawn(ensureTool('temporal-cli'), devServerArgs(options), { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the Temporal dev server exited with code ${code} while starting`))),
  );
  await Promise.race([Promise.all([waitForPort(options.port, 60_000), waitForPort(options.uiPort, 60_000)]), exited]);
  exited.catch(() => undefined);
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const port = Number(process.env.TEMPORAL_PORT ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
  const stateDir = process.env.SHIPWATCH_STATE_DIR ?? join(__dirname, '..', '..', '.shipwatch');
  const open = await waitForPort(port, 0).then(
    () => true,
    () => false,
  );
  if (open) {
    console.error(
      `Port ${port} is already in use: a Temporal server may already be running there. Use it (TEMPORAL_ADDRESS=127.0.0.1:${port}) or pick another port with TEMPORAL_PORT.`,
    );
    process.exit(2);
  }
  const server = await startDevServer({ port, uiPort, dbFile: join(stateDir, 'temporal.db'), logLevel: 'warn' });
  console.log(`Temporal dev server: ${server.address}   Web UI: ${server.uiUrl}   data: ${join(stateDir, 'temporal.db')}`);
  console.log('Ctrl-C stops it; the data stays for the next start.');
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  server.process.once('exit', (code) => process.exit(code ?? 1));
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
