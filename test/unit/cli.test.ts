/** The CLI's commands as typed functions: parsing, messages and exit codes, without a server. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/client';
import { resolveDeploymentId } from '../../src/cli/connect';
import type { CommandContext } from '../../src/cli/context';
import { ExitCode, ExitError, exitCodeFor } from '../../src/cli/errors';
import { createOutput } from '../../src/cli/output';
import { formatStatusLine } from '../../src/cli/render';
import { currentUser } from '../../src/cli/user';
import { listQuery } from '../../src/commands/list';
import { validateCommand } from '../../src/commands/validate';
import { freePort } from '../helpers/ports';
import type { DeploymentStatus } from '../../src/model';

function capture(): { ctx: CommandContext; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  const stdout = new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) });
  const stderr = new Writable({ write: (c: Buffer, _e, cb) => ((err += c.toString()), cb()) });
  const ctx: CommandContext = {
    out: createOutput({ stdout, stderr }),
    env: {},
    connect: () => Promise.reject(new Error('no server in unit tests')),
  };
  return { ctx, stdout: () => out, stderr: () => err };
}

const example = join(__dirname, '..', '..', 'examples', 'user-management', 'shipwatch.yaml');

test('validate describes a good spec and exits 0', async () => {
  const { ctx, stdout } = capture();
  await expect(validateCommand({ file: example }, ctx)).resolves.toBe(ExitCode.OK);
  expect(stdout()).toContain('valid');
  expect(stdout()).toContain('user-management v1.0.0 → namespace production');
  expect(stdout()).toContain('HighErrorRate, HighResponseTime, PodDown, HighMemoryUsage');
});

test('validate names every bad field of a broken spec and exits with USAGE', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shipwatch-cli-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(
    file,
    ['service: User_Management', 'namespace: production', 'release: v1', 'image: nginx', 'kubernetes: { deployment: web }', 'serviceUrl: not-a-url', 'watch: { interval: soon }'].join('\n'),
  );
  const { ctx } = capture();
  const error = await validateCommand({ file }, ctx).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ExitError);
  expect((error as ExitError).code).toBe(ExitCode.USAGE);
  const text = (error as ExitError).message;
  for (const path of ['service', 'image', 'kubernetes.container', 'serviceUrl', 'watch.interval']) expect(text).toContain(`- ${path}:`);
  expect(text).toContain('nothing was started');
});

test('deployments are named by ID or by namespace/service', () => {
  expect(resolveDeploymentId('production/user-management')).toBe('deploy-production-user-management');
  expect(resolveDeploymentId('deploy-staging-api')).toBe('deploy-staging-api');
});

test('list filters become a visibility query with quoted values', () => {
  expect(listQuery({ service: "o'brien", state: 'rolled-back' })).toBe(
    "WorkflowType = 'deploymentWorkflow' AND ShipwatchService = 'o\\'brien' AND ShipwatchOutcome = 'ROLLED_BACK'",
  );
  expect(() => listQuery({ state: 'exploded' })).toThrow(/--state must be one of/);
});

test('outcomes map to the documented exit codes', () => {
  expect(exitCodeFor({ outcome: 'SUCCEEDED' })).toBe(0);
  expect(exitCodeFor({ outcome: 'IN_PROGRESS' })).toBe(0);
  expect(exitCodeFor({ outcome: 'FAILED' })).toBe(1);
  expect(exitCodeFor({ outcome: 'ROLLED_BACK' })).toBe(3);
  expect(exitCodeFor({ outcome: 'MANUAL_ACTION_REQUIRED' })).toBe(5);
});

test('the live status line shows pods, traffic, alerts and time left', () => {
  const status: DeploymentStatus = {
    deploymentId: 'deploy-production-user-management',
    service: 'user-management',
    namespace: 'production',
    release: 'v1.0.0',
    image: 'ghcr.io/org/user-management:v1.0.0',
    phase: 'WATCH',
    outcome: 'IN_PROGRESS',
    paused: false,
    startedAt: '2026-11-26T10:00:00.000Z',
    rollout: { step: 3, steps: 3, newReady: 3, replicas: 3 },
    trafficNewPercent: 100,
    alerts: [{ rule: 'HighErrorRate', severity: 'critical', state: 'firing', value: 0.12 }],
    watch: { startedAt: '2026-11-26T10:20:00.000Z', endsAt: '2026-11-27T10:20:00.000Z', timeLeftMs: 3_600_000, checks: 10 },
  };
  expect(formatStatusLine(status)).toBe('user-management v1.0.0 │ WATCH │ pods 3/3 new │ traffic 100% new │ FIRING: HighErrorRate │ watch ends in 1h');
});

test('an unreachable Temporal is exit code 4 with a sentence on how to start one', async () => {
  const port = await freePort();
  const previous = process.env.TEMPORAL_ADDRESS;
  process.env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
  const errors: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (errors.push(String(chunk)), true));
  try {
    expect(await main(['node', 'shipwatch', 'status', 'production/user-management'])).toBe(ExitCode.UNREACHABLE);
  } finally {
    spy.mockRestore();
    if (previous === undefined) delete process.env.TEMPORAL_ADDRESS;
    else process.env.TEMPORAL_ADDRESS = previous;
  }
  expect(errors.join('')).toContain(`Cannot reach Temporal at 127.0.0.1:${port}`);
  expect(errors.join('')).toContain("npm run temporal");
});

test('usage errors exit 2', async () => {
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await main(['node', 'shipwatch', 'rollback', 'x'])).toBe(ExitCode.USAGE);
    expect(await main(['node', 'shipwatch', 'no-such-command'])).toBe(ExitCode.USAGE);
  } finally {
    spy.mockRestore();
  }
});

/** Runs the CLI entry with stdout and stderr captured. */
async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const outSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  const errSpy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  try {
    const code = await main(['node', 'shipwatch', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    outSpy.mockRestore();
    errSpy.mockRestore();
  }
}

test('the entry passes flags and --json through to the command it loads', async () => {
  const plain = await runCli(['validate', '-f', example]);
  expect(plain.code).toBe(ExitCode.OK);
  expect(plain.stdout).toContain(`${example}: valid.`);
  const json = await runCli(['--json', 'validate', '-f', example]);
  expect(json.code).toBe(ExitCode.OK);
  expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, spec: { service: 'user-management', namespace: 'production' } });
});

