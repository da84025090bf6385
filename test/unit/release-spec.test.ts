/** The release spec: deploy specs by file or inline, the order checked, every bad field named. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ReleaseSpecError, loadReleaseFile, resolveReleaseSpec } from '../../src/spec/release';
import { specDocument } from '../workflow/fixtures/spec';

const exampleSpec = resolve(__dirname, '..', '..', 'examples', 'user-management', 'shipwatch.yaml');
const audit = () => ({ ...specDocument(), service: 'audit-log', kubernetes: { deployment: 'audit-log', container: 'app' }, serviceUrl: 'http://audit-log.production:8080' });

async function issuesOf(document: unknown): Promise<{ path: string; message: string }[]> {
  const err = await resolveReleaseSpec(document, { file: 'release.yaml', baseDir: tmpdir() }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ReleaseSpecError);
  expect((err as Error).message).toContain('release.yaml is not a valid release spec');
  return (err as ReleaseSpecError).issues;
}

describe('release spec', () => {
  test('services by file and inline, with defaults: rollback-all, watched together, 24h shared window', async () => {
    const spec = await resolveReleaseSpec(
      { kind: 'Release', name: 'accounts-1', services: [{ spec: exampleSpec }, { inline: audit(), after: ['user-management'], approval: 'required', release: 'v2.0.0' }] },
      { file: 'release.yaml' },
    );
    expect(spec.name).toBe('accounts-1');
    expect(spec.onFailure).toBe('rollback-all');
    expect(spec.watch).toEqual({ mode: 'together', durationMs: 86_400_000, trainTimeoutMs: 6 * 3_600_000 });
    expect(spec.statusIntervalMs).toBe(10_000);
    expect(spec.services.map((s) => [s.name, s.after, s.approval, s.spec.release])).toEqual([
      ['user-management', [], 'none', 'v1.0.0'],
      ['audit-log', ['user-management'], 'required', 'v2.0.0'],
    ]);
    // The referenced file went through the deploy spec loader: its smoke suite file is inlined.
    expect(spec.services[0]!.spec.smoke?.suite.steps.length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  test('bad fields of the release, unknown keys included, are named by path', async () => {
    const issues = await issuesOf({ kind: 'Deployment', name: 'Bad Name', services: [], onFailure: 'panic', watch: { mode: 'sometimes', windw: '1h' }, extra: 1 });
    const paths = issues.map((i) => i.path).sort();
    expect(paths).toEqual(['', 'kind', 'name', 'onFailure', 'services', 'watch', 'watch.mode'].sort());
    expect(issues.find((i) => i.path === 'kind')!.message).toContain('kind: Release');
    expect(issues.find((i) => i.path === '')!.message).toMatch(/extra/);
    expect(issues.find((i) => i.path === 'watch')!.message).toMatch(/windw/);
  });

  test('a service needs exactly one of spec and inline', async () => {
    const issues = await issuesOf({ kind: 'Release', name: 'r', services: [{ after: [] }, { spec: 'a.yaml', inline: {} }] });
    expect(issues.map((i) => i.path)).toEqual(['services.0', 'services.1']);
    expect(issues[0]!.message).toContain('either spec');
  });

  test('a bad deploy spec inside is named by the service and the field inside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'release-spec-'));
    writeFileSync(join(dir, 'bad.yaml'), 'service: audit-log\nnamespace: production\nrelease: v1\nimage: nope\n');
    const issues = await issuesOf({ kind: 'Release', name: 'r', services: [{ spec: join(dir, 'bad.yaml') }, { inline: { ...audit(), watch: { duration: 'soon' } } }, { spec: join(dir, 'missing.yaml') }] });
    const paths = issues.map((i) => i.path);
    expect(paths).toContain(`services.0.spec(${join(dir, 'bad.yaml')}).image`);
    expect(paths).toContain(`services.0.spec(${join(dir, 'bad.yaml')}).kubernetes`);
    expect(paths).toContain('services.1.inline.watch.duration');
    expect(issues.find((i) => i.path === `services.2.spec(${join(dir, 'missing.yaml')})`)!.message).toContain('cannot read');
  });

  test('unknown names in after and cycles are refused, naming them', async () => {
    const unknown = await issuesOf({ kind: 'Release', name: 'r', services: [{ spec: exampleSpec, after: ['billing'] }] });
    expect(unknown).toEqual([{ path: 'services.0.after', message: 'unknown service "billing": expected one of "user-management"' }]);
    const cycle = await issuesOf({ kind: 'Release', name: 'r', services: [{ spec: exampleSpec, after: ['audit-log'] }, { inline: audit(), after: ['user-management'] }] });
    expect(cycle).toEqual([{ path: 'services', message: 'the order has a cycle: user-management → audit-log → user-management (a service cannot wait for itself)' }]);
  });

  test('a file: relative deploy spec paths are relative to the release file; bad YAML is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'release-file-'));
    writeFileSync(join(dir, 'svc.yaml'), JSON.stringify(audit()));
    writeFileSync(join(dir, 'release.yaml'), 'kind: Release\nname: r\nwatch: { mode: per-service }\nservices:\n  - spec: svc.yaml\n');
    const spec = await loadReleaseFile(join(dir, 'release.yaml'));
    expect(spec.services.map((s) => s.name)).toEqual(['audit-log']);
    expect(spec.watch.mode).toBe('per-service');
    writeFileSync(join(dir, 'broken.yaml'), 'kind: [Release\n');
    await expect(loadReleaseFile(join(dir, 'broken.yaml'))).rejects.toThrow(/not valid YAML/);
  });
});
