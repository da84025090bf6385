/**
 * A throwaway Prometheus blackbox exporter for tests and the demo: Debian's
 * prometheus-blackbox-exporter (installed through tools/ensure-apt.sh when missing, its service not
 * started), run with the modules `shipwatch monitoring render` generates (src/monitoring/uptime.ts),
 * listening on a free 127.0.0.1 port. Prometheus scrapes it with the rendered scrape job.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { blackboxModules } from '../../src/monitoring/uptime';
import { withoutServiceStarts } from './postgres';
import { freePort } from './ports';

const TOOLS_DIR = join(__dirname, '..');
const BINARY = 'prometheus-blackbox-exporter';

export interface LocalBlackboxExporter {
  /** host:port, as a scrape job's __address__ names it. */
  address: string;
  url: string;
  stop(): Promise<void>;
}

export class LocalBlackboxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalBlackboxError';
  }
}

/** The exporter binary, installing Debian's package on a machine without it. */
export function ensureBlackboxInstalled(): string {
  const which = (): string | undefined => {
    try {
      return execFileSync('bash', ['-c', `command -v ${BINARY}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const found = which();
  if (found) return found;
  withoutServiceStarts(() => {
    execFileSync('bash', [join(TOOLS_DIR, 'ensure-apt.sh'), `${BINARY}=prometheus-blackbox-exporter`], { stdio: ['ignore', 'inherit', 'inherit'] });
  });
  const installed = which();
  if (!installed) throw new LocalBlackboxError(`${BINARY} is not on PATH after installing the Debian package`);
  return installed;
}

/** Starts the exporter; call stop() (tests: afterAll) to end it. */
export async function startBlackboxExporter(): Promise<LocalBlackboxExporter> {
  const binary = ensureBlackboxInstalled();
  const root = mkdtempSync(join(tmpdir(), 'shipwatch-blackbox-'));
  const configPath = join(root, 'blackbox.yml');
  writeFileSync(configPath, stringify(blackboxModules()));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const child = spawn(binary, [`--config.file=${configPath}`, `--web.listen-address=${address}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
  });
  const killSync = (): void => {
    child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', killSync);
  const url = `http://${address}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      killSync();
      throw new LocalBlackboxError(`${BINARY} exited ${child.exitCode}: ${log.slice(-2000)}`);
    }
    const up = await fetch(`${url}/-/healthy`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      killSync();
      throw new LocalBlackboxError(`${BINARY} did not answer within 30s: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    url,
    async stop() {
      process.removeListener('exit', killSync);
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