test('monitoring render writes the files from the loaded spec; a bad spec exits USAGE naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shipwatch-cli-monitoring-'));
  const rendered = await runCli(['--json', 'monitoring', 'render', '-f', example, '-o', dir]);
  expect(rendered.code).toBe(ExitCode.OK);
  const result = JSON.parse(rendered.stdout) as { files: string[]; about: Record<string, string> };
  expect(result.files).toHaveLength(7);
  expect(result.files).toContain(join(dir, 'runbook.md'));
  expect(result).not.toHaveProperty('applied');

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, ['service: user-management', 'namespace: production', 'release: v1', 'image: nginx:1', 'kubernetes: { deployment: web, container: app }', 'serviceUrl: http://x:80', 'watch: { interval: soon }'].join('\n'));
  const refused = await runCli(['monitoring', 'render', '-f', bad, '-o', join(dir, 'bad-out')]);
  expect(refused.code).toBe(ExitCode.USAGE);
  expect(refused.stderr).toContain('- watch.interval:');
  expect(refused.stdout).toBe('');
});

test('the CLI user is SHIPWATCH_USER, then USER', () => {
  expect(currentUser({ SHIPWATCH_USER: 'release-bot', USER: 'alice' })).toBe('release-bot');
  expect(currentUser({ USER: 'alice' })).toBe('alice');
  expect(currentUser({})).not.toBe('');
});

test('bad flag values exit USAGE with a sentence that says what is expected, before any connection', async () => {
  const extend = await runCli(['extend', 'production/user-management', '--by', 'soon']);
  expect(extend.code).toBe(ExitCode.USAGE);
  expect(extend.stderr).toContain('--by expects a duration such as "2h" or "30m", not "soon".');
  const rollback = await runCli(['rollback', 'production/user-management', '--reason', ' ']);
  expect(rollback.code).toBe(ExitCode.USAGE);
  expect(rollback.stderr).toContain('Say why: shipwatch rollback <id> --reason');
  const list = await runCli(['list', '--state', 'exploded']);
  expect(list.code).toBe(ExitCode.USAGE);
  expect(list.stderr).toContain('--state must be one of running, succeeded, rolled-back, failed, manual-action, not "exploded".');
  for (const [args, limit] of [[[], 'lots'], [[], '0'], [['--releases'], '2.5']] as const) {
    const listed = await runCli(['list', ...args, '--limit', limit]);
    expect(listed.code).toBe(ExitCode.USAGE);
    expect(listed.stderr).toContain(`--limit must be a whole number, 1 or more, not "${limit}".`);
  }
});

test('commands never import each other: what they share lives in src/cli/', () => {
  const dir = join(__dirname, '..', '..', 'src', 'commands');
  const offenders = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/from '\.\/([^']+)'|import\('\.\/([^']+)'\)/g)].map((m) => `${f} → ${m[1] ?? m[2]}`));
  expect(offenders).toEqual([]);
});
