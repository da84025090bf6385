/** Backup and restore on a real PostgreSQL: data → backup → damage → restore → data back. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startPostgres, type LocalPostgres } from '../helpers/postgres';
import { migrateDatabase } from '../helpers/sample-service';
import { createDatabaseBackups, restoreDatabase, type BackupManifest } from '../../src/activities/database';
import { BackupFailedError, InvalidInputError, PermanentError } from '../../src/activities/errors';
import { SecretNotFoundError } from '../../src/activities/secrets';
import type { BackupInput, ProgressContext } from '../../src/activities/types';

jest.setTimeout(120_000);

let pg: LocalPostgres;
let store: string;
const ctx = (): ProgressContext => ({ heartbeat: () => {}, signal: new AbortController().signal });

async function query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const db = new Client({ connectionString: pg.url('users') });
  await db.connect();
  try {
    return (await db.query<T>(sql, params)).rows;
  } finally {
    await db.end();
  }
}

beforeAll(async () => {
  pg = await startPostgres({ database: 'users' });
  await migrateDatabase(pg.url('users'));
  store = mkdtempSync(join(tmpdir(), 'shipwatch-backups-'));
  process.env.SW_TEST_DATABASE_URL = pg.url('users');
});
afterAll(async () => {
  await pg?.stop();
  rmSync(store, { recursive: true, force: true });
});

const input = (over: Partial<BackupInput> = {}): BackupInput => ({
  service: 'user-management',
  release: 'v1.0.0',
  namespace: 'production',
  databaseUrl: 'env:SW_TEST_DATABASE_URL',
  store,
  mode: 'local',
  ...over,
});

test('data → backup → damage → restore → data back', async () => {
  await query(`INSERT INTO users (username, email, password_hash) SELECT 'user' || g, 'u' || g || '@example.com', 'x' FROM generate_series(1, 500) g`);
  const before = await query<{ n: string }>('SELECT count(*) AS n FROM users');

  const heartbeats: unknown[] = [];
  const result = await createDatabaseBackups({ heartbeatIntervalMs: 1 }).backup(input(), { ...ctx(), heartbeat: (d) => heartbeats.push(d) });
  expect(result.location).toMatch(new RegExp(`^${store}/production/user-management/v1\\.0\\.0_\\d{8}_\\d{6}\\.dump$`));
  expect(result.sizeBytes).toBeGreaterThan(1000);
  expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(result.tocEntries).toBeGreaterThan(5);
  const manifest = JSON.parse(readFileSync(`${result.location}.json`, 'utf8')) as BackupManifest;
  expect(manifest).toMatchObject({ sha256: result.sha256, sizeBytes: result.sizeBytes, release: 'v1.0.0' });
  // The dump holds no password: it went through PGPASSWORD, not the command line.
  expect(readFileSync(result.location).includes(Buffer.from(pg.password))).toBe(false);

  // Damage: delete rows, drop a table.
  await query(`DELETE FROM users WHERE username LIKE 'user1%'`);
  await query('DROP TABLE user_roles');
  expect(Number((await query<{ n: string }>('SELECT count(*) AS n FROM users'))[0]!.n)).toBeLessThan(Number(before[0]!.n));

  const restored = await restoreDatabase({ databaseUrl: 'env:SW_TEST_DATABASE_URL', location: result.location });
  expect(restored.sha256).toBe(result.sha256);
  expect(await query('SELECT count(*) AS n FROM users')).toEqual(before);
  expect(await query(`SELECT to_regclass('public.user_roles')::text AS t`)).toEqual([{ t: 'user_roles' }]);
  expect((await query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).map((r) => r.name)).toEqual(['0001_initial', '0002_roles', '0003_user_roles']);
});

test('a damaged dump is refused before anything is restored', async () => {
  const result = await createDatabaseBackups().backup(input({ release: 'v1.0.1' }), ctx());
  const bytes = readFileSync(result.location);
  bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
  writeFileSync(result.location, bytes);
  await expect(restoreDatabase({ databaseUrl: pg.url('users'), location: result.location })).rejects.toThrow(/does not match its manifest/);
  await expect(restoreDatabase({ databaseUrl: pg.url('users'), location: result.location })).rejects.toBeInstanceOf(PermanentError);
});

test('a wrong password is a permanent BackupFailedError that does not echo the password', async () => {
  process.env.SW_TEST_BAD_URL = pg.url('users').replace(`:${encodeURIComponent(pg.password)}@`, ':not-the-password@');
  const err = await createDatabaseBackups()
    .backup(input({ databaseUrl: 'env:SW_TEST_BAD_URL' }), ctx())
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BackupFailedError);
  expect((err as Error).message).toMatch(/password authentication failed/);
  expect((err as Error).message).not.toContain('not-the-password');
});

test('a missing secret names the reference', async () => {
  delete process.env.SW_TEST_MISSING;
  await expect(createDatabaseBackups().backup(input({ databaseUrl: 'env:SW_TEST_MISSING' }), ctx())).rejects.toBeInstanceOf(SecretNotFoundError);
});

test('pod mode streams pg_dump through the Kubernetes exec and verifies the dump locally', async () => {
  const calls: { namespace: string; pod: string; command: string[] }[] = [];
  const backups = createDatabaseBackups({
    // Stands in for the Kubernetes adapter's exec: runs the command it was asked to run, here.
    podExec: ({ namespace, pod, command, stdout }) =>
      new Promise((resolve, reject) => {
        calls.push({ namespace, pod, command });
        const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
        child.stdout.pipe(stdout);
        child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
      }),
  });
  const result = await backups.backup(input({ mode: 'pod', pod: 'postgres-0', release: 'v1.0.2' }), ctx());
  expect(calls[0]).toMatchObject({ namespace: 'production', pod: 'postgres-0' });
  expect(calls[0]!.command.slice(0, 2)).toEqual(['pg_dump', '--format=custom']);
  expect(result.tocEntries).toBeGreaterThan(5);
});

test('pod mode without an exec says so', async () => {
  await expect(createDatabaseBackups().backup(input({ mode: 'pod', pod: 'postgres-0' }), ctx())).rejects.toBeInstanceOf(InvalidInputError);
});
