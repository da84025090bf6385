/**
 * The benchmark's worker process: the real shipwatch worker (`createShipwatchWorker`, with its
 * workflow bundle, observability and activities) built on the lean fake ports, run as a child
 * so the parent can read its resident memory from /proc. It answers the parent over IPC with
 * the times recorded at the ports.
 */
import { createShipwatchWorker } from '../src/worker';
import { createBenchPorts } from './fake-ports';
import { createPrometheusMetrics } from '../src/activities/metrics';

export type ToWorker = { type: 'count'; prefix: string } | { type: 'times' } | { type: 'rollbackAt'; id: string } | { type: 'heaps' } | { type: 'stop' };

/** Where the worker's resident memory is: each V8 heap (the main thread's and each workflow thread's) and the rest. */
export interface Heaps {
  rssMiB: number;
  /** The main thread's heap (activities, the SDK's worker loop) and its buffers outside the heap. */
  main: { heapMiB: number; usedMiB: number; externalMiB: number };
  /** Each worker thread's heap (the workflow threads: one per SDK Worker). */
  threads: { heapMiB: number; usedMiB: number }[];
  /** RSS less every heap and the main thread's external buffers: native memory (the SDK's Rust core, gRPC, malloc, code). */
  restMiB: number;
}
export type FromWorker =
  | { type: 'ready' }
  | { type: 'count'; inWatch: number; checks: number; rollbacks: number; memory: NodeJS.MemoryUsage }
  | { type: 'times'; times: ReturnType<typeof createBenchPorts>['times'] }
  | { type: 'rollbackAt'; id: string; at?: number }
  | { type: 'heaps'; heaps: Heaps }
  | { type: 'error'; message: string };

const send = (message: FromWorker): void => {
  process.send?.(message);
};

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** The diagnostic report holds each worker thread's heap (the SDK creates the threads; the process has no handle on them). */
function heaps(): Heaps {
  const report = process.report.getReport() as unknown as { workers?: { javascriptHeap: { totalMemory: number; usedMemory: number } }[] };
  const usage = process.memoryUsage();
  const threadHeaps = (report.workers ?? []).map((w) => w.javascriptHeap);
  const rest = usage.rss - usage.heapTotal - usage.external - threadHeaps.reduce((n, h) => n + h.totalMemory, 0);
  return {
    rssMiB: mib(usage.rss),
    main: { heapMiB: mib(usage.heapTotal), usedMiB: mib(usage.heapUsed), externalMiB: mib(usage.external) },
    threads: threadHeaps.map((h) => ({ heapMiB: mib(h.totalMemory), usedMiB: mib(h.usedMemory) })),
    restMiB: mib(rest),
  };
}

async function main(): Promise<void> {
  // BENCH_PROMETHEUS_URL: the watch's rules go to a real Prometheus through the real adapter.
  const { deps, times } = createBenchPorts(process.env.BENCH_PROMETHEUS_URL ? { metrics: createPrometheusMetrics() } : {});
  const shipwatch = await createShipwatchWorker({ deps, env: process.env });
  process.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'count': {
        const lists = Object.entries(times.checks).filter(([id]) => id.startsWith(message.prefix)).map(([, l]) => l);
        send({
          type: 'count',
          inWatch: lists.length,
          checks: lists.reduce((n, l) => n + l.length, 0),
          rollbacks: Object.keys(times.rollback).length,
          memory: process.memoryUsage(),
        });
        return;
      }
      case 'times':
        send({ type: 'times', times });
        return;
      case 'rollbackAt': {
        const at = times.rollback[message.id];
        send({ type: 'rollbackAt', id: message.id, ...(at !== undefined ? { at } : {}) });
        return;
      }
      case 'heaps':
        send({ type: 'heaps', heaps: heaps() });
        return;
      case 'stop':
        shipwatch.shutdown();
        return;
    }
  });
  const running = shipwatch.run();
  send({ type: 'ready' });
  await running;
  process.exit(0);
}

main().catch((err: Error) => {
  send({ type: 'error', message: err.stack ?? err.message });
  process.exit(1);
});
