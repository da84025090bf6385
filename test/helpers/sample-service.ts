/** Starts the user-management sample service in-process on a migrated throwaway database. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { migrate } from '../../examples/user-management/src/migrations';
import { startService, type RunningService, type ServiceConfig } from '../../examples/user-management/src/server';
import { smokeSuiteSchema, type SmokeSuite } from '../../src/spec/schema';

export const SAMPLE_DIR = join(__dirname, '../../examples/user-management');
export const ADMIN = { username: 'admin', password: 'admin-password-1' };
export const ADMIN_TOKEN = 'test-admin-token';

export async function migrateDatabase(url: string, target?: number): Promise<void> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    await migrate(db, target);
  } finally {
    await db.end();
  }
}

export async function startSampleService(databaseUrl: string, overrides: Partial<ServiceConfig> = {}): Promise<RunningService> {
  return startService({
    port: 0,
    host: '127.0.0.1',
    version: 'v1.0.0',
    databaseUrl,
    jwtSecret: 'test-jwt-secret',
    adminToken: ADMIN_TOKEN,
    bootstrapAdmin: ADMIN,
    faults: { errorRate: 0, latencyMs: 0 },
    ...overrides,
  });
}

export function loadSmokeSuite(): SmokeSuite {
  return smokeSuiteSchema.parse(parse(readFileSync(join(SAMPLE_DIR, 'smoke.yaml'), 'utf8')));
}

/** Env-var secrets the sample smoke suite reads, set for the test process. */
export function smokeSecrets(): Record<string, string> {
  process.env.SW_TEST_SMOKE_USER_PASSWORD = 'smoke-password-1';
  process.env.SW_TEST_ADMIN_USERNAME = ADMIN.username;
  process.env.SW_TEST_ADMIN_PASSWORD = ADMIN.password;
  return {
    SMOKE_USER_PASSWORD: 'env:SW_TEST_SMOKE_USER_PASSWORD',
    ADMIN_USERNAME: 'env:SW_TEST_ADMIN_USERNAME',
    ADMIN_PASSWORD: 'env:SW_TEST_ADMIN_PASSWORD',
  };
}

export async function setFaults(baseUrl: string, faults: { errorRate?: number; latencyMs?: number }): Promise<void> {
  const res = await fetch(`${baseUrl}/admin/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (!res.ok) throw new Error(`setting faults failed: ${res.status} ${await res.text()}`);
  // The service answers with the faults now in force: a test relies on them, so check them here.
  const inForce = (await res.json()) as Record<string, unknown>;
  for (const [name, value] of Object.entries(faults)) {
    if (inForce[name] !== value) throw new Error(`setting faults: asked ${name}=${value}, the service has ${JSON.stringify(inForce)}`);
  }
}
