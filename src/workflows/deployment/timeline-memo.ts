/**
 * The deployment's timeline kept in its workflow's memo (src/workflows/timeline.ts, "the timeline
 * in the memo"), so `shipwatch timeline` and the Web UI read it with a describe: from the Temporal
 * server alone, with no worker and no replay of the workflow. Each workflow task that appended
 * events ends with one memo command for the chunks that changed; a quiet watch window appends
 * nothing and so adds no event to its history. A timeline past TIMELINE_MEMO_MAX_BYTES is flagged
 * partial once and no longer written: readers then query the workflow.
 */
import { patched, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { TimelineState } from '../timeline';
import {
  timelineFromMemo,
  timelineMemoKey,
  timelineMemoWrite,
  TIMELINE_MEMO_CHUNK,
  TIMELINE_MEMO_PARTIAL_KEY,
} from '../timeline';

/**
 * New commands (the memo's): runs from before replay without; a run that meets the patch mid-way
 * writes its whole timeline at its next append.
 */
export const TIMELINE_MEMO_PATCH = 'timeline-memo';

export class TimelineMemo {
  /** How many of the timeline's events the memo holds: what the run started with (continue-as-new may hand over none). */
  private inMemo: number;
  /** Each chunk's JSON length in the memo, by key. */
  private readonly chunkBytes = new Map<string, number>();
  private partial = false;
  private flushQueued = false;

  constructor(private readonly timeline: TimelineState) {
    const held = timelineFromMemo(workflowInfo().memo) ?? [];
    this.inMemo = Math.min(held.length, timeline.events.length);
    for (let chunk = 0; chunk * TIMELINE_MEMO_CHUNK < this.inMemo; chunk++) {
      this.chunkBytes.set(
        timelineMemoKey(chunk),
        JSON.stringify(held.slice(chunk * TIMELINE_MEMO_CHUNK, (chunk + 1) * TIMELINE_MEMO_CHUNK)).length,
      );
    }
    // A run that carries events its memo does not hold writes them in its first workflow task.
    if (this.inMemo < timeline.events.length) this.changed();
  }

  /** Events were appended: the memo is brought up to date once, when what this workflow task does has run. */
  changed(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    void Promise.resolve().then(() => this.flush());
  }

  /** One memo command for the chunks that changed (or the partial flag), if any did. */
  flush(): void {
    this.flushQueued = false;
    const events = this.timeline.events;
    if (this.partial || this.inMemo >= events.length || !patched(TIMELINE_MEMO_PATCH)) return;
    const fields = timelineMemoWrite(events, this.inMemo, this.chunkBytes);
    upsertMemo(fields);
    this.inMemo = events.length;
    this.partial = TIMELINE_MEMO_PARTIAL_KEY in fields;
  }
}
