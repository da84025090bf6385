/**
 * Replays the committed histories of the watch evaluator (test/workflow/history_files/evaluator/)
 * against today's workflow code, as replay.test.ts does for the deployments. Record them with
 * `RECORD_HISTORIES=1 npx jest test/workflow/evaluator.test.ts`, for a change guarded by patched().
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { windowEvaluatorId } from '../../src/workflows/evaluator-messages';
import { bundleWorkflows } from './harness';

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

interface RecordedEvent {
  workflowExecutionStartedEventAttributes?: { input?: { payloads?: { data?: string }[] } };
  signalExternalWorkflowExecutionInitiatedEventAttributes?: { workflowExecution?: { workflowId?: string } };
}

/**
 * The workflow ID the evaluator of a recorded history ran under: the shard of a window it
 * signalled, of the Prometheus and interval of its input. An evaluator's grid and heartbeat
 * offsets follow from its ID (patch evaluator-grid-groups), so it replays under its own.
 */
function recordedEvaluatorId(events: RecordedEvent[]): string | undefined {
  const data = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  const window = events.map((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.workflowExecution?.workflowId).find((id) => id !== undefined);
  if (data === undefined || window === undefined) return undefined;
  const input = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { prometheusUrl: string; intervalMs: number };
  return windowEvaluatorId({ prometheusUrl: input.prometheusUrl, intervalMs: input.intervalMs, workflowId: window });
}

test('every recorded evaluator history replays without non-determinism, under the evaluator ID it ran under', async () => {
  const histories = files.map((f) => {
    const json = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { events?: RecordedEvent[] };
    return {
      workflowId: recordedEvaluatorId(json.events ?? []) ?? `watch-evaluator-replay-${basename(f, '.json')}`,
      history: temporal.api.history.v1.History.fromObject(json),
    };
  });
  // Every history but those that signalled no window replays under its shard's ID.
  expect(histories.filter((h) => h.workflowId.startsWith('watch-evaluator-replay-'))).toEqual([]);
  const results: { workflowId: string; error?: string }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    results.push({ workflowId: result.workflowId, ...(result.error ? { error: String(result.error) } : {}) });
  }
  expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId })));
});
