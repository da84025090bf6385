/**
 * The on-call assignment as the deployment records it when it starts (one timeline event, key
 * `on-call`) and as the report's recommendation "On-call engineer assigned" reads it back. Pure: the
 * workflow builds the event with it, the renderer reads the event, so the two always agree.
 */
import type { OnCallAssignment } from '../activities/types';
import type { EventStatus, TimelineEvent } from '../model';

export const ON_CALL_EVENT_KEY = 'on-call';
export const ON_CALL_ASSIGNED = 'On-call engineer assigned';
export const ON_CALL_NOT_ASSIGNED = 'On-call engineer not assigned';

/** Where the deployment's pages go, in words (the pager channel is a secret reference, never a URL). */
export function pagesToText(pager: string | undefined, fromRotation: boolean): string {
  if (!pager) return 'pages go nowhere (no onCall.webhook or notifications.pager)';
  return `pages go to ${fromRotation ? "the rotation's webhook" : 'notifications.pager'} (${pager})`;
}

/** The timeline event for an assignment, a rotation without a schedule, or no rotation at all. */
export function onCallEvent(args: { rotation?: string; assignment?: OnCallAssignment; error?: string; pagesTo: string }): { status: EventStatus; title: string; detail: string } {
  const { assignment, pagesTo } = args;
  if (!args.rotation) {
    return { status: 'warning', title: ON_CALL_NOT_ASSIGNED, detail: `the spec names no onCall rotation, so nobody is named to answer this deployment's pages; ${pagesTo}` };
  }
  if (!assignment) return { status: 'warning', title: ON_CALL_NOT_ASSIGNED, detail: `rotation ${args.rotation}: could not be resolved: ${args.error ?? 'unknown error'}; ${pagesTo}` };
  if (!assignment.resolved || !assignment.engineer) {
    return { status: 'warning', title: ON_CALL_NOT_ASSIGNED, detail: `rotation ${assignment.rotation}: ${assignment.reason ?? 'no engineer named'}; ${pagesTo}` };
  }
  const who = `${assignment.engineer}${assignment.contact ? ` <${assignment.contact}>` : ''}`;
  const shift = assignment.shift ? `, shift ${assignment.shift.from} → ${assignment.shift.to}` : '';
  return { status: 'ok', title: ON_CALL_ASSIGNED, detail: `${who} (rotation ${assignment.rotation}${shift}); ${pagesTo}` };
}

/** The report's recommendation line: ticked only when the deployment resolved an engineer. */
export function onCallRecommendation(timeline: readonly TimelineEvent[]): string {
  const event = timeline.find((e) => e.key === ON_CALL_EVENT_KEY);
  if (!event) return `⚠️ ${ON_CALL_NOT_ASSIGNED}: not checked by this deployment`;
  if (event.status === 'ok') return `✅ ${ON_CALL_ASSIGNED}: ${event.detail ?? ''}`;
  return `⚠️ ${ON_CALL_NOT_ASSIGNED}: ${event.detail ?? ''}`;
}
