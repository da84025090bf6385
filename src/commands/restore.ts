/**
 * `shipwatch restore --backup <path-or-id> --to <database> --yes`: puts a dump taken by the backup
 * step back into a database with pg_restore (src/activities/database.ts). The dump is verified
 * first (sha256 against its manifest, readable by pg_restore); without --yes nothing is touched and
 * the command says what would be overwritten.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { CommandContext } from '../cli/context';
import { ExitCode, ExitError } from '../cli/errors';
import { restoreDatabase, splitDatabaseUrl, verifyBackup } from '../activities/database';
import type { VerifiedBackup } from '../activities/database';
import { isPermanentError, NotFoundError } from '../activities/errors';
import { resolveSecret } from '../activities/secrets';

export interface RestoreOptions {
  /** A .dump path, or a backup id (the dump's file name without .dump) looked up in `store`. */
  backup: string;
  /** The database to overwrite: env:NAME, file:PATH or a postgres:// URL. */
  to: string;
  yes?: boolean;
  /** Where to look up a backup id; the spec's default store is ./backups. */
  store?: string;
  /** Expected digest for a dump without its manifest. */
  sha256?: string;
  json?: boolean;
}

function dumpsUnder(dir: string, depth = 3): string[] {
  if (depth < 0 || !existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return dumpsUnder(path, depth - 1);
    return entry.name.endsWith('.dump') ? [path] : [];
  });
}

/** The dump a `--backup` names: an existing file, or the one dump in the store with that id. */
export function findBackup(ref: string, store = './backups'): string {
  for (const candidate of [ref, `${ref}.dump`]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return resolve(candidate);
  }
  const root = resolve(store);
  const id = ref.replace(/\.dump$/, '');
  const matches = dumpsUnder(root).filter((path) => {
    const rel = relative(root, path).replace(/\.dump$/, '');
    return rel === id || rel.endsWith(`/${id}`);
  });
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new ExitError(ExitCode.USAGE, `backup id '${ref}' matches ${matches.length} dumps in ${root}: ${matches.join(', ')}; give the path of the one to restore.`);
  }
  throw new ExitError(
    ExitCode.NOT_FOUND,
    `No backup '${ref}': it is not a file, and ${root} has no dump with that id. The deployment report names the backup's path; give it, or --store <dir> for the spec's database.backup.store.`,
  );
}

/** The database URL `--to` names; the password never leaves this function except to pg_restore. */
async function databaseUrl(ref: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    if (ref.startsWith('env:')) {
      const value = env[ref.slice(4)];
      if (!value) throw new NotFoundError(`${ref} is not set: export ${ref.slice(4)}=postgres://user:password@host:5432/db`);
      return value;
    }
    return ref.startsWith('file:') ? (await resolveSecret(ref)).trim() : ref;
  } catch (err) {
    throw new ExitError(ExitCode.USAGE, `--to ${ref}: ${(err as Error).message}`);
  }
}

function describeBackup(b: VerifiedBackup): string {
  const m = b.manifest;
  const origin = m ? `${m.service} ${m.release} in ${m.namespace}, taken ${m.createdAt}, ` : '';
  return `${b.location} (${origin}${b.tocEntries} entries, sha256 ${b.sha256} verified)`;
}

/** Maps the adapter's refusals to exit codes: a missing dump is NOT_FOUND, a bad one REFUSED. */
function exitFor(err: unknown): never {
  if (err instanceof ExitError) throw err;
  if (err instanceof NotFoundError) throw new ExitError(ExitCode.NOT_FOUND, err.message);
  if (isPermanentError(err)) throw new ExitError(ExitCode.REFUSED, (err as Error).message);
  throw new ExitError(ExitCode.FAILED, `restore failed: ${(err as Error).message}`);
}

export async function restoreCommand(opts: RestoreOptions, ctx: CommandContext): Promise<number> {
  const location = findBackup(opts.backup, opts.store);
  const url = await databaseUrl(opts.to, ctx.env);
  let target: string;
  try {
    target = splitDatabaseUrl(url).display;
  } catch (err) {
    throw new ExitError(ExitCode.USAGE, `--to ${opts.to}: ${(err as Error).message}`);
  }
  const verified = await verifyBackup({ location, ...(opts.sha256 ? { expectedSha256: opts.sha256 } : {}) }).catch(exitFor);
  if (!opts.yes) {
    throw new ExitError(
      ExitCode.USAGE,
      `Refusing to restore without --yes. This would overwrite database ${target}: every object in the dump is dropped and recreated from backup ${describeBackup(verified)}; rows written since the backup are lost. Run again with --yes to restore.`,
    );
  }
  const restored = await restoreDatabase({ databaseUrl: url, location, ...(opts.sha256 ? { expectedSha256: opts.sha256 } : {}) }).catch(exitFor);
  if (opts.json) ctx.out.data({ restored: true, database: target, ...restored, ...(verified.manifest ? { manifest: verified.manifest } : {}) });
  else ctx.out.line(`Restored ${target} from ${describeBackup(verified)} in ${(restored.durationMs / 1000).toFixed(1)}s.`);
  return ExitCode.OK;
}
