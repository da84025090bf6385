/**
 * docker-compose.yml and the Dockerfile promise the multi-machine shape (Temporal on PostgreSQL,
 * the Web UI, shipwatch workers). No Docker engine runs here, so their shape is checked instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { searchAttributes } from '../../src/workflows/messages';
import { DEV_SERVER_DYNAMIC_CONFIG, devServerArgs, devServerDynamicConfigArgs } from '../../tools/local/temporal';

const root = join(__dirname, '..', '..');
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, unknown> | string[];
  command?: string[];
  deploy?: { replicas?: number };
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const versions = Object.fromEntries(
  [...readFileSync(join(root, 'tools', 'versions.env'), 'utf8').matchAll(/^([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

test('Temporal runs on PostgreSQL, at the server version the cluster tier builds and runs', () => {
  const temporal = compose.services.temporal!;
  expect(versions.TEMPORAL_SERVER_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  expect(temporal.image).toBe(`temporalio/auto-setup:${versions.TEMPORAL_SERVER_VERSION}`);
  expect(compose.services['temporal-admin']!.image).toBe(`temporalio/admin-tools:${versions.TEMPORAL_SERVER_VERSION}`);
  expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  expect(temporal.ports).toContain('7233:7233');
  expect(compose.services.postgresql!.image).toMatch(/^postgres:/);
  expect(Object.keys(temporal.depends_on ?? {})).toContain('postgresql');
});

test('Temporal has the settings the cluster tier runs with: its dynamic config file, 4 history shards, PostgreSQL 15', () => {
  const temporal = compose.services.temporal!;
  const local = readFileSync(join(root, 'tools', 'temporal-server', 'config', 'shipwatch.yaml'), 'utf8');
  expect(local).toMatch(/numHistoryShards: 4$/m);
  expect(temporal.environment?.NUM_HISTORY_SHARDS).toBe('4');
  expect(temporal.volumes).toContain('./tools/temporal-server/dynamicconfig:/etc/temporal/config/dynamicconfig:ro');
  expect(temporal.environment?.DYNAMIC_CONFIG_FILE_PATH).toBe('config/dynamicconfig/shipwatch.yaml');
  expect(existsSync(join(root, 'tools', 'temporal-server', 'dynamicconfig', 'shipwatch.yaml'))).toBe(true);
  expect(compose.services.postgresql!.image).toBe('postgres:15'); // the Debian 12 server the cluster tier starts
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

test('the dev server runs with the dynamic config the server on PostgreSQL has beyond the dev server’s own (eager activities)', () => {
  const file = parse(readFileSync(join(root, 'tools', 'temporal-server', 'dynamicconfig', 'shipwatch.yaml'), 'utf8')) as Record<string, { value: unknown }[]>;
  expect(DEV_SERVER_DYNAMIC_CONFIG).toEqual({ 'system.enableActivityEagerExecution': true });
  const args = devServerArgs({ port: 7233, uiPort: 8233, dbFile: '/tmp/x.db' });
  for (const [key, value] of Object.entries(DEV_SERVER_DYNAMIC_CONFIG)) {
    expect(file[key]).toEqual([{ value }]);
    expect(args.join(' ')).toContain(`--dynamic-config-value ${key}=${JSON.stringify(value)}`);
    expect(devServerDynamicConfigArgs().join(' ')).toContain(`--dynamic-config-value ${key}=${JSON.stringify(value)}`);
  }
});
