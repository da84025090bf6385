/** Helpers for the end-to-end tests: the real `shipwatch` CLI as a subprocess, and waiting on it. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { TimelineEvent } from '../../src/model';
import type { DeploymentStatus } from '../../src/workflows/messages';

const BIN = join(__dirname, '..', '..', 'bin', 'shipwatch.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function shipwatch(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function status(id: string, env: Record<string, string>): Promise<DeploymentStatus | undefined> {
  const r = await shipwatch(['--json', 'status', id], env, 30_000);
  try {
    return JSON.parse(r.stdout) as DeploymentStatus;
  } catch {
    return undefined;
  }
}

export async function timeline(id: string, env: Record<string, string>): Promise<TimelineEvent[]> {
  const r = await shipwatch(['--json', 'timeline', id], env, 30_000);
  if (r.code !== 0) throw new Error(`shipwatch timeline exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as TimelineEvent[];
}

/** Polls `shipwatch status` until `predicate` holds. */
export async function waitForStatus(
  id: string,
  env: Record<string, string>,
  predicate: (s: DeploymentStatus) => boolean,
  what: string,
  timeoutMs = 300_000,
): Promise<DeploymentStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: DeploymentStatus | undefined;
  while (Date.now() < deadline) {
    last = await status(id, env);
    if (last && predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(last)}`);
}

/** The timeline is gap-free (seq 1..n) and has no event twice (same key, or same title at the same phase for pod events). */
export function timelineProblems(events: TimelineEvent[]): string[] {
  const problems: string[] = [];
  events.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`event ${i} has seq ${e.seq}, expected ${i + 1}`);
  });
  const keys = events.filter((e) => e.key).map((e) => e.key!);
  for (const k of new Set(keys)) if (keys.filter((x) => x === k).length > 1) problems.push(`duplicate key ${k}`);
  const podTitles = events.filter((e) => /^(Pod \d+ deployed|Health check passed)/.test(e.title)).map((e) => `${e.phase}:${e.title}`);
  for (const t of new Set(podTitles)) if (podTitles.filter((x) => x === t).length > 1) problems.push(`duplicate event ${t}`);
  return problems;
}
