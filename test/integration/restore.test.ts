/**
 * `shipwatch restore` on a real PostgreSQL: data → backup → a release's migrations fail half-way
 * (the first commits, the second fails) → restore → data and schema back. Plus the refusals: no
 * --yes (nothing touched, says what would be overwritten), a dump whose sha256 does not match.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { startPostgres, type LocalPostgres } from '../helpers/postgres';
import { migrateDatabase } from '../helpers/sample-service';
import type { CommandContext } from '../../src/cli/context';
import { ExitCode, ExitError } from '../../src/cli/errors';
import { createOutput } from '../../src/cli/output';
import { createDatabaseBackups } from '../../src/activities/database';
import type { BackupResult } from '../../src/model';
import { restoreCommand } from '../../src/commands/restore';

jest.setTimeout(120_000);

let pg: LocalPostgres;
let store: string;
let backup: BackupResult;

async function sql<T extends Record<string, unknown>>(text: string): Promise<T[]> {
  const db = new Client({ connectionString: pg.url('users') });
  await db.connect();
  try {
    return (await db.query<T>(text)).rows;
  } finally {
    await db.end();
  }
}

/** What the restore must bring back: rows, a column the failed release dropped, the ledger. */
async function snapshot(): Promise<unknown> {
  return {
    users: await sql('SELECT username, email, display_name FROM users ORDER BY username'),
    roles: await sql('SELECT user_id, role_id FROM user_roles ORDER BY user_id, role_id'),
    ledger: await sql(`SELECT name FROM schema_migrations ORDER BY name`),
  };
}

/**
 * The next release's migrations, each in its own transaction as the sample service runs them:
 * 0004 rewrites data and drops a column and commits; 0005 fails on the duplicate emails.
 */
async function failingRelease(): Promise<string> {
  const db = new Client({ connectionString: pg.url('users') });
  await db.connect();
  const steps = [
    { name: '0004_normalise_email', up: `UPDATE users SET email = upper(email); ALTER TABLE users DROP COLUMN display_name; DELETE FROM user_roles` },
    { name: '0005_unique_email', up: 'CREATE UNIQUE INDEX users_email_key ON users (email)' },
  ];
  try {
    for (const step of steps) {
      await db.query('BEGIN');
      try {
        await db.query(step.up);
        await db.query(`INSERT INTO schema_migrations (app, name) VALUES ('users', '${step.name}')`);
        await db.query('COMMIT');
      } catch (err) {
        await db.query('ROLLBACK');
        return `${step.name}: ${(err as Error).message}`;
      }
    }
    return 'no failure';
  } finally {
    await db.end();
  }
}

function capture(): { ctx: CommandContext; stdout: () => string } {
  let out = '';
  const stdout = new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return {
    ctx: { out: createOutput({ stdout, stderr: sink }), env: { TARGET_DATABASE_URL: pg.url('users') }, connect: () => Promise.reject(new Error('restore needs no Temporal')) },
    stdout: () => out,
  };
}

beforeAll(async () => {
  pg = await startPostgres({ database: 'users' });
  await migrateDatabase(pg.url('users'));
  store = mkdtempSync(join(tmpdir(), 'shipwatch-restore-'));
  await sql(`INSERT INTO users (username, email, password_hash, display_name) SELECT 'user' || g, 'u' || (g % 50) || '@example.com', 'x', 'User ' || g FROM generate_series(1, 200) g`);
  await sql(`INSERT INTO user_roles (user_id, role_id) SELECT id, 1 + id % 3 FROM users`);
  process.env.SW_RESTORE_TEST_URL = pg.url('users');
  backup = await createDatabaseBackups().backup(
    { service: 'user-management', namespace: 'production', release: 'v1.0.7', databaseUrl: 'env:SW_RESTORE_TEST_URL', store, mode: 'local' },
    { heartbeat: () => {}, signal: new AbortController().signal },
  );
});
afterAll(async () => {
  await pg?.stop();
  if (store) rmSync(store, { recursive: true, force: true });
});

