/**
 * Golden files for the deployment report: each fixture (a hand-written DeploymentReport) renders to
 * the committed Markdown beside it. Regenerate after an intended change with UPDATE_GOLDEN=1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recommendations, renderJson, renderMarkdown } from '../../src/report/render';
import type { DeploymentReport } from '../../src/model';

const DIR = join(__dirname, '../golden/report');
const load = (name: string): DeploymentReport => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as DeploymentReport;

describe.each(['success', 'rollback', 'failed-migration'])('%s report', (name) => {
  test('matches its golden Markdown', () => {
    const markdown = renderMarkdown(load(name));
    const golden = join(DIR, `${name}.md`);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, markdown);
    expect(markdown).toBe(readFileSync(golden, 'utf8'));
  });
  test('JSON round-trips to the same report', () => {
    expect(JSON.parse(renderJson(load(name)))).toEqual(load(name));
  });
});

test("the success report has every section of the seed's Deployment Report", () => {
  const md = renderMarkdown(load('success'));
  for (const heading of ['Deployment Timeline', 'Smoke Test Results', 'Post-Deployment Metrics', 'Issues Encountered', 'Database Migration Results', 'Traffic Routing', 'Rollback Status', 'Recommendations']) {
    expect(md).toContain(`### ${heading}`);
  }
  expect(md).toContain('**Status**: ✅ SUCCESS');
  expect(md).toContain('**Deployment Duration**: 23 minutes');
  expect(md).toContain('| 10:08 | Pod 1 deployed (v1.0.0) | ✅ |');
  expect(md).toContain('- ✅ User login: SUCCESS (JWT token received)');
  expect(md).toContain('- Avg Response Time: 95ms → 98ms (+3ms) ✅');
  expect(md).toContain('- Error Rate: 0% → 0% (no change) ✅');
  expect(md).toContain('  - 10:08-10:12: Old (67%) + New (33%)');
  expect(md).toContain('  - 10:16+: New (100%)');
  expect(md).toContain('Zero downtime: 412 probes, 0 failed');
  expect(md).toContain('  [X] 0003_user_roles');
  expect(md).toContain('Migration duration: 2m 14s');
  expect(md).toContain('🔔 Post-deployment review scheduled for 2025-11-22 10:00 UTC');
  expect(md).toContain('✅ Alert thresholds configured and evaluated (2880 checks)');
});

test('the rollback report says what happened and measures it against the RTO', () => {
  const md = renderMarkdown(load('rollback'));
  expect(md).toContain('**Status**: ↩️ ROLLED BACK');
  expect(md).toContain('**Rollback Required**: YES');
  expect(md).toContain('**Trigger**: alert');
  expect(md).toContain('**Rollback Duration**: 4m 12s (within the 15-minute RTO) ✅');
  expect(md).toContain('**Smoke Tests on v0.9.0**: PASSED ✅');
  expect(md).toContain('User-facing errors during transition. ❌ (530 probes, 3 failed');
});

test('recommendations follow the data: a slow rollback and a failed migration', () => {
  const slow = load('rollback');
  slow.rollback.durationMs = 20 * 60_000;
  expect(recommendations(slow).join('\n')).toContain('beyond the 15-minute RTO');
  const failed = recommendations(load('failed-migration')).join('\n');
  expect(failed).toContain('Inspect the migration job user-management-migrate-v1-0-0 logs');
  expect(failed).toContain('shipwatch restore --backup /var/backups/shipwatch/production/user-management/v1.0.0_20251115_100000.dump --to env:DATABASE_URL --yes');
  expect(failed).not.toContain('monitor for');
});

test('the report writer puts the Markdown and JSON side by side', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { createReportWriter } = await import('../../src/activities/report');
  const dir = mkdtempSync(join(tmpdir(), 'shipwatch-report-'));
  try {
    const paths = await createReportWriter().write(load('success'), dir);
    expect(paths.markdownPath).toBe(join(dir, 'user-management-v1.0.0-20251115T1000Z.md'));
    expect(readFileSync(paths.markdownPath, 'utf8')).toBe(readFileSync(join(DIR, 'success.md'), 'utf8'));
    expect(JSON.parse(readFileSync(paths.jsonPath, 'utf8'))).toEqual(load('success'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a 2-minute window is "monitor for 2 minutes", not "0 hours"; no review line claims a review when reviewAfter is off', () => {
  const short = load('success');
  short.watch = { ...short.watch!, endsAt: '2025-11-15T10:25:00.000Z' };
  delete short.reviewAt;
  const lines = recommendations(short).join('\n');
  expect(lines).toContain('monitor for 2 minutes');
  expect(lines).not.toContain('Schedule post-deployment review');
  expect(lines).toContain('No post-deployment review scheduled (watch.reviewAfter is off)');
});

test('a blind watch never ticks "Alert thresholds configured": never evaluated, partly blind, nothing watched', () => {
  const never = load('success');
  never.watch = { ...never.watch!, sight: { checks: 240, evaluated: 0, blindMs: 7_200_000, reasons: ['Prometheus unreachable for HighErrorRate (connect ECONNREFUSED)'] }, watched: 'watched 0% of 2h: no check evaluated the rules' };
  const neverText = [renderMarkdown(never), ...recommendations(never)].join('\n');
  expect(neverText).not.toContain('Alert thresholds configured');
  expect(neverText).toContain('Alert rules were never evaluated');
  expect(neverText).toContain('**Watched**: watched 0% of 2h: no check evaluated the rules ⚠️');

  const partly = load('success');
  partly.watch = { ...partly.watch!, sight: { checks: 2880, evaluated: 2764, blindMs: 58 * 60_000, reasons: ['Prometheus unreachable'] }, watched: 'watched 95% of 24h; blind 58m: Prometheus unreachable' };
  const partlyText = recommendations(partly).join('\n');
  expect(partlyText).toContain('The watch was partly blind (watched 95% of 24h; blind 58m: Prometheus unreachable)');

  const nothing = load('success');
  nothing.watch = { ...nothing.watch!, checks: 0, sight: { checks: 0, evaluated: 0, blindMs: 0, reasons: [], unwatched: 'the spec has no metrics' }, watched: 'nothing watched: the spec has no metrics' };
  const nothingText = recommendations(nothing).join('\n');
  expect(nothingText).not.toContain('Alert thresholds configured');
  expect(nothingText).toContain('Nothing was watched after the rollout (the spec has no metrics)');
});

test('a failed migration keeps the applied list, the failing migration, the log tail and the real restore command', () => {
  const report = load('failed-migration');
  report.migrations = { ...report.migrations!, failed: 'users.0003_user_roles' };
  const md = renderMarkdown(report);
  expect(md).toContain('  [X] 0002_roles');
  expect(md).toContain('**Failing migration**: users.0003_user_roles');
  expect(md).toContain('relation "roles" does not exist');
  expect(md).toContain('**Restore**: `shipwatch restore --backup /var/backups/shipwatch/production/user-management/v1.0.0_20251115_100000.dump --to env:DATABASE_URL --yes`');
});

test('the Monitoring section lists each check; the checklist ticks only checks that passed', () => {
  const md = renderMarkdown(load('success'));
  expect(md).toContain('### Monitoring');
  expect(md).toContain('- ✅ **Scrape**: 3 targets up, up{job="user-management"} = 1, all 3 pods of v1.0.0 scraped');
  expect(md).toContain('- ⚠️ not run — **Error tracking**: the spec names no error-tracking DSN');
  expect(md).toContain('✅ Alerts configured and tested');
  expect(md).toContain('⚠️ Error tracking enabled: not checked');
  const drift = load('success');
  drift.monitoring!.checks[1] = { ...drift.monitoring!.checks[1]!, status: 'failed', detail: 'HighErrorRate: threshold 0.01 installed, 0.05 in the spec' };
  expect(recommendations(drift).join('\n')).toContain('❌ Alerts configured and tested: Alerts configured failed (see Monitoring)');
  expect(renderMarkdown(load('rollback'))).toContain('Monitoring was not checked in this deployment.');
});
