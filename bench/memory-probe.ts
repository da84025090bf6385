/**
 * One configuration of the memory part (bench/memory.ts), in a process of its own: a worker with
 * the given workflow bundle holds N parked workflows in its sticky cache; prints the process's
 * resident memory before and after (after a full GC, node --expose-gc) as one JSON line.
 */
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { workflowInterceptorModules } from '../src/observability';
import { createLocalEnv } from '../test/helpers/temporal';
import { parkedWorkflow } from './fixtures/parked-workflows';

export interface ProbeConfig {
  name: string;
  /** Bundle the shipwatch workflows beside the parked one (each cached workflow instantiates their modules). */
  shipwatchModules: boolean;
  /** Which of shipwatch's workflow interceptor modules the bundle holds (workflowInterceptorModules). */
  interceptors: 'none' | 'metrics' | 'traced';
  /** Modules loaded once in the reusable context and shared by every workflow (bundler `preloadModules`). */
  preload: string[];
  workflows: number;
}

export interface ProbeResult extends ProbeConfig {
  rssBeforeMiB: number;
  rssAfterMiB: number;
  perWorkflowKiB: number;
}

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const rss = (): number => process.memoryUsage().rss / 1048576;
const settle = async (): Promise<void> => {
  await new Promise((r) => setTimeout(r, 2000));
  (global as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 500));
};

async function probe(config: ProbeConfig): Promise<ProbeResult> {
  const env = await createLocalEnv();
  try {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve(config.shipwatchModules ? './fixtures/parked-with-shipwatch' : './fixtures/parked-workflows'),
      workflowInterceptorModules: config.interceptors === 'none' ? [] : workflowInterceptorModules(config.interceptors === 'traced'),
      preloadModules: config.preload,
      logger: quiet,
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'memory',
      workflowBundle,
      maxCachedWorkflows: config.workflows + 100,
      sinks: { exporter: { export: { fn: () => undefined } }, shipwatchMetrics: { running: { fn: () => undefined }, started: { fn: () => undefined }, finished: { fn: () => undefined } } },
    });
    return await worker.runUntil(async () => {
      await settle();
      const before = rss();
      for (let i = 0; i < config.workflows; i += 25) {
        await Promise.all(Array.from({ length: Math.min(25, config.workflows - i) }, (_, j) => env.client.workflow.start(parkedWorkflow, { taskQueue: 'memory', workflowId: `parked-${i + j}` })));
      }
      // Every workflow has run its first task (it is then parked in the cache).
      for (let tries = 0; tries < 120; tries++) {
        const { count } = await env.client.workflow.count('WorkflowType="parkedWorkflow" AND ExecutionStatus="Running"');
        const started = await Promise.all(Array.from({ length: 5 }, (_, k) => env.client.workflow.getHandle(`parked-${config.workflows - 1 - k}`).describe().then((d) => d.raw.pendingWorkflowTask === null || d.raw.pendingWorkflowTask === undefined)));
        if (count >= config.workflows && started.every(Boolean)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      await settle();
      const after = rss();
      return { ...config, rssBeforeMiB: Math.round(before), rssAfterMiB: Math.round(after), perWorkflowKiB: Math.round(((after - before) * 1024) / config.workflows) };
    });
  } finally {
    await env.teardown();
  }
}

if (require.main === module) {
  probe(JSON.parse(process.argv[2]!) as ProbeConfig)
    .then((r) => {
      console.log(`RESULT ${JSON.stringify(r)}`);
      process.exit(0);
    })
    .catch((err: Error) => {
      console.error(err.stack ?? err.message);
      process.exit(1);
    });
}
