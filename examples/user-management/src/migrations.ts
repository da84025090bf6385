/**
 * The user-management schema as ordered migrations with up and down steps (named like the seed's
 * Django app: 0001_initial, 0002_roles, 0003_user_roles), and the runner that moves the database
 * forward to the latest or back to a target, under an advisory lock so two Jobs never interleave.
 */
import type { ClientBase } from 'pg';

export const APP = 'users';

export interface Migration {
  name: string;
  up: string;
  down: string;
}

export const MIGRATIONS: Migration[] = [
  {
    name: '0001_initial',
    up: `CREATE TABLE users (
           id BIGSERIAL PRIMARY KEY,
           username TEXT NOT NULL UNIQUE,
           email TEXT NOT NULL,
           password_hash TEXT NOT NULL,
           display_name TEXT NOT NULL DEFAULT '',
           created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
           updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )`,
    down: 'DROP TABLE users',
  },
  {
    name: '0002_roles',
    up: `CREATE TABLE roles (id SERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);
         INSERT INTO roles (name) VALUES ('admin'), ('editor'), ('viewer')`,
    down: 'DROP TABLE roles',
  },
  {
    name: '0003_user_roles',
    up: `CREATE TABLE user_roles (
           user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
           role_id INT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
           PRIMARY KEY (user_id, role_id)
         )`,
    down: 'DROP TABLE user_roles',
  },
];

/** A target that names no known migration, or a migration that failed. */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

// Any constant works; it only has to be the same for every migrate process of this app.
const LOCK_KEY = 4_711_0003;

async function ensureLedger(db: ClientBase): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    app TEXT NOT NULL, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (app, name))`);
}

/** Names of the applied migrations, in migration order (empty when the ledger does not exist yet). */
export async function appliedMigrations(db: Pick<ClientBase, 'query'>): Promise<string[]> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('public.schema_migrations')::text AS t`);
  if (!exists.rows[0]?.t) return [];
  const rows = await db.query<{ name: string }>('SELECT name FROM schema_migrations WHERE app = $1', [APP]);
  const applied = new Set(rows.rows.map((r) => r.name));
  return MIGRATIONS.map((m) => m.name).filter((n) => applied.has(n));
}

/** Resolves "0002" or "0002_roles" to a migration index; "zero" means before the first. */
export function resolveTarget(target: string): number {
  if (target === 'zero') return -1;
  const index = MIGRATIONS.findIndex((m) => m.name === target || m.name.startsWith(`${target}_`));
  if (index < 0) {
    throw new MigrationError(`no migration "${target}" in app ${APP}; known: ${MIGRATIONS.map((m) => m.name).join(', ')}, zero`);
  }
  return index;
}

export interface MigrateStep {
  action: 'apply' | 'unapply';
  name: string;
}

/**
 * Moves the schema to `target` (a migration index; default the latest), applying or unapplying one
 * migration per transaction. Reports each step through `onStep` as it completes.
 */
export async function migrate(
  db: ClientBase,
  target: number = MIGRATIONS.length - 1,
  onStep: (step: MigrateStep) => void = () => {},
): Promise<MigrateStep[]> {
  const steps: MigrateStep[] = [];
  await db.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    await ensureLedger(db);
    const applied = new Set(await appliedMigrations(db));
    for (let i = 0; i <= target; i++) {
      const m = MIGRATIONS[i]!;
      if (applied.has(m.name)) continue;
      await inTransaction(db, async () => {
        await db.query(m.up);
        await db.query('INSERT INTO schema_migrations (app, name) VALUES ($1, $2)', [APP, m.name]);
      }, `applying ${APP}.${m.name}`);
      steps.push({ action: 'apply', name: m.name });
      onStep({ action: 'apply', name: m.name });
    }
    for (let i = MIGRATIONS.length - 1; i > target; i--) {
      const m = MIGRATIONS[i]!;
      if (!applied.has(m.name)) continue;
      await inTransaction(db, async () => {
        await db.query(m.down);
        await db.query('DELETE FROM schema_migrations WHERE app = $1 AND name = $2', [APP, m.name]);
      }, `unapplying ${APP}.${m.name}`);
      steps.push({ action: 'unapply', name: m.name });
      onStep({ action: 'unapply', name: m.name });
    }
  } finally {
    await db.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
  }
  return steps;
}

async function inTransaction(db: ClientBase, fn: () => Promise<void>, what: string): Promise<void> {
  await db.query('BEGIN');
  try {
    await fn();
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK');
    throw new MigrationError(`${what} failed: ${(err as Error).message}`);
  }
}

/** The `[X] 0001_initial` lines (Django's showmigrations format) the migration Job's log parser reads. */
export function formatMigrationState(applied: string[]): string[] {
  const done = new Set(applied);
  return MIGRATIONS.map((m) => `  [${done.has(m.name) ? 'X' : ' '}] ${m.name}`);
}
