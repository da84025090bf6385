/** The release's plain modules: the merged timeline, what ran / was undone per service, the child's spec. */
import type { DeploymentReport } from '../../src/model';
import { mergeTimelines, whatRan, whatWasUndone } from '../../src/workflows/release/report';
import { childSpec, stageOfOutcome } from '../../src/workflows/release/state';
import { renderReleaseMarkdown } from '../../src/workflows/release/render';
import { testSpec } from '../workflow/fixtures/spec';

const ev = (at: string, title: string, phase: DeploymentReport['phase'] = 'PRECHECK', extra: Record<string, unknown> = {}) => ({ at, status: 'ok' as const, title, seq: 1, phase, ...extra });

test('the merged timeline is in time order, the release first on ties, each line tagged with its source', () => {
  const merged = mergeTimelines(
    [
      { seq: 1, at: '2026-01-01T10:00:00.000Z', status: 'started', title: 'Release r started' },
      { seq: 2, at: '2026-01-01T10:00:05.000Z', status: 'ok', title: 'Rolled out, in its watch window', service: 'um' },
    ],
    [
      { service: 'um', events: [ev('2026-01-01T10:00:01.000Z', 'Deployment started'), ev('2026-01-01T10:00:05.000Z', 'Watch window started', 'WATCH')] },
      { service: 'audit', events: [ev('2026-01-01T10:00:00.000Z', 'Deployment started')] },
    ],
  );
  expect(merged.map((e) => `${e.source}: ${e.title}`)).toEqual([
    'release: Release r started',
    'audit: Deployment started',
    'um: Deployment started',
    'release: um: Rolled out, in its watch window',
    'um: Watch window started',
  ]);
});

function report(patch: Partial<DeploymentReport>): DeploymentReport {
  return {
    outcome: 'SUCCEEDED',
    previousRelease: 'v0.9.0',
    timeline: [ev('t', 'a', 'PRECHECK'), ev('t', 'b', 'ROLLOUT'), ev('t', 'c', 'WATCH')],
    rollback: { required: false, readiness: '' },
    ...patch,
  } as DeploymentReport;
}

test('what ran and what was undone, in words, for each way a service can end', () => {
  expect(whatRan(undefined, { stage: 'skipped' })).toBe('nothing: not started');
  expect(whatRan(report({ watch: { outcome: 'promoted' } as DeploymentReport['watch'] }), { stage: 'succeeded' })).toBe('PRECHECK → ROLLOUT → WATCH (watch promoted)');
  expect(whatWasUndone(report({}), { stage: 'succeeded' })).toBe('nothing (it stayed)');
  expect(whatWasUndone(report({}), { stage: 'succeeded', rollbackRequested: true })).toBe('not undone: it ended SUCCEEDED before the rollback reached it');
  expect(whatWasUndone(report({ outcome: 'FAILED' }), { stage: 'failed' })).toBe('nothing to undo: it failed before rolling anything out');
  const rolledBack = report({
    outcome: 'MANUAL_ACTION_REQUIRED',
    timeline: [ev('t', 'undo', 'ROLLBACK', { key: 'rollback-undo' })],
    rollback: { required: true, readiness: '', trigger: 'signal', reason: 'release r rolled back', migrationsRolledBack: false, failedSteps: ['migration rollback: job failed'] },
  });
  expect(whatWasUndone(rolledBack, { stage: 'manual-action' })).toBe('rollout undone (back on v0.9.0) — requested: release r rolled back; FAILED steps: migration rollback: job failed');
  expect(stageOfOutcome('MANUAL_ACTION_REQUIRED')).toBe('manual-action');
});

test('watched together, a service’s own window spans the shared window and the train’s timeout; per service it is untouched', async () => {
  const spec = await testSpec();
  const watch = { durationMs: 2 * 3_600_000, trainTimeoutMs: 6 * 3_600_000 };
  expect(childSpec(spec, { watch: { mode: 'together', ...watch } }).watch.durationMs).toBe(8 * 3_600_000);
  expect(childSpec(spec, { watch: { mode: 'per-service', ...watch } })).toBe(spec);
});

test('the Markdown report links each service’s report file when found, else the command that prints it', () => {
  const md = renderReleaseMarkdown({
    releaseId: 'release-r',
    name: 'r',
    requestedBy: 'alice',
    outcome: 'ROLLED_BACK',
    onFailure: 'rollback-all',
    watchMode: 'together',
    startedAt: '2026-01-01T10:00:00.000Z',
    failure: { service: 'audit', reason: 'smoke tests failed', at: '2026-01-01T10:01:00.000Z' },
    services: [
      { name: 'um', workflowId: 'deploy-p-um', release: 'v1', after: [], stage: 'rolled-back', outcome: 'ROLLED_BACK', ran: 'PRECHECK', undone: 'rollout undone', report: { command: 'shipwatch report deploy-p-um', markdownPath: '/r/um.md' } },
      { name: 'audit', workflowId: 'deploy-p-audit', release: 'v1', after: ['um'], stage: 'rolled-back', outcome: 'ROLLED_BACK', ran: 'PRECHECK', undone: 'rollout undone', report: { command: 'shipwatch report deploy-p-audit' } },
    ],
    timeline: [],
  });
  expect(md).toContain('# Release r: ROLLED_BACK');
  expect(md).toContain('- First failure: **audit** — smoke tests failed');
  expect(md).toContain('| um | v1 | — | ROLLED_BACK | PRECHECK | rollout undone | [deploy-p-um](/r/um.md) |');
  expect(md).toContain('| audit | v1 | um | ROLLED_BACK | PRECHECK | rollout undone | `shipwatch report deploy-p-audit` |');
});
