/**
 * Replays the committed histories of recorded release trains (history_files/release-*.json)
 * against today's workflow code: a non-deterministic change to the release workflow fails here.
 * Regenerate with `RECORD_HISTORIES=1 npx jest test/workflow/release.test.ts
 * test/workflow/release-policies.test.ts --selectProjects workflow`, only for a change guarded by `patched()`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { releaseWorkflowId } from '../../src/workflows/release/messages';
import type { ReleaseInput } from '../../src/workflows/release/types';
import { bundleWorkflows } from './harness';

jest.setTimeout(120_000);

const dir = join(__dirname, 'history_files');
const files = readdirSync(dir).filter((f) => f.startsWith('release-') && f.endsWith('.json')).sort();

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});

test('the recorded trains cover success, rollback-all, a client rollback, a failure in a watch window and a worker restart', () => {
  expect(files).toEqual(expect.arrayContaining(['release-together-success.json', 'release-rollback-all.json', 'release-client-rollback.json', 'release-child-fails-in-watch.json', 'release-worker-restart.json']));
});

test('every recorded release history replays without non-determinism', async () => {
  const histories = files.map((f) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
    const data = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    if (!data) throw new Error(`${basename(f)}: no workflow input in the first event`);
    const input = JSON.parse(Buffer.from(data).toString('utf8')) as ReleaseInput;
    return { workflowId: releaseWorkflowId(input.spec.name), history };
  });
  const results: { workflowId: string; error?: string }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    results.push({ workflowId: result.workflowId, ...(result.error ? { error: String(result.error) } : {}) });
  }
  expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId })));
});
