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
  /** `onAppend`: told after each event really appended (not a deduplicated one), e.g. to keep the memo in step. */
  constructor(
    private readonly state: TimelineState,
    private readonly onAppend?: () => void,
  ) {}

  /** Appends an event unless one with the same key is already there; returns the stored event. */
  add(phase: Phase, event: ActivityEvent): TimelineEvent {
    if (event.key !== undefined) {
      const existing = this.state.events.find((e) => e.key === event.key);
      if (existing) return existing;
    }
    const stored: TimelineEvent = { ...event, seq: this.state.nextSeq++, phase };
    this.state.events.push(stored);
    this.onAppend?.();
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

/**
 * The timeline in the workflow's memo, so it is read with a describe — from the server alone, no
 * worker and no replay — by `shipwatch timeline` and the Web UI. In chunks of `TIMELINE_MEMO_CHUNK`
 * events, one memo field each (`shipwatch.timeline.<n>`): an append rewrites only the last chunk,
 * so a run's history holds each event a bounded number of times, not the whole timeline per change.
 */
export const TIMELINE_MEMO_CHUNK = 32;

const MEMO_KEY_PREFIX = 'shipwatch.timeline.';

export const timelineMemoKey = (chunk: number): string => `${MEMO_KEY_PREFIX}${chunk}`;

/**
 * The most of the timeline the memo holds, in bytes of its chunks' JSON: a quarter of the
 * Temporal server's memo limit (2 MB by default), whatever the events' details — a memo over the
 * limit fails the workflow task that writes it, again at every retry, and the deployment would stop.
 */
export const TIMELINE_MEMO_MAX_BYTES = 512 * 1024;

/** Set once the timeline outgrew TIMELINE_MEMO_MAX_BYTES: the memo's chunks are not the whole timeline, so it is read from the workflow. */
export const TIMELINE_MEMO_PARTIAL_KEY = 'shipwatch.timeline-partial';

/** The memo fields that bring a memo holding the first `inMemo` events up to `events`: each chunk from the one `inMemo` ends in. */
export function timelineMemoFields(events: TimelineEvent[], inMemo: number): Record<string, TimelineEvent[]> {
  const fields: Record<string, TimelineEvent[]> = {};
  if (inMemo >= events.length) return fields;
  for (let chunk = Math.floor(inMemo / TIMELINE_MEMO_CHUNK); chunk * TIMELINE_MEMO_CHUNK < events.length; chunk++) {
    fields[timelineMemoKey(chunk)] = events.slice(chunk * TIMELINE_MEMO_CHUNK, (chunk + 1) * TIMELINE_MEMO_CHUNK);
  }
  return fields;
}

/**
 * What to write to bring a memo holding the first `inMemo` events up to `events`: the chunks that
 * changed, or — once the chunks' JSON would pass TIMELINE_MEMO_MAX_BYTES — the partial flag alone.
 * `chunkBytes` (each chunk's JSON length, by memo key) is kept up to date in place.
 */
export function timelineMemoWrite(events: TimelineEvent[], inMemo: number, chunkBytes: Map<string, number>): Record<string, unknown> {
  const fields = timelineMemoFields(events, inMemo);
  for (const [key, chunk] of Object.entries(fields)) chunkBytes.set(key, JSON.stringify(chunk).length);
  let total = 0;
  for (const bytes of chunkBytes.values()) total += bytes;
  return total > TIMELINE_MEMO_MAX_BYTES ? { [TIMELINE_MEMO_PARTIAL_KEY]: true } : fields;
}

/**
 * The timeline a memo holds, in order; undefined when it holds none (a run from before the memo,
 * or one whose first workflow task has not completed), only part of it (the partial flag), or
 * chunks that are not the consecutive ones from 0 the workflow writes — then the caller asks the
 * workflow instead.
 */
export function timelineFromMemo(memo: Record<string, unknown> | undefined): TimelineEvent[] | undefined {
  if (!memo || memo[TIMELINE_MEMO_PARTIAL_KEY]) return undefined;
  const chunks = new Map<number, unknown>();
  for (const [key, value] of Object.entries(memo)) {
    if (!key.startsWith(MEMO_KEY_PREFIX)) continue;
    const suffix = key.slice(MEMO_KEY_PREFIX.length);
    const n = Number(suffix);
    if (!Number.isInteger(n) || n < 0 || String(n) !== suffix) return undefined;
    chunks.set(n, value);
  }
  if (chunks.size === 0) return undefined;
  const events: TimelineEvent[] = [];
  for (let n = 0; n < chunks.size; n++) {
    const chunk = chunks.get(n);
    if (!Array.isArray(chunk)) return undefined;
    events.push(...(chunk as TimelineEvent[]));
  }
  return events;
}
