/**
 * The Temporal servers built under tools/ really run: the time-skipping test server skips a day
 * of workflow time, and the dev server (with its Web UI) runs a worker + client round trip.
 */
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createLocalEnv, createTimeSkippingEnv } from '../helpers/temporal';
import { freePort } from '../helpers/ports';
import { sleepForADay, roundTrip } from './fixtures/sleepers';

jest.setTimeout(120_000);

let workflowBundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/sleepers'), logger: quietLogger() });
});

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => env?.teardown());

  test('a workflow that sleeps 24 hours completes in far less real time', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'skip',
      workflowBundle,
      activities: { echo: async (t: string) => t },
    });
    const realStart = Date.now();
    const workflowStart = await env.currentTimeMs();
    const result = await worker.runUntil(
      env.client.workflow.execute(sleepForADay, { taskQueue: 'skip', workflowId: 'sleep-a-day' }),
    );
    const workflowElapsed = (await env.currentTimeMs()) - workflowStart;
    const realElapsed = Date.now() - realStart;
    expect(result).toBe('woke up');
    expect(workflowElapsed).toBeGreaterThanOrEqual(24 * 3_600_000);
    // Not a timing assertion on speed: proof that time was skipped rather than waited (1 day vs minutes).
    expect(realElapsed).toBeLessThan(workflowElapsed / 100);
  });
});

describe('dev server with Web UI', () => {
  let env: TestWorkflowEnvironment;
  let uiPort: number;
  beforeAll(async () => {
    uiPort = await freePort();
    env = await createLocalEnv({ ui: true, uiPort });
  });
  afterAll(async () => env?.teardown());

  test('a worker and a client round trip through the dev server', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'round-trip',
      workflowBundle,
      activities: { echo: async (t: string) => `echo: ${t}` },
    });
    const result = await worker.runUntil(
      env.client.workflow.execute(roundTrip, { taskQueue: 'round-trip', workflowId: 'round-trip', args: ['hello'] }),
    );
    expect(result).toBe('echo: hello');
    const described = await env.client.workflow.getHandle('round-trip').describe();
    expect(described.status.name).toBe('COMPLETED');
  });

  test('the Web UI answers HTTP 200 on its port', async () => {
    const response = await fetch(`http://127.0.0.1:${uiPort}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<html');
  });
});

function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
}
