/** The sample service as a real process on real PostgreSQL: the migrate command's output and targets, start-up from env, SIGTERM. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startPostgres, type LocalPostgres } from '../helpers/postgres';
import { runMigrate } from '../../examples/user-management/src/migrate';

jest.setTimeout(120_000);

let pg: LocalPostgres;
beforeAll(async () => {
  pg = await startPostgres({ database: 'users' });
});
afterAll(async () => pg?.stop());

async function migrateCmd(...argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runMigrate(argv, { DATABASE_URL: pg.url('users') }, (l) => lines.push(l));
  return { code, lines };
}
const state = (lines: string[]): string[] => lines.slice(lines.indexOf('Migrations applied:') + 1);

test('migrate goes forward to the latest, back to a target, and forward again, printing [X] lines', async () => {
  const forward = await migrateCmd('--no-input');
  expect(forward.code).toBe(0);
  expect(forward.lines).toContain('  Applying users.0001_initial... OK');
  expect(state(forward.lines)).toEqual(['  [X] 0001_initial', '  [X] 0002_roles', '  [X] 0003_user_roles']);

  const again = await migrateCmd('--no-input');
  expect(again.lines).toContain('  No migrations to apply.');

  const back = await migrateCmd('users', '0002');
  expect(back.lines).toContain('  Unapplying users.0003_user_roles... OK');
  expect(state(back.lines)).toEqual(['  [X] 0001_initial', '  [X] 0002_roles', '  [ ] 0003_user_roles']);

  expect(state((await migrateCmd('--no-input')).lines)).toEqual(['  [X] 0001_initial', '  [X] 0002_roles', '  [X] 0003_user_roles']);
  await expect(migrateCmd('users', '0009')).rejects.toThrow(/no migration "0009"/);
});

test('the service starts from env as a process, reports its version, and exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), join(__dirname, '../../examples/user-management/src/main.ts')], {
    env: { ...process.env, PORT: '0', VERSION: 'v9.9.9', DATABASE_URL: pg.url('users'), JWT_SECRET: 's' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const res = await fetch(`${url}/health`);
  expect(res.headers.get('x-app-version')).toBe('v9.9.9');
  expect(await res.json()).toMatchObject({ status: 'ok', version: 'v9.9.9', migrations: { status: 'All applied' } });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  expect(metrics).toContain('app_info{version="v9.9.9"} 1');
  expect(metrics).toMatch(/http_requests_total\{method="GET",route="\/health",status="200"\} 1/);
  expect(metrics).toContain('process_resident_memory_bytes');
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exit).toBe(0);
});
