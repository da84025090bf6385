/**
 * A throwaway Prometheus for tests and the demo: Debian's package (installed through
 * tools/ensure-apt.sh when missing), a generated config scraping the given targets every second,
 * listening on a free 127.0.0.1 port with the lifecycle API on so targets and rule files can change
 * at run time (`setTargets`, `reload`), optionally loading rule files (`ruleFiles`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withoutServiceStarts } from './postgres';
import { freePort } from './ports';

const TOOLS_DIR = join(__dirname, '..');

export interface ScrapeTarget {
  /** The `job` label, e.g. "user-management". */
  job: string;
  /** host:port pairs. */
  targets: string[];
  metricsPath?: string;
  /** Extra labels put on every series of this job (e.g. namespace, pod). */
  labels?: Record<string, string>;
  /** More target groups of the same job, each with its own labels (e.g. one per pod). */
  more?: { targets: string[]; labels?: Record<string, string> }[];
}

export interface LocalPrometheus {
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  configPath: string;
  /** The Prometheus process (a benchmark reads its CPU time). */
  pid: number | undefined;
  /** Rewrites the config with these scrape jobs and reloads Prometheus. */
  setTargets(jobs: ScrapeTarget[]): Promise<void>;
  /** Reloads Prometheus (the config and its rule files, e.g. after a rule file changed). */
  reload(): Promise<void>;
  /** Resolves once Prometheus has loaded rule groups with these names (after start or reload). */
  waitForRuleGroups(names: string[], timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export class LocalPrometheusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalPrometheusError';
  }
}

export interface PrometheusOptions {
  jobs?: ScrapeTarget[];
  /** Scrape and rule evaluation interval; 1s keeps tests short. */
  scrapeInterval?: string;
  /** Alerting rule files (paths) to load, e.g. the sample service's alerts. */
  ruleFiles?: string[];
  /** Scrape jobs written as Prometheus has them (e.g. the blackbox probe job `shipwatch monitoring render` generates), after `jobs`. */
  rawJobs?: Record<string, unknown>[];
}

/** Renders a prometheus.yml: the same shape as examples/user-management/prometheus.yml. */
export function renderPrometheusConfig(jobs: ScrapeTarget[], options: { scrapeInterval?: string; ruleFiles?: string[]; rawJobs?: Record<string, unknown>[] } = {}): string {
  const interval = options.scrapeInterval ?? '1s';
  const lines = ['global:', `  scrape_interval: ${interval}`, `  evaluation_interval: ${interval}`];
  if (options.ruleFiles?.length) {
    lines.push('rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`));
  }
  lines.push('scrape_configs:');
  const raw = options.rawJobs ?? [];
  if (jobs.length === 0 && raw.length === 0) lines[lines.length - 1] = 'scrape_configs: []';
  for (const job of jobs) {
    lines.push(`  - job_name: ${JSON.stringify(job.job)}`, `    metrics_path: ${JSON.stringify(job.metricsPath ?? '/metrics')}`, '    static_configs:');
    for (const group of [{ targets: job.targets, labels: job.labels }, ...(job.more ?? [])]) {
      lines.push(`      - targets: ${JSON.stringify(group.targets)}`);
      if (group.labels && Object.keys(group.labels).length > 0) {
        lines.push('        labels:', ...Object.entries(group.labels).map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`));
      }
    }
  }
  // A YAML list item per raw job, indented under scrape_configs (JSON is YAML: one line each).
  for (const job of raw) lines.push(`  - ${JSON.stringify(job)}`);
  return lines.join('\n') + '\n';
}

export function ensurePrometheusInstalled(): string {
  const which = (): string | undefined => {
    try {
      return execFileSync('bash', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const found = which();
  if (found) return found;
  withoutServiceStarts(() => {
    execFileSync('bash', [join(TOOLS_DIR, 'ensure-apt.sh'), 'prometheus=prometheus'], { stdio: ['ignore', 'inherit', 'inherit'] });
  });
  const installed = which();
  if (!installed) throw new LocalPrometheusError('prometheus is not on PATH after installing the Debian package');
  return installed;
}


async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new LocalPrometheusError(`prometheus exited ${child.exitCode}: ${log().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new LocalPrometheusError(`prometheus did not become ready within 60s: ${log().slice(-2000)}`);
}

/** Queries a Prometheus has answered on /api/v1/query (any status), from its own /metrics. */
export async function queriesAnswered(prometheusUrl: string): Promise<number> {
  const text = await (await fetch(`${prometheusUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('prometheus_http_requests_total{') && l.includes('handler="/api/v1/query"'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** Starts Prometheus; call stop() (tests: afterAll) to end it and delete its data. */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<LocalPrometheus> {
  const binary = ensurePrometheusInstalled();
  const root = mkdtempSync(join(tmpdir(), 'shipwatch-prom-'));
  const configPath = join(root, 'prometheus.yml');
  const render = (jobs: ScrapeTarget[]): string => renderPrometheusConfig(jobs, options);
  writeFileSync(configPath, render(options.jobs ?? []));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(root, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--storage.tsdb.retention.time=1d',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
  });
  const killSync = (): void => {
    child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', killSync);
  try {
    await waitReady(url, child, () => log);
  } catch (err) {
    killSync();
    process.removeListener('exit', killSync);
    throw err;
  }
  const reload = async (): Promise<void> => {
    const res = await fetch(`${url}/-/reload`, { method: 'POST' });
    if (!res.ok) throw new LocalPrometheusError(`reload failed: ${res.status} ${await res.text()}`);
  };
  return {
    port,
    url,
    configPath,
    pid: child.pid,
    async setTargets(jobs) {
      writeFileSync(configPath, render(jobs));
      await reload();
    },
    reload,
    async waitForRuleGroups(names, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let loaded: string[] = [];
      while (Date.now() < deadline) {
        const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data?: { groups?: { name: string }[] } };
        loaded = (body.data?.groups ?? []).map((g) => g.name);
        if (names.every((n) => loaded.includes(n))) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new LocalPrometheusError(`rule groups ${names.join(', ')} not loaded within ${timeoutMs}ms (loaded: ${loaded.join(', ') || 'none'})`);
    },
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
