/** Small helpers shared by the benchmark parts: percentiles, progress lines, process memory, the machine. */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Distribution {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an already sorted array. */
function rank(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    p50: round(rank(sorted, 50)),
    p99: round(rank(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
    mean: round(sorted.length ? sum / sorted.length : Number.NaN),
  };
}

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

export function formatDistribution(d: Distribution, unit = 'ms'): string {
  return `p50 ${d.p50} ${unit}, p99 ${d.p99} ${unit}, max ${d.max} ${unit}, mean ${d.mean} ${unit} (n=${d.n})`;
}

const started = Date.now();

/** `npm run build` (dist/src and the workflow bundles), so a part measures the code as it is now, not a dist/ left from before. */
export async function buildProject(): Promise<void> {
  progress('  compiling the project (npm run build)…');
  await new Promise<void>((resolve, reject) =>
    execFile('npm', ['run', 'build'], { cwd: join(__dirname, '..'), maxBuffer: 1 << 24 }, (err, _stdout, stderr) => (err ? reject(new Error(`npm run build failed: ${stderr.slice(-600)}`)) : resolve())),
  );
}

/** A progress line on stderr, prefixed with the time since the bench started. */
export function progress(line: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${s}s] ${line}\n`);
}

/** Resident set size of a process in MiB, from /proc (Linux), or undefined if it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat, or undefined. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** The machine's CPU time stolen by the hypervisor (other guests) since boot, seconds (/proc/stat), or undefined where there is none to read. */
export function stealSeconds(): number | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const steal = Number(cpu[8]);
    return Number.isFinite(steal) ? steal / 100 : undefined;
  } catch {
    return undefined;
  }
}

export interface Machine {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  loadAverage: string;
  node: string;
  kernel: string;
}

/** What the figures came from: recorded beside every result. */
export function machine(): Machine {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    date: new Date().toISOString(),
    cpuModel: model.trim(),
    cores: Number(sh('nproc', [])) || cpus().length,
    memoryGiB: round(totalmem() / 2 ** 30),
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    node: process.version,
    kernel: sh('uname', ['-r']),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Asks `ready` every `everyMs` until it says true; prints each new answer it gives instead; fails after `timeoutMs`, naming `what` and the last answer. */
export async function waitUntil(what: string, timeoutMs: number, ready: () => Promise<string | true>, everyMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const answer = await ready().catch((err: Error) => `(${err.message.slice(0, 80)})`);
    if (answer === true) return;
    if (answer !== last) progress(`  ${answer}`);
    last = answer;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what} (${answer})`);
    await sleep(everyMs);
  }
}
