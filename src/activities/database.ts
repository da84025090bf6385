/**
 * Database backup before migrations: `pg_dump` in custom format into a backup store (a directory),
 * with size and sha256, verified readable with `pg_restore --list`. Restore is a separate, explicit
 * operation (`restoreDatabase`, exposed by the CLI), never run automatically by a rollback.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { BackupFailedError, InvalidInputError, NotFoundError, PermanentError } from './errors';
import { resolveSecret as defaultResolveSecret } from './secrets';
import type { BackupInput, DatabasePort, ProgressContext } from './types';
import type { BackupResult } from '../model';

/** Runs a command inside a pod, streaming its stdout (the Kubernetes adapter's exec). */
export type PodExec = (input: { namespace: string; pod: string; command: string[]; stdout: Writable; signal: AbortSignal }) => Promise<void>;

export interface DatabaseBackupOptions {
  /** Directory holding pg_dump and pg_restore; default the newest /usr/lib/postgresql/N/bin, else PATH. */
  binDir?: string;
  resolveSecret?: (ref: string) => Promise<string>;
  /** Needed for `mode: pod` (pg_dump inside the database pod, as the seed does). */
  podExec?: PodExec;
  now?: () => Date;
  heartbeatIntervalMs?: number;
}

/** Metadata written beside each dump (`<dump>.json`), checked again before a restore. */
export interface BackupManifest {
  service: string;
  namespace: string;
  release: string;
  createdAt: string;
  sizeBytes: number;
  sha256: string;
  tocEntries: number;
  mode: 'local' | 'pod';
}

export function findPgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_dump')))
    .sort((a, b) => Number(b) - Number(a))[0];
  return version === undefined ? undefined : join(root, version, 'bin');
}

/**
 * Splits a postgres URL into a password-free URL and the password, so the password travels in
 * PGPASSWORD and never shows up in `ps`, logs or error messages.
 */
export function splitDatabaseUrl(url: string): { url: string; password?: string; display: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError('the database URL is not a URL (expected postgres://user:password@host:port/db)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new InvalidInputError(`the database URL must start with postgres:// (got ${parsed.protocol}//)`);
  }
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.password = '';
  return { url: parsed.toString(), ...(password !== undefined ? { password } : {}), display: `${parsed.host}${parsed.pathname}` };
}

// pg_dump/pg_restore messages meaning "retrying will not help".
const PERMANENT = /password authentication failed|does not exist|permission denied|no pg_hba\.conf entry|server version mismatch|aborting because of server version/;

function failure(what: string, stderr: string): Error {
  const message = `${what}: ${stderr.trim().split('\n').slice(-3).join(' ')}`;
  return PERMANENT.test(stderr) ? new BackupFailedError(message) : new Error(message);
}

function run(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdout?: Writable; signal?: AbortSignal },
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}) });
    let stdout = '';
    let stderr = '';
    if (options.stdout) child.stdout.pipe(options.stdout);
    else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-10_000)));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ stdout, stderr, code }));
  });
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Counts the entries of a custom-format dump's table of contents; throws when it is unreadable. */
export async function listDump(pgRestore: string, path: string): Promise<number> {
  const listed = await run(pgRestore, ['--list', path], {});
  if (listed.code !== 0) throw new BackupFailedError(`pg_restore --list cannot read ${path}: ${listed.stderr.trim()}`);
  return listed.stdout.split('\n').filter((line) => line.trim() !== '' && !line.startsWith(';')).length;
}

const stamp = (d: Date): string => d.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_');

export function createDatabaseBackups(options: DatabaseBackupOptions = {}): DatabasePort {
  const binDir = options.binDir ?? findPgBinDir();
  const bin = (name: string): string => (binDir ? join(binDir, name) : name);
  const resolveSecret = options.resolveSecret ?? defaultResolveSecret;
  const now = options.now ?? (() => new Date());

  return {
    async backup(input: BackupInput, ctx: ProgressContext): Promise<BackupResult> {
      const started = Date.now();
      const resolvedUrl = await resolveSecret(input.databaseUrl);
      const db = splitDatabaseUrl(resolvedUrl);
      const dir = resolve(input.store, safe(input.namespace), safe(input.service));
      await mkdir(dir, { recursive: true });
      const final = join(dir, `${safe(input.release)}_${stamp(now())}.dump`);
      const partial = `${final}.partial`;
      const out = createWriteStream(partial);
      const env: NodeJS.ProcessEnv = db.password !== undefined ? { PGPASSWORD: db.password } : {};
      // Heartbeat the bytes written so far: a stuck dump is noticed, a live one is not cancelled.
      const timer = setInterval(() => {
        void stat(partial).then(
          (s) => ctx.heartbeat({ bytes: s.size }),
          () => ctx.heartbeat({ bytes: 0 }),
        );
      }, options.heartbeatIntervalMs ?? 5000);
      try {
        if (input.mode === 'pod') {
          if (!options.podExec) {
            throw new InvalidInputError('backup mode "pod" needs the Kubernetes adapter\'s exec, which this worker does not have; use mode "local"');
          }
          if (!input.pod) throw new InvalidInputError('backup mode "pod" needs database.backup.pod (e.g. postgres-0)');
          // The URL (with its password) is resolved on the worker and only passed to the pod's pg_dump.
          await options.podExec({ namespace: input.namespace, pod: input.pod, command: ['pg_dump', '--format=custom', `--dbname=${resolvedUrl}`], stdout: out, signal: ctx.signal });
        } else {
          const dumped = await run(bin('pg_dump'), ['--format=custom', `--dbname=${db.url}`], { env, stdout: out, signal: ctx.signal });
          if (dumped.code !== 0) throw failure(`pg_dump of ${db.display} failed (exit ${dumped.code})`, dumped.stderr);
        }
        await new Promise<void>((r, j) => (out.writableFinished ? r() : out.once('finish', r).once('error', j)));
        const { size } = await stat(partial);
        if (size === 0) throw new BackupFailedError(`pg_dump of ${db.display} produced an empty file`);
        const tocEntries = await listDump(bin('pg_restore'), partial);
        const sha256 = await sha256Of(partial);
        await rename(partial, final);
        const manifest: BackupManifest = {
          service: input.service,
          namespace: input.namespace,
          release: input.release,
          createdAt: now().toISOString(),
          sizeBytes: size,
          sha256,
          tocEntries,
          mode: input.mode,
        };
        await writeFile(`${final}.json`, JSON.stringify(manifest, null, 2) + '\n');
        return { location: final, sizeBytes: size, sha256, durationMs: Date.now() - started, tocEntries };
      } catch (err) {
        out.destroy();
        await rm(partial, { force: true });
        throw err;
      } finally {
        clearInterval(timer);
      }
    },
  };
}

