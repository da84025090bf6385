/** The deploy spec loader: the seed's defaults, and a bad spec refused with every bad field's path. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpecError, loadSpecFile, resolveSpec } from '../../src/spec';
import { specDocument } from '../workflow/fixtures/spec';

describe('deploy spec', () => {
  test("defaults reproduce the seed: four alert rules, 30s checks, 24h window, page at 5m, roll back at 15m, review in 7d, 10m step windows", async () => {
    const spec = await resolveSpec(specDocument());
    expect(spec.watch).toMatchObject({ durationMs: 86_400_000, intervalMs: 30_000, autoRollback: true, pageAfterMs: 300_000, rollbackAfterMs: 900_000, reviewAfterMs: 7 * 86_400_000 });
    expect(spec.watch.rules.map((r) => [r.name, r.op, r.threshold, r.forMs, r.severity])).toEqual([
      ['HighErrorRate', '>', 0.05, 120_000, 'critical'],
      ['HighResponseTime', '>', 0.5, 300_000, 'warning'],
      ['PodDown', '<', 2, 60_000, 'critical'],
      ['HighMemoryUsage', '>', 0.85, 300_000, 'warning'],
    ]);
    expect(spec.kubernetes).toMatchObject({ stepPods: 1, stepWindowMs: 600_000 });
    // Secrets stay references.
    expect(spec.database?.url).toBe('env:DATABASE_URL');
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  test('a step size of zero means a plain rolling update with no health windows', async () => {
    const spec = await resolveSpec({ ...specDocument(), kubernetes: { deployment: 'user-management', container: 'app', stepPods: 0 } });
    expect(spec.kubernetes.stepWindowMs).toBe(0);
  });

  test('a bad spec is refused with every bad field named by its path and what is expected', async () => {
    const bad = {
      ...specDocument(),
      service: 'User_Management',
      image: 'ghcr.io/org/user-management',
      database: { url: 'postgres://admin:hunter2@db/prod' },
      watch: { interval: 'soon', rules: [{ name: 'HighErrorRate', expr: 'x', threshold: 'high' }] },
      surprise: true,
    };
    const err = await resolveSpec(bad, { file: 'deploy.yaml' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecError);
    const issues = (err as SpecError).issues;
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['service', 'image', 'database.url', 'watch.interval', 'watch.rules.0.threshold']));
    expect(issues.find((i) => i.path === 'database.url')?.message).toMatch(/secret reference/);
    expect(issues.find((i) => i.path === 'watch.interval')?.message).toMatch(/duration/);
    expect((err as SpecError).message).toContain('deploy.yaml is not a valid deploy spec');
    expect((err as SpecError).message).toContain('image:');
    // The literal secret never appears in the error.
    expect((err as SpecError).message).not.toContain('hunter2');
  });

  test('a YAML file with a missing smoke suite file names the field and the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spec-'));
    const file = join(dir, 'deploy.yaml');
    writeFileSync(file, ['service: user-management', 'namespace: production', 'release: v1.0.0', 'image: ghcr.io/org/user-management:v1.0.0', 'kubernetes: {deployment: user-management, container: app}', 'serviceUrl: http://localhost:8080', 'smoke: {suiteFile: ./missing.yaml}', ''].join('\n'));
    const err = await loadSpecFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).issues[0]).toMatchObject({ path: 'smoke.suiteFile' });
    expect((err as SpecError).issues[0]!.message).toContain('missing.yaml');
  });
});
