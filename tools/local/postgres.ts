/**
 * A throwaway PostgreSQL cluster for tests and the demo: initdb into a temp dir, postgres on a free
 * 127.0.0.1 port with its socket in that dir, removed on stop. Debian's packages are installed
 * through tools/ensure-apt.sh when missing; as root, the server runs as the `postgres` user.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';

const TOOLS_DIR = join(__dirname, '..');

export interface LocalPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Directory with initdb, pg_ctl, pg_dump, pg_restore of the server's version. */
  binDir: string;
  dataDir: string;
  /** `postgres://postgres:…@127.0.0.1:PORT/DB` */
  url(database?: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** The server could not be installed or started; the message says what to do. */
export class LocalPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalPostgresError';
  }
}

function findBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/**
 * Installs Debian's postgresql when no server binaries exist. A policy-rc.d that forbids service
 * start-up is put in place for the install, so apt neither starts a system cluster nor fails for
 * want of an init system.
 */
export function ensurePostgresInstalled(): string {
  const found = findBinDir();
  if (found) return found;
  withoutServiceStarts(() => {
    execFileSync('bash', [join(TOOLS_DIR, 'ensure-apt.sh'), '/usr/lib/postgresql/15/bin/initdb=postgresql'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  });
  const installed = findBinDir();
  if (!installed) throw new LocalPostgresError('PostgreSQL server binaries not found under /usr/lib/postgresql after installing postgresql');
  return installed;
}

/** Runs fn with /usr/sbin/policy-rc.d denying service starts (only when we may write it and none exists). */
export function withoutServiceStarts(fn: () => void): void {
  const policy = '/usr/sbin/policy-rc.d';
  const ours = process.getuid?.() === 0 && !existsSync(policy);
  if (ours) writeFileSync(policy, '#!/bin/sh\n# shipwatch: no service start-up during package installs\nexit 101\n', { mode: 0o755 });
  try {
    fn();
  } finally {
    if (ours) rmSync(policy, { force: true });
  }
}


/** The uid/gid to run the server as: postgres when we are root (initdb refuses root), else ourselves. */
function serverIdentity(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new LocalPostgresError('running as root and there is no "postgres" user to run the server as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function run(cmd: string, args: string[], identity: { uid?: number; gid?: number }, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...identity, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new LocalPostgresError(`${cmd} ${args.join(' ')} exited ${code}: ${out.trim().slice(-2000)}`));
    });
  });
}

/** Starts a fresh cluster; call stop() (tests: in afterAll) to shut it down and delete its files. */
export async function startPostgres(options: { database?: string } = {}): Promise<LocalPostgres> {
  const binDir = ensurePostgresInstalled();
  const identity = serverIdentity();
  const root = mkdtempSync(join(tmpdir(), 'shipwatch-pg-'));
  if (identity.uid !== undefined) chownSync(root, identity.uid, identity.gid ?? identity.uid);
  const dataDir = join(root, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(root, 'pwfile');
  writeFileSync(pwfile, password, { mode: 0o600 });
  if (identity.uid !== undefined) chownSync(pwfile, identity.uid, identity.gid ?? identity.uid);
  const port = await freePort();
  const pgCtl = join(binDir, 'pg_ctl');

  await run(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], identity);
  const serverOptions = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  await run(pgCtl, ['-D', dataDir, '-l', join(root, 'server.log'), '-o', serverOptions, '-w', '-t', '60', 'start'], identity);

  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop'], { ...identity, stdio: 'ignore' });
    } catch {
      // Already gone.
    }
    rmSync(root, { recursive: true, force: true });
  };
  // A crashed test run must not leave a postgres behind.
  process.once('exit', stopSync);

  const url = (database = options.database ?? 'postgres'): string =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const pg: LocalPostgres = {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    binDir,
    dataDir,
    url,
    async createDatabase(name: string) {
      await run(join(binDir, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE "${name.replace(/"/g, '')}"`], {}, { PGPASSWORD: password });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', stopSync);
      try {
        await run(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop'], identity);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
  if (options.database && options.database !== 'postgres') await pg.createDatabase(options.database);
  return pg;
}
