/** The merged release timeline keeps each source's own order (src/workflows/release/report.ts). */
import type { DeploymentReport } from '../../src/model';
import { mergeTimelines } from '../../src/workflows/release/report';

const ev = (seq: number, at: string, title: string, phase: DeploymentReport['phase'] = 'SMOKE') => ({ seq, at, status: 'ok' as const, title, phase });

test("a deployment's events stay in its own order even when their times disagree (second-precision pod events)", () => {
  const merged = mergeTimelines(
    [{ seq: 1, at: '2026-11-30T23:25:44.700Z', status: 'failed', title: 'Deployment ended ROLLED_BACK', service: 'audit-log' }],
    [
      {
        service: 'audit-log',
        events: [ev(1, '2026-11-30T23:25:44.287Z', 'Smoke tests started'), ev(2, '2026-11-30T23:25:44.617Z', 'Smoke tests failed'), ev(3, '2026-11-30T23:25:44.000Z', 'Pod 1 deployed (v1.0.0)', 'ROLLBACK')],
      },
      { service: 'user-management', events: [ev(1, '2026-11-30T23:25:44.500Z', 'Watch window check', 'WATCH')] },
    ],
  );
  expect(merged.map((e) => `${e.source}: ${e.title}`)).toEqual([
    'audit-log: Smoke tests started',
    'user-management: Watch window check',
    'audit-log: Smoke tests failed',
    'audit-log: Pod 1 deployed (v1.0.0)',
    'release: audit-log: Deployment ended ROLLED_BACK',
  ]);
});