test('data → backup → migration fails half-way → restore (by id, --yes) → data and schema back', async () => {
  const before = await snapshot();
  expect(await failingRelease()).toMatch(/^0005_unique_email: could not create unique index/);
  const damaged = await snapshot().catch((err: Error) => err.message);
  expect(damaged).toMatch(/column "display_name" does not exist/);

  // Without --yes: refused with exit 2, saying what would be overwritten; nothing is touched.
  const refused = await restoreCommand({ backup: backup.location, to: 'env:TARGET_DATABASE_URL' }, capture().ctx).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ExitError);
  expect((refused as ExitError).code).toBe(ExitCode.USAGE);
  expect((refused as ExitError).message).toContain(`This would overwrite database 127.0.0.1:${pg.port}/users`);
  expect((refused as ExitError).message).toContain(`user-management v1.0.7 in production`);
  expect((refused as ExitError).message).toContain(`sha256 ${backup.sha256} verified`);
  expect((refused as ExitError).message).not.toContain(pg.password);
  expect(await sql(`SELECT name FROM schema_migrations WHERE name = '0004_normalise_email'`)).toHaveLength(1);

  const id = basename(backup.location, '.dump');
  const { ctx, stdout } = capture();
  await expect(restoreCommand({ backup: id, store, to: 'env:TARGET_DATABASE_URL', yes: true }, ctx)).resolves.toBe(ExitCode.OK);
  expect(stdout()).toContain(`Restored 127.0.0.1:${pg.port}/users from ${backup.location}`);
  expect(await snapshot()).toEqual(before);
  expect((await sql<{ n: string }>('SELECT count(*) AS n FROM users'))[0]!.n).toBe('200');
});

test('a dump whose sha256 does not match its manifest is refused, naming both digests; the database is untouched', async () => {
  const damaged = join(store, 'damaged.dump');
  copyFileSync(backup.location, damaged);
  copyFileSync(`${backup.location}.json`, `${damaged}.json`);
  const bytes = readFileSync(damaged);
  bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
  writeFileSync(damaged, bytes);
  await sql(`UPDATE users SET display_name = 'changed after the backup' WHERE username = 'user1'`);

  const err = await restoreCommand({ backup: damaged, to: 'env:TARGET_DATABASE_URL', yes: true }, capture().ctx).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ExitError);
  expect((err as ExitError).code).toBe(ExitCode.REFUSED);
  const actual = (err as ExitError).message.match(/sha256 ([0-9a-f]{64}), expected ([0-9a-f]{64})/);
  expect(actual?.[2]).toBe(backup.sha256);
  expect(actual?.[1]).not.toBe(backup.sha256);
  expect(await sql(`SELECT display_name FROM users WHERE username = 'user1'`)).toEqual([{ display_name: 'changed after the backup' }]);
});

test('a dump without its manifest needs the expected sha256; an unknown backup id is NOT_FOUND', async () => {
  const bare = join(store, 'bare.dump');
  copyFileSync(backup.location, bare);
  const unverified = await restoreCommand({ backup: bare, to: 'env:TARGET_DATABASE_URL', yes: true }, capture().ctx).catch((e: unknown) => e);
  expect((unverified as ExitError).code).toBe(ExitCode.REFUSED);
  expect((unverified as ExitError).message).toContain('has no manifest');
  await expect(restoreCommand({ backup: bare, to: 'env:TARGET_DATABASE_URL', yes: true, sha256: backup.sha256 }, capture().ctx)).resolves.toBe(ExitCode.OK);
  expect(await sql(`SELECT display_name FROM users WHERE username = 'user1'`)).toEqual([{ display_name: 'User 1' }]);

  const missing = await restoreCommand({ backup: 'v9.9.9_20990101_000000', store, to: 'env:TARGET_DATABASE_URL', yes: true }, capture().ctx).catch((e: unknown) => e);
  expect((missing as ExitError).code).toBe(ExitCode.NOT_FOUND);
});
