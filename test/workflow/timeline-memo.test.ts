/**
 * The timeline in the workflow's memo (patch `timeline-memo`): what `shipwatch timeline` reads
 * with a describe is the timeline the workflow answers a query with, in every run, and it is read
 * with no worker running; a quiet watch window writes no memo event per check. Time-skipping
 * server, fake ports. RECORD_HISTORIES=1 records `timeline-memo` (the patched path: the run that
 * did the forward path).
 */
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { readTimeline } from '../../src/cli/context';
import type { DeploymentReport, TimelineEvent } from '../../src/model';
import { timelineQuery } from '../../src/workflows/messages';
import { TIMELINE_MEMO_CHUNK, timelineFromMemo } from '../../src/workflows/timeline';
import { createFakeDeps } from '../helpers/fakes';
import { testSpec } from './fixtures/spec';
import { bundleWorkflows, createDeploymentEnv, runChain, runScenario, settledReport } from './harness';

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
  env = await createDeploymentEnv();
});
afterAll(async () => env?.teardown());

/** Each run's memo events: how many, and the memo fields each wrote. */
async function memoEvents(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<{ fields: string[][]; checks: number }> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  return {
    fields: events
      .filter((e) => e.workflowPropertiesModifiedEventAttributes)
      .map((e) => Object.keys(e.workflowPropertiesModifiedEventAttributes!.upsertedMemo?.fields ?? {})),
    checks: events.filter((e) => e.workflowExecutionSignaledEventAttributes).length,
  };
}

test('the memo holds the timeline the workflow answers, in each run; it is read with no worker; the quiet watch writes none per report', async () => {
  const world = createFakeDeps();
  const spec = await testSpec({ kubernetes: { stepPods: 0 }, watch: { duration: '2h', reviewAfter: '0s' } });
  let report!: DeploymentReport;
  let queried: TimelineEvent[] = [];
  let runs: { runId: string; events: number }[] = [];
  const handle = await runScenario(env, bundle, {
    spec,
    world,
    record: 'timeline-memo',
    after: async (h, client) => {
      report = await settledReport(h);
      queried = await h.query(timelineQuery);
      runs = await runChain(client, h.workflowId, h.firstExecutionRunId);
      // Every run's memo is that run's timeline: the first run's ends where it handed over.
      for (const run of runs) {
        const runHandle = client.workflow.getHandle(h.workflowId, run.runId);
        expect(timelineFromMemo((await runHandle.describe()).memo)).toEqual(await runHandle.query(timelineQuery));
      }
    },
  });
  expect(report.outcome).toBe('SUCCEEDED');
  expect(runs.length).toBeGreaterThanOrEqual(2);
  expect(queried).toEqual(report.timeline);
  expect(queried.length).toBeGreaterThan(TIMELINE_MEMO_CHUNK);

  // The worker has stopped: a query would wait for one; the memo is the server's to give.
  const cli = { client: env.client };
  const latest = env.client.workflow.getHandle(handle.workflowId);
  expect(await env.client.withDeadline(Date.now() + 10_000, () => readTimeline(cli, latest))).toEqual(queried);
  const last = queried[queried.length - 1]!.seq;
  expect(await readTimeline(cli, latest, last - 3)).toEqual(queried.slice(-3));

  // The watch ran in the last run: its reports (the evaluator's heartbeats and changes) appended
  // nothing, so its memo events are the few of the window's own entries, not one per report.
  const watchRun = await memoEvents(env.client, handle.workflowId, runs[runs.length - 1]!.runId);
  expect(watchRun.checks).toBeGreaterThan(0);
  expect(watchRun.fields.length).toBeGreaterThan(0);
  expect(watchRun.fields.length).toBeLessThanOrEqual(4);
  // An append rewrites the chunk it lands in: never the whole timeline once it spans chunks.
  const forwardRun = await memoEvents(env.client, handle.workflowId, runs[0]!.runId);
  for (const fields of [...forwardRun.fields, ...watchRun.fields.slice(1)])
    expect(fields.length).toBeLessThanOrEqual(2);
  figures.memoEvents = {
    forward: forwardRun.fields.length,
    watch: watchRun.fields.length,
    watchReports: watchRun.checks,
    events: queried.length,
  };
});

/** Reported in the closing note. */
const figures: Record<string, unknown> = {};
afterAll(() => console.log(`timeline memo figures: ${JSON.stringify(figures)}`));
