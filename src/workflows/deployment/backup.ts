/** Step 1 of the seed's execution steps: the database backup (pg_dump), when the spec names a database. */
import { LONG_RUNNING } from '../../activities/options';
import type { DeploymentContext } from './context';
import { DeploymentFailed, messageOf } from './failures';

export async function backup(ctx: DeploymentContext): Promise<void> {
  const { spec, state } = ctx;
  if (!spec.database) return;
  ctx.enter('BACKUP');
  ctx.record('started', 'Database backup started', undefined, 'backup-started');
  const { backup: how } = spec.database;
  try {
    state.backup = await ctx.runActivity(
      'backupDatabase',
      {
        service: spec.service,
        release: spec.release,
        namespace: spec.namespace,
        databaseUrl: spec.database.url,
        store: how.store,
        mode: how.mode,
        ...(how.pod ? { pod: how.pod } : {}),
      },
      { options: { ...LONG_RUNNING }, summary: 'Database backup (pg_dump)' },
    );
  } catch (err) {
    throw new DeploymentFailed(`database backup failed: ${messageOf(err)}`);
  }
  ctx.record('ok', 'Database backup completed', `${state.backup.location} (${state.backup.sizeBytes} bytes, ${state.backup.tocEntries} entries)`, 'backup');
}
