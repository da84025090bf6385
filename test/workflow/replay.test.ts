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
import { temporal } from '@temporalio/proto';
import { bundleWorkflows } from './harness';
import { deploymentWorkflowId } from '../../src/workflows/messages';
import { withoutSourceMap } from '../../src/workflow-bundle';
import type { DeploymentInput } from '../../src/workflows/messages';

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

/** The recorded histories in `names`, each with the workflow ID it ran under. */
function histories(names: string[]) {
  return names.map((f) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
    return { workflowId: recordedWorkflowId(history, basename(f, '.json')), history };
  });
}

/** Replays them with `workflowBundle`: each workflow ID, with its error if it had one. */
async function replay(workflowBundle: { code: string }, recorded: ReturnType<typeof histories>): Promise<{ workflowId: string; error?: string }[]> {
  const results: { workflowId: string; error?: string }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle }, recorded)) {
    results.push({ workflowId: result.workflowId, ...(result.error ? { error: String(result.error) } : {}) });
  }
  return results;
}

test('every recorded history replays without non-determinism', async () => {
  const recorded = histories(files);
  expect(await replay(bundle, recorded)).toEqual(recorded.map((h) => ({ workflowId: h.workflowId })));
});

test('a bundle without its source map (SHIPWATCH_WORKFLOW_SOURCE_MAPS=off) is loaded and replays the same histories', async () => {
  const code = withoutSourceMap(bundle.code, '/shipwatch/workflow-bundle.js');
  expect(code.length).toBeLessThan(bundle.code.length / 2);
  const map = JSON.parse(Buffer.from(code.slice(code.lastIndexOf('base64,') + 'base64,'.length), 'base64').toString()) as { mappings: string; file: string };
  expect(map).toMatchObject({ mappings: '', file: '/shipwatch/workflow-bundle.js' });
  const picked = files.filter((f) => /^(happy-path-24h|evaluator-watch-alert-rollback-beside-unregister)\.json$/.test(f));
  expect(picked).toHaveLength(2);
  const recorded = histories(picked);
  expect(await replay({ code }, recorded)).toEqual(recorded.map((h) => ({ workflowId: h.workflowId })));
});

/**
 * The workflow ID the history ran under (it names the review reminder child, so replay needs it):
 * derived, as the CLI does, from the namespace and service in the recorded input.
 */
function recordedWorkflowId(history: temporal.api.history.v1.IHistory, name: string): string {
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const data = started?.input?.payloads?.[0]?.data;
  if (!data) throw new Error(`${name}: no workflow input in the first event`);
  const input = JSON.parse(Buffer.from(data).toString('utf8')) as DeploymentInput;
  return deploymentWorkflowId(input.spec.namespace, input.spec.service);
}
