/** Notifications delivered to a local receiver: Slack and JSON payloads, retries, timeouts, paging only for paging kinds. */
import { startReceiver, type Receiver } from '../helpers/receiver';
import { createNotifier } from '../../src/activities/notify';
import type { Notification } from '../../src/activities/types';

jest.setTimeout(30_000);

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
  process.env.SW_TEST_SLACK = `${receiver.url}/slack`;
  process.env.SW_TEST_PAGER = `${receiver.url}/pager`;
  process.env.SW_TEST_HOOK = `${receiver.url}/hook`;
});
afterAll(async () => receiver?.close());
beforeEach(() => {
  receiver.received.length = 0;
  receiver.respondWith([]);
  receiver.delay(0);
});

const note = (over: Partial<Notification> = {}): Notification => ({
  kind: 'completed',
  service: 'user-management',
  namespace: 'production',
  release: 'v1.0.0',
  deploymentId: 'deploy-production-user-management',
  title: 'user-management v1.0.0 deployed to production',
  text: 'All pods running v1.0.0. Smoke tests passed.',
  severity: 'info',
  ...over,
});
const channels = { slack: { webhook: 'env:SW_TEST_SLACK', channel: '#deploys' }, pager: { webhook: 'env:SW_TEST_PAGER' }, webhook: { url: 'env:SW_TEST_HOOK' } };

test('completed goes to Slack and the webhook, not the pager', async () => {
  const results = await createNotifier().send(note(), channels);
  expect(results).toEqual([
    { channel: 'slack', delivered: true },
    { channel: 'webhook', delivered: true },
  ]);
  const slack = receiver.received.find((r) => r.path === '/slack')!;
  expect(slack.body).toMatchObject({ channel: '#deploys', text: ':white_check_mark: user-management v1.0.0 deployed to production' });
  const hook = receiver.received.find((r) => r.path === '/hook')!;
  expect(hook.body).toMatchObject({ kind: 'completed', release: 'v1.0.0', dedupKey: 'deploy-production-user-management:completed', source: 'shipwatch' });
  expect(receiver.received.some((r) => r.path === '/pager')).toBe(false);
});

test.each(['started', 'rolled_back', 'paged'] as const)('%s is delivered with its kind', async (kind) => {
  const results = await createNotifier().send(note({ kind, severity: kind === 'paged' ? 'critical' : 'warning' }), channels);
  expect(results.every((r) => r.delivered)).toBe(true);
  expect(receiver.received.some((r) => r.path === '/pager')).toBe(kind === 'paged');
  expect((receiver.received.find((r) => r.path === '/hook')!.body as Notification).kind).toBe(kind);
});

test('a 503 is retried and then delivered', async () => {
  receiver.respondWith([503, 503]);
  const [result] = await createNotifier({ backoffMs: 10 }).send(note(), { slack: channels.slack });
  expect(result).toEqual({ channel: 'slack', delivered: true });
  expect(receiver.received).toHaveLength(3);
});

test('a 400 is not retried; the error names the reference, not the URL', async () => {
  receiver.respondWith([400]);
  const [result] = await createNotifier({ backoffMs: 10 }).send(note(), { slack: channels.slack });
  expect(result!.delivered).toBe(false);
  expect(result!.error).toMatch(/^env:SW_TEST_SLACK: HTTP 400/);
  expect(result!.error).not.toContain(receiver.url);
  expect(receiver.received).toHaveLength(1);
});

test('a receiver that does not answer times out on every attempt', async () => {
  receiver.delay(2000);
  const [result] = await createNotifier({ timeoutMs: 200, attempts: 2, backoffMs: 10 }).send(note(), { webhook: channels.webhook });
  expect(result!.delivered).toBe(false);
  expect(result!.error).toMatch(/no answer within 200ms \(attempt 2 of 2\)/);
});

test('a missing secret is reported for that channel and the others still deliver', async () => {
  const results = await createNotifier().send(note(), { slack: { webhook: 'env:SW_TEST_NOT_SET' }, webhook: channels.webhook });
  expect(results[0]).toMatchObject({ channel: 'slack', delivered: false });
  expect(results[0]!.error).toMatch(/SW_TEST_NOT_SET/);
  expect(results[1]).toEqual({ channel: 'webhook', delivered: true });
});

test('the pager receives the workflow\'s dedup key as is: two deployments of a service and two pages of one deployment stay apart', async () => {
  const keys: string[] = [];
  for (const dedupKey of ['deploy-production-user-management:run-a:paged:firing:HighErrorRate:t1', 'deploy-production-user-management:run-b:paged:firing:HighErrorRate:t1', 'deploy-production-user-management:run-a:paged:decision:HighErrorRate:t1']) {
    receiver.received.length = 0;
    await createNotifier().send(note({ kind: 'paged', severity: 'critical', dedupKey }), { pager: channels.pager });
    keys.push((receiver.received.find((r) => r.path === '/pager')!.body as { dedupKey: string }).dedupKey);
  }
  expect(new Set(keys).size).toBe(3);
  expect(keys[0]).toBe('deploy-production-user-management:run-a:paged:firing:HighErrorRate:t1');
});
