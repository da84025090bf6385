/**
 * The migrate command of the sample service, shaped like the seed's `python manage.py migrate`:
 *   migrate --no-input        apply every migration (forward to the latest)
 *   migrate users 0002        move app "users" to 0002_roles (unapplying later ones)
 *   migrate --list            only print the state
 * Output ends with "Migrations applied:" and one "  [X] 0001_initial" line per migration.
 */
import { Client } from 'pg';
import { APP, appliedMigrations, formatMigrationState, migrate, MIGRATIONS, resolveTarget } from './migrations';

export async function runMigrate(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const positional = argv.filter((a) => !a.startsWith('--'));
  const listOnly = argv.includes('--list');
  const url = env.DATABASE_URL;
  if (!url) {
    out('error: DATABASE_URL is not set (postgres://user:password@host:port/db)');
    return 2;
  }
  let target = MIGRATIONS.length - 1;
  if (positional.length > 0) {
    if (positional[0] !== APP || positional.length !== 2) {
      out(`usage: migrate [--no-input] [${APP} <target>|--list]`);
      return 2;
    }
    target = resolveTarget(positional[1]!);
  }
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    if (!listOnly) {
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
