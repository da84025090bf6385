/**
 * Replays the committed histories of recorded deployment scenarios against today's workflow
 * code: a non-deterministic change (a reordered activity, a removed timer) fails here, in CI,
 * instead of breaking running deployments. Regenerate with
 * `RECORD_HISTORIES=1 npx jest --selectProjects workflow test/workflow/deployment.test.ts`
 * only when a change is deliberately guarded by `patched()`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflows } from './harness';

jest.setTimeout(120_000);

const dir = join(__dirname, 'history_files');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});

test('several scenarios are recorded', () => {
  expect(files.length).toBeGreaterThanOrEqual(5);
});

test('every recorded history replays without non-determinism', async () => {
  const histories = files.map((f) => ({ workflowId: basename(f, '.json'), history: historyFromJSON(JSON.parse(readFileSync(join(dir, f), 'utf8'))) }));
  const results: { workflowId: string; error?: unknown }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    results.push({ workflowId: result.workflowId, ...(result.error ? { error: String(result.error) } : {}) });
  }
  expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId })));
});
