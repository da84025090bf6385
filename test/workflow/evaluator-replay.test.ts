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

test('every recorded evaluator history replays without non-determinism', async () => {
  const histories = files.map((f) => ({
    workflowId: `watch-evaluator-replay-${basename(f, '.json')}`,
    history: temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>),
  }));
  const results: { workflowId: string; error?: string }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    results.push({ workflowId: result.workflowId, ...(result.error ? { error: String(result.error) } : {}) });
  }
  expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId })));
});
