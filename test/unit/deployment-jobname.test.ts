/** Migration Job names: unique per deployment, deterministic per run, at most 63 characters (src/workflows/deployment/context.ts). */
import { jobNameFor } from '../../src/workflows/deployment/context';

test('two deployments started within the same minute (time-ordered run IDs share their first 8 digits) get different Job names', () => {
  const a = jobNameFor('user-management', 'migrate', '01a22dc0-7c1e-7a10-8f00-3e1b2c4d5e6f');
  const b = jobNameFor('user-management', 'migrate', '01a22dc0-81f3-7b22-9a11-aa55cc77ee99');
  expect(a).toBe('user-management-migrate-3e1b2c4d5e6f');
  expect(b).not.toBe(a);
  expect(jobNameFor('user-management', 'migrate', '01a22dc0-7c1e-7a10-8f00-3e1b2c4d5e6f')).toBe(a);
});

test('a long service name is shortened, never the unique suffix', () => {
  const name = jobNameFor('a'.repeat(70), 'migrate-rollback', '01a22dc0-7c1e-7a10-8f00-3e1b2c4d5e6f');
  expect(name.length).toBeLessThanOrEqual(63);
  expect(name.endsWith('-migrate-rollback-3e1b2c4d5e6f')).toBe(true);
});