export interface RestoreInput {
  /** A secret reference (env:NAME, file:PATH) or, from the CLI, the URL itself. */
  databaseUrl: string;
  /** Path of the .dump written by a backup. */
  location: string;
  /** The digest the dump must have when it has no manifest beside it (`<dump>.json`). */
  expectedSha256?: string;
  binDir?: string;
  resolveSecret?: (ref: string) => Promise<string>;
}

export interface RestoreResult {
  location: string;
  sha256: string;
  tocEntries: number;
  durationMs: number;
}

/** A dump checked before a restore: its digest matches, and pg_restore can read it. */
export interface VerifiedBackup {
  location: string;
  sha256: string;
  tocEntries: number;
  /** The manifest written beside the dump by the backup, when there is one. */
  manifest?: BackupManifest;
}

/**
 * Checks a dump before anything is restored from it: the sha256 must equal its manifest's (or
 * `expectedSha256`), and `pg_restore --list` must read it. A dump with neither a manifest nor an
 * expected digest is refused: an unverified restore would be a silent pass.
 */
export async function verifyBackup(input: { location: string; expectedSha256?: string; binDir?: string }): Promise<VerifiedBackup> {
  const binDir = input.binDir ?? findPgBinDir();
  if (!existsSync(input.location)) throw new NotFoundError(`no backup at ${input.location}`);
  const manifestPath = `${input.location}.json`;
  const manifest = existsSync(manifestPath) ? (JSON.parse(await readFile(manifestPath, 'utf8')) as BackupManifest) : undefined;
  const expected = input.expectedSha256?.toLowerCase() ?? manifest?.sha256;
  if (expected === undefined) {
    throw new PermanentError(`backup ${input.location} has no manifest (${manifestPath}) to check its sha256 against; give the expected digest (shipwatch restore --sha256 <digest>) to restore it`);
  }
  const sha256 = await sha256Of(input.location);
  if (sha256 !== expected) {
    const source = input.expectedSha256 !== undefined ? 'the expected digest' : 'its manifest';
    throw new PermanentError(`backup ${input.location} does not match ${source} (sha256 ${sha256}, expected ${expected}); refusing to restore`, {
      details: { sha256, expected },
    });
  }
  const tocEntries = await listDump(binDir ? join(binDir, 'pg_restore') : 'pg_restore', input.location);
  return { location: input.location, sha256, tocEntries, ...(manifest ? { manifest } : {}) };
}

/**
 * Restores a dump over the database (`pg_restore --clean --if-exists --single-transaction`): all
 * or nothing. Verifies the dump first (`verifyBackup`), so a damaged or unverifiable file is refused.
 */
export async function restoreDatabase(input: RestoreInput): Promise<RestoreResult> {
  const started = Date.now();
  const binDir = input.binDir ?? findPgBinDir();
  const bin = (name: string): string => (binDir ? join(binDir, name) : name);
  const verified = await verifyBackup({
    location: input.location,
    ...(input.expectedSha256 !== undefined ? { expectedSha256: input.expectedSha256 } : {}),
    ...(binDir !== undefined ? { binDir } : {}),
  });
  const ref = input.databaseUrl;
  const url = /^(env|file):/.test(ref) ? await (input.resolveSecret ?? defaultResolveSecret)(ref) : ref;
  const db = splitDatabaseUrl(url);
  const restored = await run(
    bin('pg_restore'),
    ['--clean', '--if-exists', '--no-owner', '--single-transaction', '--exit-on-error', `--dbname=${db.url}`, input.location],
    { env: db.password !== undefined ? { PGPASSWORD: db.password } : {} },
  );
  if (restored.code !== 0) throw failure(`pg_restore into ${db.display} failed (exit ${restored.code})`, restored.stderr);
  return { location: input.location, sha256: verified.sha256, tocEntries: verified.tocEntries, durationMs: Date.now() - started };
}
