/**
 * Checks generated rules and dashboard queries with Prometheus's own parser (`promtool`), so a
 * typo in a spec's PromQL is caught before it reaches a cluster.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** promtool rejected the input; `output` is what it said. */
export class PromtoolError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`${message}\n${output}`);
    this.name = 'PromtoolError';
  }
}

/** promtool is not installed. */
export class PromtoolMissingError extends Error {
  constructor() {
    super("promtool is not on PATH: install Debian's prometheus package (bash tools/ensure-apt.sh promtool=prometheus)");
    this.name = 'PromtoolMissingError';
  }
}

export function runPromtool(args: string[], options: { cwd?: string } = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile('promtool', args, { cwd: options.cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new PromtoolMissingError());
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output });
    });
  });
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'shipwatch-promtool-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `promtool check rules` on a rules file's text; resolves with promtool's report. */
export async function checkRules(rulesYaml: string): Promise<string> {
  return withTempDir(async (dir) => {
    const file = join(dir, 'rules.yml');
    await writeFile(file, rulesYaml);
    const { code, output } = await runPromtool(['check', 'rules', file]);
    if (code !== 0) throw new PromtoolError('promtool check rules failed', output);
    return output;
  });
}

/**
 * Parses each PromQL expression with Prometheus's parser by wrapping it in a recording rule.
 * Grafana's own variables ($__rate_interval…) are not PromQL and must be substituted first.
 */
export async function checkPromQL(expressions: string[]): Promise<void> {
  const rules = expressions.map((expr, i) => ({ record: `shipwatch:check_${i}`, expr }));
  const text = stringify({ groups: [{ name: 'promql-check', rules }] }, { lineWidth: 0 });
  await checkRules(text).catch((err: unknown) => {
    if (err instanceof PromtoolError) throw new PromtoolError('invalid PromQL', err.output);
    throw err;
  });
}
