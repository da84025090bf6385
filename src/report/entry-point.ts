/**
 * The public entry point check as the deployment records it (one timeline event, key
 * `entry-point`) and as the report's recommendations read it back. Pure: the workflow builds the
 * event with it and the renderer reads the event, so they always agree.
 */
import type { EntryPointResult } from '../activities/types';
import type { EventStatus, TimelineEvent } from '../model';
import type { ResolvedEntryPoint } from '../spec/types';

export const ENTRY_POINT_EVENT_KEY = 'entry-point';

/** The timeline event: passed ok, failed failed, not run a warning (never ok). */
export function entryPointEvent(result: EntryPointResult, e: ResolvedEntryPoint): { status: EventStatus; title: string; detail: string } {
  const target = `${e.host}${e.path}`;
  const facts = [result.detail, result.found, ...(result.request ? [result.request] : [])].join('; ');
  if (result.status === 'passed') return { status: 'ok', title: `Public entry point ${target} routes to the new release`, detail: facts };
  if (result.status === 'failed') return { status: 'failed', title: `Public entry point ${target} check failed`, detail: facts };
  return { status: 'warning', title: `Public entry point ${target} not checked`, detail: facts };
}

/** The recommendation line, when the deployment checked an entry point (none otherwise). */
export function entryPointRecommendation(timeline: readonly TimelineEvent[]): string[] {
  const event = timeline.find((e) => e.key === ENTRY_POINT_EVENT_KEY);
  if (!event) return [];
  const icon = event.status === 'ok' ? '✅' : event.status === 'failed' ? '❌' : '⚠️';
  return [`${icon} ${event.title}${event.detail ? `: ${event.detail}` : ''}`];
}
