/**
 * On-call (issue 16): the schedule says who is on call at the deployment's start, the timeline
 * event records it, and the report's "On-call engineer assigned" is ticked only when someone was
 * resolved; without a rotation, or with one nobody could be read from, the report says so.
 */
import { join } from 'node:path';
import { onCallFromSchedule } from '../../src/activities/on-call';
import type { TimelineEvent } from '../../src/model';
import { ON_CALL_EVENT_KEY, onCallEvent, onCallRecommendation, pagesToText } from '../../src/report/on-call';
import { resolveSpec } from '../../src/spec';

const SCHEDULE = `
rotation: user-management-primary
shifts:
  - engineer: Priya Raman
    contact: "+1-555-0100"
    from: 2026-11-23T09:00:00Z
    to: 2026-11-30T09:00:00Z
  - engineer: Tom Okafor
    contact: tom@example.com
    from: 2026-11-30T09:00:00Z
    to: 2026-12-07T09:00:00Z
`;
const input = (at: string) => ({ rotation: 'user-management-primary', schedule: 'file:/etc/oncall.yaml', at });

describe('onCallFromSchedule', () => {
  test('the shift covering the moment names the engineer; its end belongs to the next shift', () => {
    expect(onCallFromSchedule(SCHEDULE, input('2026-11-25T12:00:00Z'))).toEqual({
      rotation: 'user-management-primary',
      resolved: true,
      engineer: 'Priya Raman',
      contact: '+1-555-0100',
      shift: { from: '2026-11-23T09:00:00.000Z', to: '2026-11-30T09:00:00.000Z' },
    });
    expect(onCallFromSchedule(SCHEDULE, input('2026-11-30T09:00:00Z'))).toMatchObject({ resolved: true, engineer: 'Tom Okafor', contact: 'tom@example.com' });
  });

  test('a moment no shift covers is unresolved, saying what the schedule covers', () => {
    expect(onCallFromSchedule(SCHEDULE, input('2026-12-08T00:00:00Z'))).toEqual({
      rotation: 'user-management-primary',
      resolved: false,
      reason: 'no shift in file:/etc/oncall.yaml covers 2026-12-08T00:00:00Z (its shifts run from 2026-11-23T09:00:00Z to 2026-12-07T09:00:00Z)',
    });
  });

  test('one line "Name <contact>" (what an on-call tool exports) is the engineer on call now', () => {
    expect(onCallFromSchedule('Priya Raman <priya@example.com>\n', input('2026-11-25T12:00:00Z'))).toEqual({ rotation: 'user-management-primary', resolved: true, engineer: 'Priya Raman', contact: 'priya@example.com' });
    expect(onCallFromSchedule('Priya Raman', input('2026-11-25T12:00:00Z'))).toMatchObject({ resolved: true, engineer: 'Priya Raman' });
  });

  test('a malformed schedule is unresolved naming the bad field', () => {
    const bad = 'shifts:\n  - engineer: Priya\n    from: yesterday\n    to: 2026-11-30T09:00:00Z\n';
    expect(onCallFromSchedule(bad, input('2026-11-25T12:00:00Z'))).toEqual({
      rotation: 'user-management-primary',
      resolved: false,
      reason: 'file:/etc/oncall.yaml is not a schedule: shifts.0.from: expected an ISO time such as 2026-11-30T09:00:00Z',
    });
    expect(onCallFromSchedule('shifts: []', input('2026-11-25T12:00:00Z')).reason).toBe('file:/etc/oncall.yaml is not a schedule: shifts: a schedule needs at least one shift');
  });
});

describe('the timeline event and the report line', () => {
  const asEvent = (e: ReturnType<typeof onCallEvent>): TimelineEvent => ({ seq: 2, phase: 'PRECHECK', at: '2026-11-25T12:00:00.000Z', ...e, key: ON_CALL_EVENT_KEY });

  test('resolved: ticked, naming who, the rotation, the shift and where pages go', () => {
    const assignment = onCallFromSchedule(SCHEDULE, input('2026-11-25T12:00:00Z'));
    const event = onCallEvent({ rotation: 'user-management-primary', assignment, pagesTo: pagesToText('env:ONCALL_WEBHOOK', true) });
    expect(event.status).toBe('ok');
    expect(onCallRecommendation([asEvent(event)])).toBe(
      "✅ On-call engineer assigned: Priya Raman <+1-555-0100> (rotation user-management-primary, shift 2026-11-23T09:00:00.000Z → 2026-11-30T09:00:00.000Z); pages go to the rotation's webhook (env:ONCALL_WEBHOOK)",
    );
  });

  test('a rotation with only a paging webhook is not an assignment: not ticked, and why', () => {
    const event = onCallEvent({ rotation: 'api-primary', assignment: { rotation: 'api-primary', resolved: false, reason: 'the spec names no onCall.schedule, so who is on call is not known' }, pagesTo: pagesToText('env:ONCALL_WEBHOOK', true) });
    expect(onCallRecommendation([asEvent(event)])).toBe(
      "⚠️ On-call engineer not assigned: rotation api-primary: the spec names no onCall.schedule, so who is on call is not known; pages go to the rotation's webhook (env:ONCALL_WEBHOOK)",
    );
  });

  test('no rotation in the spec, or a resolver that failed, says so plainly', () => {
    expect(onCallRecommendation([asEvent(onCallEvent({ pagesTo: pagesToText(undefined, false) }))])).toBe(
      "⚠️ On-call engineer not assigned: the spec names no onCall rotation, so nobody is named to answer this deployment's pages; pages go nowhere (no onCall.webhook or notifications.pager)",
    );
    expect(onCallRecommendation([asEvent(onCallEvent({ rotation: 'r', error: 'activity timed out', pagesTo: pagesToText('env:PAGER', false) }))])).toBe(
      '⚠️ On-call engineer not assigned: rotation r: could not be resolved: activity timed out; pages go to notifications.pager (env:PAGER)',
    );
    expect(onCallRecommendation([])).toBe('⚠️ On-call engineer not assigned: not checked by this deployment');
  });
});

describe('the spec', () => {
  const base = {
    service: 'api',
    namespace: 'staging',
    release: 'v2.0.0',
    image: 'registry.example.com/team/api:v2.0.0',
    kubernetes: { deployment: 'api', container: 'app' },
    serviceUrl: 'http://api.staging:8080',
  };
  const load = (extra: Record<string, unknown>) => resolveSpec({ ...base, ...extra }, { file: 'spec.yaml', baseDir: join(__dirname) });

  test("the rotation's webhook becomes the pager: pages go to the rotation", async () => {
    const spec = await load({ onCall: { rotation: 'api-primary', schedule: 'file:/etc/oncall/api.yaml', webhook: 'env:ONCALL_WEBHOOK' } });
    expect(spec.onCall).toEqual({ rotation: 'api-primary', schedule: 'file:/etc/oncall/api.yaml', webhook: 'env:ONCALL_WEBHOOK' });
    expect(spec.notifications.pager).toEqual({ webhook: 'env:ONCALL_WEBHOOK' });
  });

  test('a schedule alone keeps notifications.pager; no onCall leaves it out', async () => {
    const spec = await load({ onCall: { rotation: 'api-primary', schedule: 'env:ONCALL_NOW' }, notifications: { pager: { webhook: 'env:PAGER' } } });
    expect(spec.notifications.pager).toEqual({ webhook: 'env:PAGER' });
    expect((await load({})).onCall).toBeUndefined();
  });
});
