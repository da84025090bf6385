/**
 * shipwatch as users install it: `npm pack` of this checkout, installed with `npm install
 * <tarball>` into an empty directory (its dependencies come from the npm registry or the local npm
 * cache, nothing from this checkout), then the installed `shipwatch` command: --version, validate
 * on the sample spec, status against a Temporal dev server, and `shipwatch worker` until /readyz.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../tools/local/ports';
import { startDevServer } from '../../tools/local/temporal';
import type { DevServer } from '../../tools/local/temporal';

jest.setTimeout(600_000);

const run = promisify(execFile);
const REPO = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
let dir: string;
let bin: string;
let tarball: string;
let files: string[];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function shipwatch(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    // Run from the install directory with the checkout's sources out of reach.
    execFile(bin, args, { cwd: dir, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  // The tarball packs the compiled output; `npm run build` makes it (tools/test.sh builds first).
  if (!existsSync(join(REPO, 'dist', 'src', 'client.js')) || !existsSync(join(REPO, 'dist', 'workflow-bundle-untraced.js'))) {
    await run('npm', ['run', 'build'], { cwd: REPO });
  }
  dir = mkdtempSync(join(tmpdir(), 'shipwatch-package-'));
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO, maxBuffer: 1 << 24 });
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, info!.filename);
  files = info!.files.map((f) => f.path);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shipwatch-install-test', private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: dir, maxBuffer: 1 << 24 });
  bin = join(dir, 'node_modules', '.bin', 'shipwatch');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the tarball holds the compiled CLI and worker, the workflow bundle and the JSON Schema, and no tests or sources', () => {
  for (const f of ['bin/shipwatch.js', 'dist/src/client.js', 'dist/src/worker.js', 'dist/src/commands/worker.js', 'dist/workflow-bundle.js', 'dist/workflow-bundle-untraced.js', 'dist/package.json', 'schema/deploy-spec.schema.json', 'deploy/rbac.yaml']) {
    expect(files).toContain(f);
  }
  expect(files.filter((f) => /(^|\/)test\/|\.test\.|^src\/|\.ts$/.test(f))).toEqual([]);
});

test('shipwatch --version prints the package version', async () => {
  const r = await shipwatch(['--version']);
  expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
});

test('shipwatch validate checks the sample spec', async () => {
  const r = await shipwatch(['validate', '-f', join(REPO, 'examples', 'user-management', 'shipwatch.yaml')]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('valid');
  const bad = await shipwatch(['validate', '-f', join(REPO, 'test', 'fixtures', 'schema', 'invalid', 'image-without-tag.yaml')]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('image');
});

describe('against a Temporal dev server', () => {
  let server: DevServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startDevServer({ port: await freePort(), uiPort: await freePort(), dbFile: join(dir, 'temporal.db') });
    env = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default' };
  });

  afterAll(async () => {
    await server?.stop();
  });

  test('shipwatch status reaches Temporal and says there is no such deployment', async () => {
    const r = await shipwatch(['status', 'deploy-production-nothing'], env);
    expect(r.code).toBe(6);
  });

  test('shipwatch worker starts a worker that reports ready on /readyz, and stops on SIGTERM', async () => {
    const port = await freePort();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const child = spawn(bin, ['worker', '--metrics-address', `127.0.0.1:${port}`], {
      cwd: dir,
      env: { ...process.env, ...env, KUBECONFIG: kubeconfig, SHIPWATCH_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 120_000;
      let ready = false;
      while (!ready && child.exitCode === null) {
        if (Date.now() > deadline) throw new Error(`the worker was not ready after 120s: ${output}`);
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 250));
      }
      expect({ ready, exitCode: child.exitCode, output: ready ? '' : output }).toEqual({ ready: true, exitCode: null, output: '' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
