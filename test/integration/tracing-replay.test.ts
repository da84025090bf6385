/**
 * The committed deployment histories (test/workflow/history_files, recorded with bundles that had
 * no tracing interceptors) replay without non-determinism against the production bundle, which
 * holds the metrics and tracing interceptor modules (WORKFLOW_INTERCEPTOR_MODULES, as
 * tools/bundle-workflows.ts builds it): adding tracing changed no command of a running deployment.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../src/observability';
import { TRACING_WORKFLOW_INTERCEPTOR_MODULE } from '../../src/tracing';
import { deploymentWorkflowId } from '../../src/workflows/messages';
import type { DeploymentInput } from '../../src/workflows/messages';
import { releaseWorkflowId } from '../../src/workflows/release/messages';
import type { ReleaseInput } from '../../src/workflows/release/types';

jest.setTimeout(180_000);

const dir = join(__dirname, '..', 'workflow', 'history_files');

test('every committed history replays against the bundle with the tracing interceptors', async () => {
  expect(WORKFLOW_INTERCEPTOR_MODULES).toContain(TRACING_WORKFLOW_INTERCEPTOR_MODULE);
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  expect(files.length).toBeGreaterThanOrEqual(5);
  const histories = files.map((f) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
    const data = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    if (!data) throw new Error(`${f}: no workflow input in the first event`);
    const text = Buffer.from(data).toString('utf8');
    // The workflow ID the history ran under, derived as the CLI does (child workflow IDs use it).
    const workflowId = f.startsWith('release-')
      ? releaseWorkflowId((JSON.parse(text) as ReleaseInput).spec.name)
      : deploymentWorkflowId((JSON.parse(text) as DeploymentInput).spec.namespace, (JSON.parse(text) as DeploymentInput).spec.service);
    return { workflowId, history };
  });
  const failures: string[] = [];
  // The replay worker suppresses sink calls; the sinks are registered so none is "unregistered".
  const sinks = {
    exporter: { export: { fn: () => undefined } },
    shipwatchMetrics: { running: { fn: () => undefined }, started: { fn: () => undefined }, finished: { fn: () => undefined } },
  };
  let i = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle, sinks }, histories)) {
    if (result.error) failures.push(`${files[i]}: ${String(result.error)}`);
    i++;
  }
  expect(i).toBe(files.length);
  expect(failures).toEqual([]);
});
