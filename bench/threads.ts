/**
 * The threads part (`npm run bench -- --only threads`): what a workflow thread's settings
 * (src/workflow-threads.ts) cost per replay. A timeline query of a window evicted from the sticky
 * cache is a replay of its history on the worker; so is every task of one. This replays a
 * committed window history (a fed watch window in a run of its own: 72 events, 12 workflow tasks)
 * `replays` times per round with each setting, rounds interleaved, through the SDK's replay worker
 * with its workflows in a workflow thread as a worker runs them, and the bundle a worker with
 * tracing off loads, its source map left out. The bench runs under tsx, not as the compiled worker. One process,
 * so the settings are compared on the same machine at the same time; figures are wall-clock and CPU ms
 * per replay (the CPU of the whole process: the replay thread, the main thread and the SDK's core).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import type { InjectedSinks } from '@temporalio/worker';
import { WORKFLOW_BUNDLES } from '../src/observability';
import type { ShipwatchSinks } from '../src/observability';
import { withoutSourceMap } from '../src/workflow-bundle';
import { workerClass } from '../src/workflow-threads';
import type { WorkflowThreadSettings } from '../src/workflow-threads';
import { buildProject, distribution, progress, round } from './lib';
import type { Distribution } from './lib';

const HISTORY = join(__dirname, '..', 'test', 'workflow', 'history_files', 'evaluator-watch-quiet-own-run.json');

const SETTINGS: { name: string; settings: WorkflowThreadSettings }[] = [
  { name: "the SDK's (both on, the default)", settings: { stackTraces: true, deadlockDetection: true } },
  { name: 'stack traces off', settings: { stackTraces: false, deadlockDetection: true } },
  { name: 'deadlock detection off', settings: { stackTraces: true, deadlockDetection: false } },
  { name: 'both off', settings: { stackTraces: false, deadlockDetection: false } },
];

/** The replay worker runs workflows in the calling thread (debug mode) unless told not to; a worker runs them in workflow threads, where the settings apply. The SDK reads the option, though its replay options' type leaves it out. */
const IN_THREADS = { debugMode: false };

/** The worker's sinks, doing nothing: the bundle calls them (`running` also on replay), and a replay without them logs an error per call. */
const noop = { fn: () => undefined };
const SINKS: InjectedSinks<ShipwatchSinks> = {
  shipwatchMetrics: {
    running: { ...noop, callDuringReplay: true },
    started: noop,
    finished: noop,
    watchReported: noop,
  },
};

export interface ThreadsResult {
  name: string;
  settings: WorkflowThreadSettings;
  /** Wall-clock ms per replay, one figure per round. */
  perReplayMs: Distribution;
  /** CPU ms per replay (the process's user + system time: every thread), one figure per round. */
  cpuPerReplayMs: Distribution;
  rounds: number[];
}

export async function benchThreads(replays: number, rounds: number): Promise<ThreadsResult[]> {
  await buildProject();
  const file = join(__dirname, '..', 'dist', WORKFLOW_BUNDLES.untraced);
  const workflowBundle = { code: withoutSourceMap(readFileSync(file, 'utf8'), file) };
  const history = temporal.api.history.v1.History.fromObject(
    JSON.parse(readFileSync(HISTORY, 'utf8')) as Record<string, unknown>,
  );
  const perRound = new Map(SETTINGS.map((s) => [s.name, { wall: [] as number[], cpu: [] as number[] }]));
  for (let r = 0; r < rounds; r++) {
    for (const s of SETTINGS) {
      const histories = Array.from({ length: replays }, (_, i) => ({
        workflowId: `deploy-bench-${r}-${i}-user-management`,
        history,
      }));
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      let failed = 0;
      for await (const result of workerClass(s.settings).runReplayHistories(
        { workflowBundle, sinks: SINKS, ...IN_THREADS },
        histories,
      ))
        if (result.error) failed++;
      if (failed > 0) throw new Error(`${failed} of ${replays} replays failed with ${s.name}`);
      const ms = (performance.now() - started) / replays;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = (cpu.user + cpu.system) / 1000 / replays;
      perRound.get(s.name)!.wall.push(round(ms, 2));
      perRound.get(s.name)!.cpu.push(round(cpuMs, 2));
      progress(`  round ${r + 1}/${rounds}, ${s.name}: ${round(ms, 2)} ms per replay, ${round(cpuMs, 2)} ms of CPU`);
    }
  }
  return SETTINGS.map((s) => {
    const { wall, cpu } = perRound.get(s.name)!;
    return { ...s, perReplayMs: distribution(wall), cpuPerReplayMs: distribution(cpu), rounds: wall };
  });
}
