/**
 * The uptime check as the deployment records it (one timeline event, key `uptime`) and as the
 * report's recommendations read it back (the seed's "uptime monitoring"). Pure, shared by the
 * workflow and the renderer.
 */
import type { UptimeResult } from '../activities/types';
import type { EventStatus, TimelineEvent } from '../model';
import type { ResolvedUptime } from '../spec/types';

export const UPTIME_EVENT_KEY = 'uptime';

/** Passed is ok; failed is failed when it blocks, a warning when it warns; not run is a warning (never ok). */
export function uptimeEvent(result: UptimeResult, uptime: ResolvedUptime): { status: EventStatus; title: string; detail: string } {
  const detail = `${result.detail}; ${result.found}`;
  if (result.status === 'passed') return { status: 'ok', title: 'Uptime probe green', detail };
  if (result.status === 'failed') return { status: uptime.onFailure === 'block' ? 'failed' : 'warning', title: `Uptime probe failing (${uptime.onFailure})`, detail };
  return { status: 'warning', title: 'Uptime probe not checked', detail };
}

/** The recommendation line, when the deployment checked the probe (none otherwise). */
export function uptimeRecommendation(timeline: readonly TimelineEvent[]): string[] {
  const event = timeline.find((e) => e.key === UPTIME_EVENT_KEY);
  if (!event) return [];
  const icon = event.status === 'ok' ? '✅' : event.status === 'failed' ? '❌' : '⚠️';
  return [`${icon} ${event.title}${event.detail ? `: ${event.detail}` : ''}`];
}
