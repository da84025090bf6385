/**
 * `npm run bench`: the figures of issue 6 on the local stack — rollback reaction, timeline query
 * latency with many deployments open, worker memory and check drift with 1,000 watch windows,
 * and deploy/rollback wall time against raw kubectl. Prints a summary and writes the figures as
 * JSON to bench/results/. Parts: --only reaction,scale,kubectl.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { benchReaction, benchScale, startFakeStack } from './fake-stack';
import type { ReactionResult, ScaleResult } from './fake-stack';
import { benchKubectl } from './real-stack';
import type { KubectlResult } from './real-stack';
import { formatDistribution, machine, progress } from './lib';
import type { Machine } from './lib';

const PARTS = ['reaction', 'scale', 'kubectl'] as const;
type Part = (typeof PARTS)[number];

interface Results {
  machine: Machine;
  options: Record<string, unknown>;
  reaction?: ReactionResult;
  scale?: ScaleResult;
  kubectl?: KubectlResult;
  errors: Record<string, string>;
  totalSeconds?: number;
}

const TARGETS = {
  reactionP99Ms: 250,
  timelineP99Ms: 50,
  deployRatio: 1.15,
  rollbackRatio: 1.2,
  memoryMiB: 500,
  driftMs: 1000,
};

const verdict = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');

function summary(r: Results): string {
  const lines: string[] = [];
  lines.push(`machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, load ${r.machine.loadAverage}, node ${r.machine.node}`);
  if (r.reaction) {
    lines.push(`rollback reaction (update sent → first rollback call), idle: ${formatDistribution(r.reaction.reaction)} — target p99 < ${TARGETS.reactionP99Ms} ms: ${verdict(r.reaction.reaction.p99 < TARGETS.reactionP99Ms)}`);
    lines.push(`  rollback update answered: ${formatDistribution(r.reaction.answer)}`);
  }
  if (r.scale) {
    const s = r.scale;
    lines.push(`${s.deployments} deployments in their watch windows (interval ${s.intervalMs / 1000} s), ramp-up ${(s.rampUpMs / 1000).toFixed(0)} s`);
    lines.push(`  timeline query (${s.timelineEvents} events): ${formatDistribution(s.timeline)} — target p99 < ${TARGETS.timelineP99Ms} ms: ${verdict(s.timeline.p99 < TARGETS.timelineP99Ms)}`);
    lines.push(`  worker RSS: idle ${s.memory.idleMiB} MiB, all in watch ${s.memory.inWatchMiB} MiB, peak ${s.memory.peakMiB} MiB, end ${s.memory.endMiB} MiB (V8 heap ${s.memory.heapUsedMiB} MiB) — target < ${TARGETS.memoryMiB} MB: ${verdict(s.memory.peakMiB * 1.048576 < TARGETS.memoryMiB)}; Temporal dev server ${s.memory.temporalServerMiB ?? '?'} MiB`);
    lines.push(`  check lateness (vs previous check + interval): ${formatDistribution(s.lateness)} — target < ${TARGETS.driftMs} ms: ${verdict(s.lateness.max < TARGETS.driftMs)}`);
    lines.push(`  cumulative drift (vs watch start + k × interval): ${formatDistribution(s.drift)} over ${s.steadyChecks} steady-state checks`);
    lines.push(`  CPU in the steady state: worker ${s.cpu.workerCores} cores, Temporal dev server ${s.cpu.serverCores} cores (machine load ${s.cpu.loadAverage})`);
    if (s.reactionUnderLoad) lines.push(`  rollback reaction under load: ${formatDistribution(s.reactionUnderLoad.reaction)}`);
  }
  if (r.kubectl) {
    const k = r.kubectl;
    lines.push(`deploy vs kubectl set image + rollout status (${k.runs} runs each, medians):`);
    lines.push(`  kubectl: ${k.kubectlDeployMs} ms; shipwatch rollout phase minus step windows: ${k.shipwatchRolloutMs} ms → ratio ${k.rolloutRatio} — target ≤ ${TARGETS.deployRatio}: ${verdict(k.rolloutRatio <= TARGETS.deployRatio)}`);
    lines.push(`  shipwatch whole deploy (start → watch window) minus configured waits: ${k.shipwatchDeployMs} ms → ratio ${k.deployRatio}`);
    lines.push(`rollback vs kubectl rollout undo + rollout status:`);
    lines.push(`  kubectl: ${k.kubectlUndoMs} ms; shipwatch rollout undo: ${k.shipwatchUndoMs} ms → ratio ${k.undoRatio} — target ≤ ${TARGETS.rollbackRatio}: ${verdict(k.undoRatio <= TARGETS.rollbackRatio)}`);
    lines.push(`  shipwatch whole rollback (request → ROLLED_BACK: undo, verify, smoke on old version, notify, report): ${k.shipwatchRollbackMs} ms → ratio ${k.rollbackRatio}`);
    if (k.failures.length) lines.push(`  ${k.failures.length} run(s) failed and were retried (see the JSON): ${k.failures.map((f) => f.slice(0, 160)).join(' | ')}`);
    if (k.reactionToApiMs) lines.push(`  rollback request → Deployment changed in the API: ${formatDistribution(k.reactionToApiMs)}`);
  }
  for (const [part, error] of Object.entries(r.errors)) lines.push(`${part}: FAILED — ${error}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const program = new Command('bench')
    .description('shipwatch benchmarks on the local stack')
    .addOption(new Option('--only <parts>', `comma-separated parts: ${PARTS.join(', ')}`).default(PARTS.join(',')))
    .option('--runs <n>', 'rollback reaction runs (idle)', (v) => Number(v), 30)
    .option('--deployments <n>', 'deployments open at once for the scale part', (v) => Number(v), 1000)
    .option('--interval <s>', 'watch check interval of the scale part, seconds', (v) => Number(v), 30)
    .option('--steady <s>', 'seconds to observe the steady state of the scale part', (v) => Number(v), 150)
    .option('--queries <n>', 'timeline queries', (v) => Number(v), 500)
    .option('--rollbacks-under-load <n>', 'rollbacks timed with the deployments open', (v) => Number(v), 10)
    .option('--kubectl-runs <n>', 'deploy/rollback runs each for shipwatch and kubectl', (v) => Number(v), 3)
    .option('--temporal-db <file>', 'SQLite file of the dev server for the fake-port parts (default: in memory)')
    .option('--out <file>', 'where to write the JSON figures', join(__dirname, 'results', 'latest.json'));
  program.parse();
  const o = program.opts<{ only: string; runs: number; deployments: number; interval: number; steady: number; queries: number; rollbacksUnderLoad: number; kubectlRuns: number; temporalDb?: string; out: string }>();
  const parts = o.only.split(',').map((p) => p.trim()) as Part[];
  for (const p of parts) if (!PARTS.includes(p)) throw new Error(`unknown part "${p}"; parts: ${PARTS.join(', ')}`);

  const started = Date.now();
  const results: Results = { machine: machine(), options: { ...o, parts }, errors: {} };
  progress(`shipwatch bench: ${parts.join(', ')} on ${results.machine.cpuModel} (${results.machine.cores} cores, load ${results.machine.loadAverage})`);

  if (parts.includes('reaction') || parts.includes('scale')) {
    progress('starting the Temporal dev server and the bench worker (real worker, fake ports)…');
    const stack = await startFakeStack(o.temporalDb ? { dbFile: o.temporalDb } : {});
    const stopOnSignal = () => void stack.stop().then(() => process.exit(130));
    process.once('SIGINT', stopOnSignal);
    process.once('SIGTERM', stopOnSignal);
    try {
      if (parts.includes('reaction')) {
        progress(`rollback reaction: ${o.runs} runs…`);
        results.reaction = await benchReaction(stack, o.runs).catch((err: Error) => {
          results.errors.reaction = err.message;
          return undefined;
        });
      }
      if (parts.includes('scale')) {
        progress(`scale: ${o.deployments} deployments, checks every ${o.interval} s…`);
        results.scale = await benchScale(stack, {
          deployments: o.deployments,
          intervalMs: o.interval * 1000,
          steadyMs: o.steady * 1000,
          queries: o.queries,
          rollbacksUnderLoad: o.rollbacksUnderLoad,
        }).catch((err: Error) => {
          results.errors.scale = err.message;
          return undefined;
        });
      }
    } finally {
      progress('stopping the bench worker and Temporal…');
      process.off('SIGINT', stopOnSignal);
      process.off('SIGTERM', stopOnSignal);
      await stack.stop();
    }
  }

  if (parts.includes('kubectl')) {
    progress(`deploy and rollback against kubectl on the local stack: ${o.kubectlRuns} runs each…`);
    results.kubectl = await benchKubectl({ runs: o.kubectlRuns }).catch((err: Error) => {
      results.errors.kubectl = err.message;
      return undefined;
    });
  }

  results.totalSeconds = Math.round((Date.now() - started) / 1000);
  mkdirSync(join(o.out, '..'), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${summary(results)}\n\nfigures written to ${o.out} (${results.totalSeconds} s in all)`);
  if (Object.keys(results.errors).length) process.exitCode = 1;
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
