/**
 * On-call with the real adapters: the schedule read from a file and from the worker's environment,
 * the same cases through the fake resolver (test/helpers/fakes.ts) with the same answers; and a page
 * for a deployment whose spec names the rotation's webhook reaches that webhook (a local receiver).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifier } from '../../src/activities/notify';
import { createOnCallResolver } from '../../src/activities/on-call';
import type { OnCallAssignment, OnCallInput, OnCallPort } from '../../src/activities/types';
import { resolveSpec } from '../../src/spec';
import { createFakeDeps } from '../helpers/fakes';
import { startReceiver } from '../helpers/receiver';
import type { Receiver } from '../helpers/receiver';

const SCHEDULE = 'shifts:\n  - engineer: Priya Raman\n    contact: "+1-555-0100"\n    from: 2026-11-23T09:00:00Z\n    to: 2026-11-30T09:00:00Z\n';

// Made when the file loads: the cases below name files in it.
const dir = mkdtempSync(join(tmpdir(), 'shipwatch-oncall-'));
let receiver: Receiver;
beforeAll(async () => {
  writeFileSync(join(dir, 'schedule.yaml'), SCHEDULE);
  writeFileSync(join(dir, 'broken.yaml'), 'shifts:\n  - engineer: Priya\n');
  process.env.SW_TEST_ONCALL_NOW = 'Tom Okafor <tom@example.com>';
  delete process.env.SW_TEST_ONCALL_UNSET;
  receiver = await startReceiver();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env.SW_TEST_ONCALL_NOW;
  await receiver?.close();
});

/** The cases both resolvers answer: reference, moment, and what must come back. */
const cases = (): [string, OnCallInput, Partial<OnCallAssignment>][] => [
  ['a shift covers the moment', { rotation: 'r', schedule: `file:${join(dir, 'schedule.yaml')}`, at: '2026-11-25T12:00:00Z' }, { resolved: true, engineer: 'Priya Raman', contact: '+1-555-0100', shift: { from: '2026-11-23T09:00:00.000Z', to: '2026-11-30T09:00:00.000Z' } }],
  ['no shift covers the moment', { rotation: 'r', schedule: `file:${join(dir, 'schedule.yaml')}`, at: '2026-12-25T12:00:00Z' }, { resolved: false }],
  ['one line from the environment', { rotation: 'r', schedule: 'env:SW_TEST_ONCALL_NOW', at: '2026-11-25T12:00:00Z' }, { resolved: true, engineer: 'Tom Okafor', contact: 'tom@example.com' }],
  ['a schedule missing its fields', { rotation: 'r', schedule: `file:${join(dir, 'broken.yaml')}`, at: '2026-11-25T12:00:00Z' }, { resolved: false }],
  ['an unset reference', { rotation: 'r', schedule: 'env:SW_TEST_ONCALL_UNSET', at: '2026-11-25T12:00:00Z' }, { resolved: false }],
  ['no schedule at all (a paging webhook only)', { rotation: 'r', at: '2026-11-25T12:00:00Z' }, { resolved: false, reason: 'the spec names no onCall.schedule, so who is on call is not known' }],
];

/** The fake reads the same texts from memory that the real one reads from the file and the environment. */
function fakeResolver(): OnCallPort {
  const world = createFakeDeps({
    onCallSchedules: {
      [`file:${join(dir, 'schedule.yaml')}`]: SCHEDULE,
      [`file:${join(dir, 'broken.yaml')}`]: 'shifts:\n  - engineer: Priya\n',
      'env:SW_TEST_ONCALL_NOW': 'Tom Okafor <tom@example.com>',
    },
  });
  return world.deps.onCall!;
}

describe.each([
  ['real', () => createOnCallResolver()],
  ['fake', fakeResolver],
])('%s resolver', (_kind, make) => {
  test.each(cases().map((c) => [c[0], c] as const))('%s', async (_name, [, input, expected]) => {
    const answer = await make().resolve(input);
    expect(answer).toMatchObject({ rotation: 'r', ...expected });
    if (!answer.resolved) expect(answer.reason).toBeTruthy();
  });
});

test('the real and the fake resolver give the same reasons (the unset reference aside: the fake says it is a fake)', async () => {
  const real = createOnCallResolver();
  const fake = fakeResolver();
  for (const [name, input] of cases()) {
    const [a, b] = await Promise.all([real.resolve(input), fake.resolve(input)]);
    if (name === 'an unset reference') expect(b.reason).toMatch(/^secret env:SW_TEST_ONCALL_UNSET is not set/);
    else expect({ name, ...b }).toEqual({ name, ...a });
  }
  const unset = await real.resolve(cases()[4]![1]);
  expect(unset.reason).toBe('secret env:SW_TEST_ONCALL_UNSET is not set: export SW_TEST_ONCALL_UNSET=… in the environment of the worker');
});

test("a page for a spec naming the rotation's webhook reaches that webhook; a start notice does not", async () => {
  process.env.SW_TEST_ONCALL_WEBHOOK = `${receiver.url}/oncall`;
  const spec = await resolveSpec(
    {
      service: 'api',
      namespace: 'staging',
      release: 'v2.0.0',
      image: 'registry.example.com/team/api:v2.0.0',
      kubernetes: { deployment: 'api', container: 'app' },
      serviceUrl: 'http://api.staging:8080',
      onCall: { rotation: 'api-primary', webhook: 'env:SW_TEST_ONCALL_WEBHOOK' },
    },
    { file: 'spec.yaml' },
  );
  const base = { service: 'api', namespace: 'staging', release: 'v2.0.0', deploymentId: 'deploy-staging-api', title: 'HighErrorRate firing', text: 'error rate 9%' };
  const notifier = createNotifier({ backoffMs: 10 });
  expect(await notifier.send({ ...base, kind: 'started', severity: 'info' }, spec.notifications)).toEqual([]);
  expect(await notifier.send({ ...base, kind: 'paged', severity: 'critical' }, spec.notifications)).toEqual([{ channel: 'pager', delivered: true }]);
  expect(receiver.received.map((r) => [r.path, (r.body as { kind: string }).kind])).toEqual([['/oncall', 'paged']]);
  delete process.env.SW_TEST_ONCALL_WEBHOOK;
});
