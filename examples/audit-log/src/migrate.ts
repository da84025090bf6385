/**
 * The migrate command of audit-log, the same shape as user-management's (and the seed's
 * `manage.py migrate`): `migrate --no-input` (to the latest), `migrate audit 0001` (back to a
 * target), `migrate --list`. Output ends with "Migrations applied:" and one "[X] name" line each.
 */
import { Client } from 'pg';
import { APP, appliedMigrations, formatMigrationState, migrate, MIGRATIONS, resolveTarget } from './migrations';

export async function runMigrate(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const positional = argv.filter((a) => !a.startsWith('--'));
  if (!env.DATABASE_URL) {
    out('error: DATABASE_URL is not set (postgres://user:password@host:port/db)');
    return 2;
  }
  if (positional.length > 0 && (positional[0] !== APP || positional.length !== 2)) {
    out(`usage: migrate [--no-input] [${APP} <target>|--list]`);
    return 2;
  }
  const target = positional.length > 0 ? resolveTarget(positional[1]!) : MIGRATIONS.length - 1;
  const db = new Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  try {
    if (!argv.includes('--list')) {
      out('Operations to perform:');
      out(positional.length > 0 ? `  Target specific migration: ${positional[1]}, from ${APP}` : `  Apply all migrations: ${APP}`);
      out('Running migrations:');
      const started = Date.now();
      const steps = await migrate(db, target, (s) => out(`  ${s.action === 'apply' ? 'Applying' : 'Unapplying'} ${APP}.${s.name}... OK`));
      if (steps.length === 0) out('  No migrations to apply.');
      out(`Migration duration: ${((Date.now() - started) / 1000).toFixed(2)}s`);
    }
    out('Migrations applied:');
    for (const line of formatMigrationState(await appliedMigrations(db))) out(line);
    return 0;
  } finally {
    await db.end();
  }
}

if (require.main === module) {
  runMigrate(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    },
  );
}
