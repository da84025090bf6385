/** Pager dedup keys: per deployment run, per kind of page and per subject (src/model/dedup.ts). */
import { dedupKey } from '../../src/model';
import { jsonPayload } from '../../src/activities/notify';
import type { Notification } from '../../src/activities/types';

const id = 'deploy-production-user-management';

test('two deployments of the same service get distinct keys for the same page', () => {
  const first = dedupKey({ deploymentId: id, runId: '0193a1b2-aaaa', kind: 'paged', about: 'firing:HighErrorRate:2026-11-30T20:00:00.000Z' });
  const second = dedupKey({ deploymentId: id, runId: '0193a1b2-bbbb', kind: 'paged', about: 'firing:HighErrorRate:2026-11-30T20:00:00.000Z' });
  expect(first).not.toBe(second);
});

test('"firing" and "decision needed" pages of one deployment get distinct keys, and so do two alerts', () => {
  const keys = [
    dedupKey({ deploymentId: id, runId: 'r1', kind: 'paged', about: 'firing:HighErrorRate:t' }),
    dedupKey({ deploymentId: id, runId: 'r1', kind: 'paged', about: 'decision:HighErrorRate:t' }),
    dedupKey({ deploymentId: id, runId: 'r1', kind: 'paged', about: 'firing:HighLatency:t' }),
    dedupKey({ deploymentId: id, runId: 'r1', kind: 'paged', about: 'blind' }),
    dedupKey({ deploymentId: id, runId: 'r1', kind: 'manual_action' }),
  ];
  expect(new Set(keys).size).toBe(keys.length);
});

test('the JSON payload carries the notification\'s key; one without a key (an older run) keeps the old form', () => {
  const n: Notification = { kind: 'paged', service: 'user-management', namespace: 'production', release: 'v1.0.0', deploymentId: id, title: 't', text: 'x', severity: 'critical' };
  expect(jsonPayload({ ...n, dedupKey: 'k1' }, 'now').dedupKey).toBe('k1');
  expect(jsonPayload(n, 'now').dedupKey).toBe(`${id}:paged`);
});
