/**
 * The deployment timeline: an append-only list of events with sequence numbers, deduplicated by
 * event `key` so an activity that is retried (or a step that is re-evaluated) never shows twice.
 * Operates on a plain-JSON state object that is carried across continue-as-new.
 */
import type { ActivityEvent, Phase, TimelineEvent } from '../model';

export interface TimelineState {
  events: TimelineEvent[];
  nextSeq: number;
}

export function emptyTimeline(): TimelineState {
  return { events: [], nextSeq: 1 };
}

export class Timeline {
  constructor(private readonly state: TimelineState) {}

  /** Appends an event unless one with the same key is already there; returns the stored event. */
  add(phase: Phase, event: ActivityEvent): TimelineEvent {
    if (event.key !== undefined) {
      const existing = this.state.events.find((e) => e.key === event.key);
      if (existing) return existing;
    }
    const stored: TimelineEvent = { ...event, seq: this.state.nextSeq++, phase };
    this.state.events.push(stored);
    return stored;
  }

  /** Adds every event an activity reported, in order, under the given phase. */
  addAll(phase: Phase, events: ActivityEvent[]): void {
    for (const event of events) this.add(phase, event);
  }

  has(key: string): boolean {
    return this.state.events.some((e) => e.key === key);
  }

  /** Events with a sequence number above `afterSeq` (all of them by default), for `--follow`. */
  after(afterSeq = 0): TimelineEvent[] {
    return this.state.events.filter((e) => e.seq > afterSeq);
  }

  last(): TimelineEvent | undefined {
    return this.state.events[this.state.events.length - 1];
  }
}
