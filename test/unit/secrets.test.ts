/** Secret references: env and file resolve; missing ones name the reference and never a value. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureType } from '../../src/activities/errors';
import { isSecretRef, resolveSecret, SECRET_REF_PATTERN, SecretNotFoundError } from '../../src/activities/secrets';

test('env: and file: references resolve (file contents trimmed)', async () => {
  process.env.SW_UNIT_SECRET = 's3cret';
  await expect(resolveSecret('env:SW_UNIT_SECRET')).resolves.toBe('s3cret');
  const dir = mkdtempSync(join(tmpdir(), 'sw-secret-'));
  try {
    writeFileSync(join(dir, 'url'), 'postgres://u:p@h/db\n');
    await expect(resolveSecret(`file:${join(dir, 'url')}`)).resolves.toBe('postgres://u:p@h/db');
    const missing = await resolveSecret(`file:${join(dir, 'nope')}`).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SecretNotFoundError);
    expect((missing as Error).message).toMatch(/ENOENT.*write the secret to/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing env secret is a non-retryable SecretUnavailableError naming how to set it', async () => {
  delete process.env.SW_UNIT_MISSING;
  const err = (await resolveSecret('env:SW_UNIT_MISSING').catch((e: unknown) => e)) as SecretNotFoundError;
  expect(err).toBeInstanceOf(SecretNotFoundError);
  expect(err.type).toBe(FailureType.SecretUnavailable);
  expect(err.message).toContain('export SW_UNIT_MISSING=');
});

test('an unrecognised reference is refused without echoing it (it may be a pasted secret)', async () => {
  const err = (await resolveSecret('hunter2-literal-password').catch((e: unknown) => e)) as Error;
  expect(err).toBeInstanceOf(SecretNotFoundError);
  expect(err.message).not.toContain('hunter2');
});

test('what counts as a secret reference (the one pattern the spec schema also validates with)', () => {
  for (const ref of ['env:DATABASE_URL', 'env:_X1', 'file:/run/secrets/db', 'file:relative/path']) expect(isSecretRef(ref)).toBe(true);
  for (const value of ['env:1BAD', 'env:', 'file:', 'postgres://u:p@h/db', 'ENV:X', ' env:X']) expect(isSecretRef(value)).toBe(false);
  expect(SECRET_REF_PATTERN.flags).toBe('');
});
