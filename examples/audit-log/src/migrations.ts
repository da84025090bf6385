/**
 * The audit-log schema as ordered migrations with up and down steps (0001_events, 0002_actor_index),
 * shaped like user-management's: a `schema_migrations` ledger, one transaction per migration, an
 * advisory lock so two migration Jobs never interleave.
 */
import type { ClientBase } from 'pg';

export const APP = 'audit';

export interface Migration {
  name: string;
  up: string;
  down: string;
}

export const MIGRATIONS: Migration[] = [
  {
    name: '0001_events',
    up: `CREATE TABLE audit_events (
           id BIGSERIAL PRIMARY KEY,
           actor TEXT NOT NULL,
           action TEXT NOT NULL,
           target TEXT NOT NULL DEFAULT '',
           at TIMESTAMPTZ NOT NULL DEFAULT now()
         )`,
    down: 'DROP TABLE audit_events',
  },
  {
    name: '0002_actor_index',
    up: 'CREATE INDEX audit_events_actor_at ON audit_events (actor, at DESC)',
    down: 'DROP INDEX audit_events_actor_at',
  },
];

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const LOCK_KEY = 4_711_0101;

/** Names of the applied migrations, in migration order (empty when the ledger does not exist yet). */
export async function appliedMigrations(db: Pick<ClientBase, 'query'>): Promise<string[]> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('public.schema_migrations')::text AS t`);
  if (!exists.rows[0]?.t) return [];
  const rows = await db.query<{ name: string }>('SELECT name FROM schema_migrations WHERE app = $1', [APP]);
  const applied = new Set(rows.rows.map((r) => r.name));
  return MIGRATIONS.map((m) => m.name).filter((n) => applied.has(n));
}

/** "0001" or "0001_events" to a migration index; "zero" means before the first. */
export function resolveTarget(target: string): number {
  if (target === 'zero') return -1;
  const index = MIGRATIONS.findIndex((m) => m.name === target || m.name.startsWith(`${target}_`));
  if (index < 0) throw new MigrationError(`no migration "${target}" in app ${APP}; known: ${MIGRATIONS.map((m) => m.name).join(', ')}, zero`);
  return index;
}

export interface MigrateStep {
  action: 'apply' | 'unapply';
  name: string;
}

/** Moves the schema to `target` (a migration index), one migration per transaction. */
export async function migrate(db: ClientBase, target: number, onStep: (step: MigrateStep) => void): Promise<MigrateStep[]> {
  const steps: MigrateStep[] = [];
  await db.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      app TEXT NOT NULL, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (app, name))`);
    const applied = new Set(await appliedMigrations(db));
    const plan: (MigrateStep & { sql: string; ledger: string })[] = [];
    MIGRATIONS.forEach((m, i) => {
      if (i <= target && !applied.has(m.name)) plan.push({ action: 'apply', name: m.name, sql: m.up, ledger: 'INSERT INTO schema_migrations (app, name) VALUES ($1, $2)' });
    });
    [...MIGRATIONS.entries()].reverse().forEach(([i, m]) => {
      if (i > target && applied.has(m.name)) plan.push({ action: 'unapply', name: m.name, sql: m.down, ledger: 'DELETE FROM schema_migrations WHERE app = $1 AND name = $2' });
    });
    for (const step of plan) {
      await db.query('BEGIN');
      try {
        await db.query(step.sql);
        await db.query(step.ledger, [APP, step.name]);
        await db.query('COMMIT');
      } catch (err) {
        await db.query('ROLLBACK');
        throw new MigrationError(`${step.action === 'apply' ? 'applying' : 'unapplying'} ${APP}.${step.name} failed: ${(err as Error).message}`);
      }
      steps.push({ action: step.action, name: step.name });
      onStep({ action: step.action, name: step.name });
    }
  } finally {
    await db.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
  }
  return steps;
}

/** The `[X] 0001_events` lines the migration Job's log parser reads. */
export function formatMigrationState(applied: string[]): string[] {
  const done = new Set(applied);
  return MIGRATIONS.map((m) => `  [${done.has(m.name) ? 'X' : ' '}] ${m.name}`);
}
