/**
 * docker-compose.yml and the Dockerfile promise the multi-machine shape (Temporal on PostgreSQL,
 * the Web UI, shipwatch workers). No Docker engine runs here, so their shape is checked instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { searchAttributes } from '../../src/workflows/messages';

const root = join(__dirname, '..', '..');
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
  command?: string[];
  deploy?: { replicas?: number };
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

test('Temporal runs on PostgreSQL, at the server version of the pinned Temporal CLI', () => {
  const temporal = compose.services.temporal!;
  expect(temporal.image).toMatch(/^temporalio\/auto-setup:1\.29\./);
  expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  expect(temporal.ports).toContain('7233:7233');
  expect(compose.services.postgresql!.image).toMatch(/^postgres:/);
  expect(Object.keys(temporal.depends_on ?? {})).toContain('postgresql');
});

test('the Web UI talks to the server and is published on 8233 like the dev server', () => {
  const ui = compose.services['temporal-ui']!;
  expect(ui.image).toMatch(/^temporalio\/ui:/);
  expect(ui.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  expect(ui.ports).toContain('8233:8080');
});

test('every shipwatch search attribute is registered', () => {
  const command = compose.services['temporal-admin']!.command!.join(' ');
  for (const key of Object.values(searchAttributes)) expect(command).toContain(key.name);
});

test('workers are built from this repository’s Dockerfile, replicated, and pointed at the server', () => {
  const worker = compose.services.worker!;
  expect(worker.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile', target: 'runtime' });
  expect(worker.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default' });
  expect(worker.deploy?.replicas).toBeGreaterThanOrEqual(2);
});

test('the Dockerfile builds in one stage and runs the compiled worker from a slim one', () => {
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)\s+AS\s+(\S+)/gm)].map((m) => ({ image: m[1], name: m[2] }));
  expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
  expect(stages[0]!.image).toMatch(/^node:20/);
  expect(dockerfile).toMatch(/RUN npm run build/);
  expect(dockerfile).toMatch(/COPY --from=build \/app\/dist/);
  expect(dockerfile).toMatch(/postgresql-client/); // pg_dump for database backups
  expect(dockerfile).toMatch(/CMD \["node", "dist\/src\/worker\.js"\]/);
  expect(pkg.dependencies['@temporalio/worker']).toBeDefined();
});
