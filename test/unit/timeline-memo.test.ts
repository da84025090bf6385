/**
 * The timeline in the workflow's memo: the chunks a memo holding some events needs to catch up,
 * and the timeline read back from a memo — whole, in order, or not at all when the memo holds
 * none, only part of the timeline (past its byte budget) or chunks the workflow would not have
 * written (then the CLI asks the workflow).
 */
import type { TimelineEvent } from '../../src/model';
import {
  TIMELINE_MEMO_CHUNK,
  TIMELINE_MEMO_MAX_BYTES,
  TIMELINE_MEMO_PARTIAL_KEY,
  timelineFromMemo,
  timelineMemoFields,
  timelineMemoKey,
  timelineMemoWrite,
} from '../../src/workflows/timeline';

const events = (n: number): TimelineEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    at: `2026-12-03T00:00:${String(i % 60).padStart(2, '0')}.000Z`,
    phase: 'ROLLOUT',
    status: 'ok',
    title: `step ${i + 1}`,
  }));

/** A memo as the server keeps it: each upsert merges its fields over the ones before. */
function upsertAll(steps: number[], start: Record<string, unknown> = {}): Record<string, unknown> {
  const memo = { ...start };
  let inMemo = 0;
  for (const n of steps) {
    Object.assign(memo, timelineMemoFields(events(n), inMemo));
    inMemo = n;
  }
  return memo;
}

test('an append rewrites only the chunk it lands in, and the chunks after', () => {
  const chunk = TIMELINE_MEMO_CHUNK;
  expect(Object.keys(timelineMemoFields(events(3), 0))).toEqual([timelineMemoKey(0)]);
  expect(Object.keys(timelineMemoFields(events(chunk + 1), chunk))).toEqual([timelineMemoKey(1)]);
  expect(Object.keys(timelineMemoFields(events(chunk * 2 + 5), chunk - 1))).toEqual([
    timelineMemoKey(0),
    timelineMemoKey(1),
    timelineMemoKey(2),
  ]);
  expect(timelineMemoFields(events(chunk * 2 + 5), chunk - 1)[timelineMemoKey(2)]).toHaveLength(5);
  expect(timelineMemoFields(events(4), 4)).toEqual({});
});

test('the memo read back is the timeline, in order, however the appends came', () => {
  for (const steps of [[1], [5, 6, 40], [31, 32, 33], [100], [1, 2, 3, 64, 65, 97]]) {
    expect(timelineFromMemo(upsertAll(steps))).toEqual(events(steps[steps.length - 1]!));
  }
});

test('a memo with other fields keeps them apart from the timeline', () => {
  expect(timelineFromMemo(upsertAll([40], { owner: 'payments', 'shipwatch.other': 1 }))).toEqual(events(40));
});

test('no timeline in the memo: undefined, so the caller asks the workflow', () => {
  expect(timelineFromMemo(undefined)).toBeUndefined();
  expect(timelineFromMemo({})).toBeUndefined();
  expect(timelineFromMemo({ owner: 'payments' })).toBeUndefined();
});

test('chunks the workflow would not write are not read as a timeline', () => {
  const memo = upsertAll([70]);
  const { [timelineMemoKey(1)]: _middle, ...gap } = memo;
  expect(timelineFromMemo(gap)).toBeUndefined();
  expect(timelineFromMemo({ ...memo, [timelineMemoKey(0)]: 'not a list' })).toBeUndefined();
  expect(timelineFromMemo({ ...memo, 'shipwatch.timeline.01': [] })).toBeUndefined();
  expect(timelineFromMemo({ ...memo, 'shipwatch.timeline.-1': [] })).toBeUndefined();
});

test('past its byte budget the memo is flagged partial, and a partial memo is not read as the timeline', () => {
  // Events with 2 KB details: a chunk is about 66 KB, so the budget (512 KB) is passed in the 8th chunk.
  const big = events(400).map((e) => ({ ...e, detail: 'x'.repeat(2048) }));
  const bytes = new Map<string, number>();
  const memo: Record<string, unknown> = {};
  let inMemo = 0;
  let partialAt: number | undefined;
  for (let n = 10; n <= big.length && partialAt === undefined; n += 10) {
    const write = timelineMemoWrite(big.slice(0, n), inMemo, bytes);
    if (TIMELINE_MEMO_PARTIAL_KEY in write) partialAt = n;
    Object.assign(memo, write);
    inMemo = n;
  }
  expect(partialAt).toBeGreaterThan(7 * TIMELINE_MEMO_CHUNK);
  expect(partialAt).toBeLessThanOrEqual(8 * TIMELINE_MEMO_CHUNK);
  expect([...bytes.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(TIMELINE_MEMO_MAX_BYTES);
  // The chunks written before are there, but they are not the whole timeline: the reader asks the workflow.
  expect(timelineFromMemo({ ...memo, [TIMELINE_MEMO_PARTIAL_KEY]: undefined })).toHaveLength(partialAt! - 10);
  expect(timelineFromMemo(memo)).toBeUndefined();
});

test('under its byte budget the write is the changed chunks', () => {
  const bytes = new Map<string, number>();
  expect(timelineMemoWrite(events(40), 0, bytes)).toEqual(timelineMemoFields(events(40), 0));
  expect([...bytes.keys()]).toEqual([timelineMemoKey(0), timelineMemoKey(1)]);
  expect(timelineMemoWrite(events(41), 40, bytes)).toEqual({
    [timelineMemoKey(1)]: events(41).slice(TIMELINE_MEMO_CHUNK),
  });
});
