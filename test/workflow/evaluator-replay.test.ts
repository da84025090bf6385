/**
 * Replays the committed histories of the watch evaluator (test/workflow/history_files/evaluator/)
 * against today's workflow code, as replay.test.ts does for the deployments. Record them with
 * `RECORD_HISTORIES=1 npx jest test/workflow/evaluator.test.ts`, for a change guarded by patched().
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { evaluatorWorkflowId, windowEvaluatorId } from '../../src/workflows/evaluator-messages';
import { bundleWorkflows, patchesOf } from './harness';

jest.setTimeout(120_000);

const dir = join(__dirname, 'history_files', 'evaluator');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});

test('the evaluator histories are recorded', () => {
  expect(files.length).toBeGreaterThanOrEqual(1);
});

type History = temporal.api.history.v1.IHistory;

/**
 * The workflow ID the evaluator of a recorded history ran under, so it replays under its own (an
 * evaluator's heartbeat offset follows from its shard, patch evaluator-heartbeat-spread): the
 * shard of a window it signalled, of the Prometheus and interval of its input; an evaluator from
 * before shards (which came with patch evaluator-grid) had the ID without a shard.
 */
function recordedEvaluatorId(history: History, file: string): string {
  const events = history.events ?? [];
  const input = defaultPayloadConverter.fromPayload<{ prometheusUrl: string; intervalMs: number }>(events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!);
  const of = { prometheusUrl: input.prometheusUrl, intervalMs: input.intervalMs };
  if (!patchesOf(history).includes('evaluator-grid')) return evaluatorWorkflowId(of);
  const window = events.map((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.workflowExecution?.workflowId).find((id) => id != null);
  if (!window) throw new Error(`${file}: the evaluator signalled no window, so its shard (its workflow ID) cannot be told; record a history in which it reports to one`);
  return windowEvaluatorId({ ...of, workflowId: window });
}

test('every recorded evaluator history replays without non-determinism, under the evaluator ID it ran under', async () => {
  const histories = files.map((f) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
    return { workflowId: recordedEvaluatorId(history, f), history, file: f };
  });
  // Only the history recorded before shards ran under the evaluator ID without one.
  expect(histories.filter((h) => !/\/shard-\d+$/.test(h.workflowId)).map((h) => h.file)).toEqual(['evaluator-two-windows.json']);
  const results: { workflowId: string; error?: string }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    results.push({ workflowId: result.workflowId, ...(result.error ? { error: String(result.error) } : {}) });
  }
  expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId })));
});
