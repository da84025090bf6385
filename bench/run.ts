/**
 * `npm run bench`: the figures of issue 6 on the local stack — rollback reaction, timeline query
 * latency with many deployments open, worker memory and check drift with 1,000 watch windows,
 * and deploy/rollback wall time against raw kubectl. Prints a summary and writes the figures as
 * JSON to bench/results/. Parts: --only reaction,scale,kubectl,memory,threads.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ROLLBACK_STEPS, benchReaction, benchSpec, startFakeStack } from './fake-stack';
import type { FakeStack, ReactionResult } from './fake-stack';
import { benchWindows, dayOutliers, REACTION_TARGET_MS, windowNamespaces } from './scale-evaluator';
import { fleetScrapeJob, startFleetExporter, type FleetExporter } from '../tools/local/fleet-exporter';
import { startPrometheus, type LocalPrometheus } from '../tools/local/prometheus';
import type { EvaluatorPlace, WatchDesign, WindowsResult } from './scale-evaluator';
import { benchKubectl } from './real-stack';
import type { KubectlResult } from './real-stack';
import { benchMemory } from './memory';
import { benchThreads } from './threads';
import type { ThreadsResult } from './threads';
import type { ProbeResult } from './memory-probe';
import { queryPrometheus } from '../src/activities/metrics';
import { EVALUATION_PHASES } from '../src/workflows/evaluator-plan';
import { distribution, formatDistribution, machine, progress, round, waitUntil } from './lib';
import type { Machine } from './lib';

const PARTS = ['reaction', 'scale', 'kubectl', 'memory', 'threads'] as const;
type Part = (typeof PARTS)[number];

interface Results {
  machine: Machine;
  options: Record<string, unknown>;
  reaction?: ReactionResult;
  /** Issue 12: N windows open, per design (the evaluator, and the per-window checks before it). */
  scale?: WindowsResult[];
  kubectl?: KubectlResult;
  /** What one cached workflow costs the worker, by what its bundle holds. */
  memory?: ProbeResult[];
  threads?: ThreadsResult[];
  errors: Record<string, string>;
  totalSeconds?: number;
}

const TARGETS = {
  reactionP99Ms: REACTION_TARGET_MS,
  timelineP99Ms: 50,
  /** Issue 12, by windows open: timeline p99, lateness p99, worker RSS (MB). */
  scale: { 1000: { timelineP99Ms: 50, latenessP99Ms: 1000, rssMB: 300 }, 10000: { timelineP99Ms: 100, latenessP99Ms: 2000, rssMB: 500 } } as Record<number, { timelineP99Ms: number; latenessP99Ms: number; rssMB: number }>,
  queriesPerSecond: 1,
  eventsPerWindowHour: 10,
  deployRatio: 1.15,
  rollbackRatio: 1.2,
  memoryMiB: 500,
  driftMs: 1000,
};

/** Whether one scale run meets each of issue 12's targets (undefined: the size has no target for it). */
function scaleTargets(w: WindowsResult): { timeline?: boolean; timelineRead?: boolean; reaction?: boolean; lateness?: boolean; rss?: boolean; events: boolean; queries: boolean } {
  const t = TARGETS.scale[w.windows];
  return {
    ...(t ? { timeline: w.timeline.p99 < t.timelineP99Ms, lateness: w.lateness.p99 < t.latenessP99Ms, rss: w.rss.workerPeakMiB * 1.048576 < t.rssMB } : {}),
    ...(t && w.timelineRead ? { timelineRead: w.timelineRead.p99 < t.timelineP99Ms } : {}),
    ...(w.reaction ? { reaction: w.reaction.reaction.p99 < TARGETS.reactionP99Ms } : {}),
    events: w.eventsPerWindowHour <= TARGETS.eventsPerWindowHour,
    queries: w.prometheusQueriesPerSecond <= TARGETS.queriesPerSecond,
  };
}

/** A scale run's design, and where its evaluators ran when not in the worker. */
const designOf = (w: WindowsResult): string => `${w.design}${w.evaluators === 'own process' ? ' (own process)' : ''}`;

const verdict = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');

function summary(r: Results): string {
  const lines: string[] = [];
  lines.push(`machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, load ${r.machine.loadAverage}, node ${r.machine.node}`);
  if (r.reaction) {
    lines.push(`rollback reaction (update sent → first rollback call), idle: ${formatDistribution(r.reaction.reaction)} — target p99 < ${TARGETS.reactionP99Ms} ms: ${verdict(r.reaction.reaction.p99 < TARGETS.reactionP99Ms)}`);
    lines.push(`  rollback update answered: ${formatDistribution(r.reaction.answer)}`);
  }
  if (r.scale) {
    lines.push('scale (windows open quickly with a carried state; fake ports except the rules where Prometheus is real; figures p50 / p99 / max):');
    lines.push('| design | windows | open in | settled in (tasks waiting at most) | timeline read (CLI: memo) | timeline query | rollback reaction | check lateness | worker CPU | server CPU | worker RSS peak | server RSS | events/window/h | Prometheus q/s | rules/s | Prometheus | load |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? ' ✓' : ' ✗');
    const d = (x: { p50: number; p99: number; max: number }) => `${round(x.p50)} / ${round(x.p99)} / ${round(x.max)} ms`;
    const stepsText = (steps: NonNullable<ReactionResult['steps']>) => ROLLBACK_STEPS.map(([k, label]) => `${label} ${round(steps[k].p50)} / ${round(steps[k].p99)}`).join(', ');
    for (const w of r.scale) {
      const met = scaleTargets(w);
      lines.push(
        `| ${designOf(w)} | ${w.windows} | ${round(w.openMs / 1000)} s | ${round(w.settleMs / 1000)} s (${w.backlog.max}) | ${w.timelineRead ? `${d(w.timelineRead)} (n ${w.timelineRead.n}, ${w.timelineRead.fromMemo} from the memo)${mark(met.timelineRead)}` : '–'} | ${d(w.timeline)} (n ${w.timeline.n})${mark(met.timeline)} | ${w.reaction ? d(w.reaction.reaction) + mark(met.reaction) : '–'} | ${d(w.lateness)}${mark(met.lateness)} | ${w.cpu.workerCores} | ${w.cpu.serverCores} | ${w.rss.workerPeakMiB} MiB${mark(met.rss)} | ${w.rss.serverEndMiB ?? '?'} MiB | ${w.eventsPerWindowHour}${mark(met.events)} | ${w.prometheusQueriesPerSecond}${mark(met.queries)} | ${w.rulesPerSecond} | ${w.prometheus} | ${w.loadAverage.start} → ${w.loadAverage.end} |`,
      );
    }
    for (const w of r.scale) {
      const steps = w.reaction?.steps;
      if (steps) {
        lines.push(`  ${designOf(w)} ${w.windows}: rollback steps p50 / p99 ms (n ${steps.taskStartToCompleteMs.n}): ${stepsText(steps)}`);
      }
      const aged = w.reactionAged;
      if (aged) {
        const a = aged.steps;
        lines.push(
          `  ${designOf(w)} ${w.windows}: rollback reaction of windows first sent a day of heartbeats (${aged.heartbeats} each; their runs then ${round(aged.historyEvents.p50)} events at the median, max ${round(aged.historyEvents.max)}; the day ${aged.eventsPerQuietHour} events/window/h over every run${aged.dayEventsPerHour ? `, ${aged.dayEventsPerHour.p50} / ${aged.dayEventsPerHour.max} at the window's median / max, from runs of ${aged.runEventsBefore?.p50} events at the median before it${aged.days ? `, ${dayOutliers(aged.days, aged.heartbeats).length} windows more than 0.5 from the median (\`days\` in the JSON)` : ''}` : ''}): ${d(aged.reaction)} (n ${aged.reaction.n})${mark(aged.reaction.p99 < TARGETS.reactionP99Ms)}${a ? `; steps p50 / p99 ms: ${stepsText(a)}` : ''}`,
        );
      }
      const slow = [...(w.reaction?.slow ?? []), ...(aged?.slow ?? [])];
      const timed = slow.flatMap((s) => (s.afterSlotMs !== undefined ? [afterPhaseSlot(s.afterSlotMs, w.intervalMs)] : []));
      if (timed.length) lines.push(`  ${designOf(w)} ${w.windows}: slow rollbacks sent in the 1.5 s after a slot (of the ${EVALUATION_PHASES} phases'): ${timed.filter((ms) => ms < 1500).length} of ${timed.length}`);
      for (const s of slow) {
        const t = s.where;
        if (!t) continue;
        lines.push(`  ${designOf(w)} ${w.windows}: a ${s.reactionMs} ms rollback (answered in ${s.answerMs} ms${s.afterSlotMs !== undefined ? `, sent ${round(afterPhaseSlot(s.afterSlotMs, w.intervalMs))} ms after a slot` : ''}): ${ROLLBACK_STEPS.map(([k, label]) => `${label} ${t[k]} ms`).join(', ')}`);
      }
    }
    for (const w of r.scale) {
      const c = w.cpuByPhase;
      if (!c) continue;
      // The first 2 s after a slot, where its work lands, and the rest of the interval on average;
      // the shards' slots come in EVALUATION_PHASES phases, so the bins are folded onto one phase.
      const folded = (xs: number[]) => foldOnPhase(xs, c.binMs, w.intervalMs);
      const head = Math.min(4, folded(c.worker).length);
      const part = (name: string, raw: number[]) => {
        const xs = folded(raw);
        return `${name} ${xs.slice(0, head).join(' ')} (rest ${round(xs.slice(head).reduce((a, b) => a + b, 0) / Math.max(1, xs.length - head), 2)})`;
      };
      lines.push(`  ${designOf(w)} ${w.windows}: CPU (cores) in each ${c.binMs} ms of the ${head * c.binMs} ms after a slot (the ${EVALUATION_PHASES} phases' slots together), over ${c.intervals} intervals: ${[part('worker', c.worker), part('server', c.server), ...(c.prometheus ? [part('Prometheus', c.prometheus)] : [])].join('; ')}${w.stealCores !== undefined ? `; stolen by the hypervisor ${w.stealCores} cores` : ''}`);
    }
    for (const w of r.scale) {
      const kinds = Object.entries(w.eventsByKind ?? {});
      if (kinds.length) lines.push(`  ${designOf(w)} ${w.windows}: events/window/h by kind: ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}`);
      const reports = w.reportsPerWindowHour;
      if (reports) lines.push(`  ${designOf(w)} ${w.windows}: reports/window/h: heartbeats ${reports.heartbeats}, changes ${reports.changes}, first reports ${reports.first}`);
    }
    for (const w of r.scale) {
      const p = w.rss.processes;
      if (p && w.cpu.processes) lines.push(`  ${designOf(w)} ${w.windows}: RSS peak (start → end) deployments' process ${p.deployments.peakMiB} MiB (${p.deployments.startMiB} → ${p.deployments.endMiB}), evaluators' ${p.evaluators.peakMiB} MiB (${p.evaluators.startMiB} → ${p.evaluators.endMiB}), the sum's peak ${w.rss.workerPeakMiB} MiB; CPU ${w.cpu.processes.deploymentsCores} + ${w.cpu.processes.evaluatorsCores} cores`);
    }
    for (const w of r.scale) {
      const slow = w.timelineRead?.slow;
      const afterSlot = (ms: number) => afterPhaseSlot(ms, w.intervalMs) < 1000;
      if (slow) lines.push(`  ${designOf(w)} ${w.windows}: timeline reads over 50 ms: ${slow.length} (in the 1 s after a slot: ${slow.filter((s) => afterSlot(s.afterSlotMs)).length}); queries over 50 ms: ${w.slowQueries.length} (in the 1 s after a slot: ${w.slowQueries.filter((s) => afterSlot(s.afterSlotMs)).length})`);
    }
    for (const w of r.scale) if (w.failures.queries || w.failures.rollbacks) lines.push(`  ${designOf(w)} ${w.windows}: ${w.failures.queries} timeline reads or queries and ${w.failures.rollbacks} rollbacks failed (${w.failures.examples.join(' | ')})`);
    // Repeated parts: the median of their runs' figures, per size and design.
    const groups = new Map<string, WindowsResult[]>();
    for (const w of r.scale) groups.set(`${designOf(w)} ${w.windows}`, [...(groups.get(`${designOf(w)} ${w.windows}`) ?? []), w]);
    for (const [key, runs] of groups) {
      if (runs.length < 2) continue;
      const med = (f: (w: WindowsResult) => number) => round(distribution(runs.map(f)).p50);
      const count = (which: 'timeline' | 'timelineRead' | 'reaction' | 'lateness' | 'rss') => {
        const said = runs.map((w) => scaleTargets(w)[which]).filter((ok): ok is boolean => ok !== undefined);
        return said.length ? ` (${said.filter(Boolean).length}/${said.length} met)` : '';
      };
      lines.push(
        `  ${key}, median of ${runs.length} runs: timeline read p99 ${med((w) => w.timelineRead?.p99 ?? Number.NaN)} ms${count('timelineRead')}, timeline query p99 ${med((w) => w.timeline.p99)} ms${count('timeline')}, rollback p99 ${med((w) => w.reaction?.reaction.p99 ?? Number.NaN)} ms${count('reaction')}, lateness p99 ${med((w) => w.lateness.p99)} ms${count('lateness')}, worker RSS peak ${med((w) => w.rss.workerPeakMiB)} MiB${count('rss')}`,
      );
    }
    const ev = r.scale.find((w) => w.design === 'evaluator' && w.windows === 1000 && w.evaluators !== 'own process');
    const old = r.scale.find((w) => w.design === 'per-window' && w.windows === 1000);
    if (ev && old) {
      const ratio = (a: number, b: number) => (b > 0 ? `×${round(a / b, 1)}` : `${a} vs ${b}`);
      lines.push(`  at 1,000 windows, per-window ÷ evaluator: timeline p99 ${ratio(old.timeline.p99, ev.timeline.p99)}, lateness p99 ${ratio(old.lateness.p99, ev.lateness.p99)}, worker CPU ${ratio(old.cpu.workerCores, ev.cpu.workerCores)}, server CPU ${ratio(old.cpu.serverCores, ev.cpu.serverCores)}, events/window/h ${ratio(old.eventsPerWindowHour, ev.eventsPerWindowHour)}, Prometheus q/s ${ratio(old.prometheusQueriesPerSecond, ev.prometheusQueriesPerSecond)}`);
    }
  }
  if (r.kubectl) {
    const k = r.kubectl;
    lines.push(`deploy vs kubectl set image + rollout status (${k.runs} runs each, medians):`);
    lines.push(`  kubectl apply + rollout status: ${k.kubectlDeployMs} ms; shipwatch rollout phase (release written in the API → "All pods running"): ${k.shipwatchRolloutFromChangeMs} ms → ratio ${k.rolloutRatio} — target ≤ ${TARGETS.deployRatio}: ${verdict(k.rolloutRatio <= TARGETS.deployRatio)}`);
    lines.push(`  for information: shipwatch from its "Rollout step 1/1" (before it reads the Deployment): ${k.shipwatchRolloutMs} ms → ratio ${k.rolloutStepRatio}; both sides from the change in the API: shipwatch ${k.shipwatchRolloutFromChangeMs} / kubectl ${k.kubectlFromChangeMs} ms → ratio ${k.rolloutFromChangeRatio}`);
    lines.push(`  shipwatch whole deploy (start → watch window) minus configured waits: ${k.shipwatchDeployMs} ms → ratio ${k.deployRatio}`);
    lines.push(`rollback vs kubectl rollout undo + rollout status:`);
    lines.push(`  kubectl: ${k.kubectlUndoMs} ms; shipwatch rollout undo: ${k.shipwatchUndoMs} ms → ratio ${k.undoRatio} — target ≤ ${TARGETS.rollbackRatio}: ${verdict(k.undoRatio <= TARGETS.rollbackRatio)}`);
    lines.push(`  shipwatch whole rollback (request → ROLLED_BACK: undo, verify, smoke on old version, notify, report): ${k.shipwatchRollbackMs} ms → ratio ${k.rollbackRatio}`);
    if (k.failures.length) lines.push(`  ${k.failures.length} run(s) failed and were retried (see the JSON): ${k.failures.map((f) => f.slice(0, 160)).join(' | ')}`);
    if (k.reactionToApiMs) lines.push(`  rollback request → Deployment changed in the API: ${formatDistribution(k.reactionToApiMs)}`);
  }
  if (r.memory) {
    lines.push('worker memory per cached workflow (resident, after a GC):');
    for (const m of r.memory) lines.push(`  ${m.name}: ${m.perWorkflowKiB} KiB each (${m.workflows} cached: ${m.rssBeforeMiB} → ${m.rssAfterMiB} MiB)`);
  }
  if (r.threads) {
    lines.push('a window\'s history replayed, by workflow thread settings (per replay, median / max of the rounds):');
    for (const t of r.threads) lines.push(`  ${t.name}: ${t.perReplayMs.p50} / ${t.perReplayMs.max} ms, CPU ${t.cpuPerReplayMs.p50} / ${t.cpuPerReplayMs.max} ms`);
  }
  for (const [part, error] of Object.entries(r.errors)) lines.push(`${part}: FAILED — ${error}`);
  return lines.join('\n');
}

/** A time after a multiple of the interval (the JSON's `afterSlotMs`) as the time after the last of the shards' EVALUATION_PHASES slots in it. */
function afterPhaseSlot(afterIntervalMs: number, intervalMs: number): number {
  return afterIntervalMs % (intervalMs / EVALUATION_PHASES);
}

/** CPU bins of a whole interval (cpuByPhase) folded onto one phase of it: bin j is the mean of bin j after each phase's slot. */
function foldOnPhase(xs: number[], binMs: number, intervalMs: number): number[] {
  const per = Math.round(intervalMs / EVALUATION_PHASES / binMs);
  if (per < 1 || per * EVALUATION_PHASES !== xs.length) return xs;
  return Array.from({ length: per }, (_, j) => round(Array.from({ length: EVALUATION_PHASES }, (_, p) => xs[p * per + j]!).reduce((a, b) => a + b, 0) / EVALUATION_PHASES, 2));
}

/** Services per scrape target of the synthetic fleet. */
const FLEET_SLICE = 50;

async function main(): Promise<void> {
  const program = new Command('bench')
    .description('shipwatch benchmarks on the local stack')
    .addOption(new Option('--only <parts>', `comma-separated parts: ${PARTS.join(', ')}`).default(PARTS.join(',')))
    .option('--runs <n>', 'rollback reaction runs (idle)', (v) => Number(v), 30)
    .option('--windows <list>', 'scale part: windows open at once with the watch evaluator, comma-separated', '1000,10000')
    .option('--per-window <list>', 'scale part: windows open at once with the per-window design before it (the comparison), comma-separated', '1000')
    .option('--interval <s>', 'watch check interval of the scale part, seconds', (v) => Number(v), 30)
    .option('--steady <s>', 'seconds to observe the steady state of the scale part', (v) => Number(v), 150)
    .option('--queries <n>', 'timeline queries', (v) => Number(v), 500)
    .option('--rollbacks-under-load <n>', 'rollbacks timed with the windows open', (v) => Number(v), 10)
    .option('--aged-rollbacks <n>', 'rollbacks timed, in turn with those, of windows first sent a day of heartbeats (a run as long as at the end of its window)', (v) => Number(v), 10)
    .option('--repeat <n>', 'scale part: run each size and design this many times, one after the other, each on a fresh server and worker; the summary gives every run and their medians', (v) => Number(v), 1)
    .option('--memory-workflows <n>', 'memory part: workflows held in the sticky cache per configuration', (v) => Number(v), 300)
    .option('--replays <n>', 'threads part: replays of a window history per setting and round', (v) => Number(v), 300)
    .option('--rounds <n>', 'threads part: rounds, the settings interleaved in each', (v) => Number(v), 5)
    .option('--kubectl-runs <n>', 'deploy/rollback runs each for shipwatch and kubectl', (v) => Number(v), 3)
    .option('--prometheus', 'scale part: evaluate the watch rules with the real metrics adapter against a real Prometheus scraping a synthetic fleet (one healthy service per window), and count the queries it answered')
    .option('--scrape <s>', 'with --prometheus: how often Prometheus scrapes the synthetic fleet, seconds', (v) => Number(v), 10)
    .addOption(new Option('--evaluators <where>', 'scale part: the watch evaluators in the deployments\' worker process, in a worker process of their own (SHIPWATCH_WORKER_QUEUES), or each evaluator step both ways, one after the other').choices(['in-worker', 'own-process', 'both']).default('in-worker'))
    .option('--worker-cache <n>', "the worker's sticky cache (SHIPWATCH_MAX_CACHED_WORKFLOWS; default: the worker's own default)", (v) => Number(v))
    .option('--worker-heap <MiB>', "the worker process's V8 old-space limit (node --max-old-space-size; default: node's own)", (v) => Number(v))
    .option('--worker-semi-space <MiB>', "the worker process's V8 young-generation semi-space limit, per isolate (node --max-semi-space-size; default: node's own)", (v) => Number(v))
    .option('--worker-flags <flags>', "other flags of the worker's node, space-separated (e.g. \"--trace-gc\")")
    .option('--worker-env <pairs>', "more of the worker's environment, space-separated NAME=value (e.g. \"MALLOC_ARENA_MAX=2\")")
    .option('--temporal-db <file>', 'SQLite file of the dev server for the fake-port parts (default: in memory)')
    .option('--temporal-flags <args>', 'more arguments of the dev server, e.g. "--dynamic-config-value matching.numTaskqueueReadPartitions=1"')
    .option('--out <file>', 'where to write the JSON figures', join(__dirname, 'results', 'latest.json'));
  program.parse();
  const o = program.opts<{ only: string; runs: number; windows: string; perWindow: string; interval: number; steady: number; queries: number; rollbacksUnderLoad: number; agedRollbacks: number; repeat: number; kubectlRuns: number; memoryWorkflows: number; replays: number; rounds: number; prometheus?: boolean; scrape: number; workerCache?: number; workerHeap?: number; workerSemiSpace?: number; workerFlags?: string; workerEnv?: string; temporalDb?: string; temporalFlags?: string; out: string; evaluators: 'in-worker' | 'own-process' | 'both' }>();
  if (!Number.isInteger(o.repeat) || o.repeat < 1) throw new Error(`--repeat: expected a whole number of runs, 1 or more (got "${o.repeat}")`);
  const parts = o.only.split(',').map((p) => p.trim()) as Part[];
  for (const p of parts) if (!PARTS.includes(p)) throw new Error(`unknown part "${p}"; parts: ${PARTS.join(', ')}`);

  mkdirSync(join(o.out, '..'), { recursive: true });
  const started = Date.now();
  const results: Results = { machine: machine(), options: { ...o, parts }, errors: {} };
  progress(`shipwatch bench: ${parts.join(', ')} on ${results.machine.cpuModel} (${results.machine.cores} cores, load ${results.machine.loadAverage})`);

  if (parts.includes('reaction') || parts.includes('scale')) {
    const list = (v: string) => v.split(',').map(Number).filter((n) => n > 0);
    // The evaluator at each size, then the per-window design: both on the same worker and server, in the same run.
    // --evaluators both: each evaluator run in both places, one after the other (the per-window design has no evaluators).
    const places: EvaluatorPlace[] = o.evaluators === 'both' ? ['in the worker', 'own process'] : [o.evaluators === 'own-process' ? 'own process' : 'in the worker'];
    const plan: { design: WatchDesign; windows: number; prefix: string; run: number; evaluators: EvaluatorPlace }[] = [...list(o.windows).map((windows) => ({ design: 'evaluator' as const, windows })), ...list(o.perWindow).map((windows) => ({ design: 'per-window' as const, windows }))].map((step, i) => ({ ...step, prefix: `s${i}-` }))
      // Repeats use the same namespaces (each on a fresh server), so the fleet Prometheus scrapes covers them.
      .flatMap((step) => Array.from({ length: o.repeat }, (_, run) => ({ ...step, run: run + 1 })))
      .flatMap((step) => (step.design === 'evaluator' ? places : ['in the worker' as const]).map((evaluators) => ({ ...step, evaluators })));
    let fleet: { exporter: FleetExporter; prometheus: LocalPrometheus } | undefined;
    if (o.prometheus && parts.includes('scale')) {
      // Each namespace once: the repeats of a step use the same ones.
      const services = [...new Set(plan.flatMap((step) => windowNamespaces(step.prefix, step.windows)))].map((namespace) => ({ namespace, name: 'user-management' }));
      // Scraped as one target per FLEET_SLICE services, at offsets Prometheus spreads over its interval as it does a real fleet's, not in one scrape of the whole fleet every interval.
      const slices = Math.ceil(services.length / FLEET_SLICE);
      progress(`starting a Prometheus scraping a synthetic fleet of ${services.length} healthy services as ${slices} targets (every ${o.scrape} s)…`);
      const exporter = await startFleetExporter(services, { healthy: true });
      const prometheus = await startPrometheus({ scrapeInterval: `${o.scrape}s`, rawJobs: [fleetScrapeJob(exporter.address, slices)] });
      fleet = { exporter, prometheus };
      // The fleet's services run before their windows open: wait until Prometheus has the data a
      // window's rules ask for (a rate needs two scrapes), or the first part's first evaluations
      // say "no data" and their second a change — a signal to every window the steady state would count.
      const first = plan[0] ? windowNamespaces(plan[0].prefix, 1)[0] : undefined;
      if (first) {
        const rules = (await benchSpec(first, { duration: '24h', interval: `${o.interval}s` }, prometheus.url)).watch.rules;
        const waitFrom = Date.now();
        await waitUntil(`Prometheus to have the data of ${first}'s rules`, 5 * 60_000, async () => {
          const answers = await Promise.all(rules.map(async (r) => ({ rule: r.name, answer: await queryPrometheus(prometheus.url, r.expr) })));
          const missing = answers.filter(({ answer }) => answer.outcome !== 'ok' || answer.values.length === 0);
          return missing.length === 0 ? true : `Prometheus has no data yet for ${missing.map(({ rule, answer }) => `${rule} (${answer.outcome})`).join(', ')}`;
        });
        progress(`  Prometheus has the fleet's data after ${Math.round((Date.now() - waitFrom) / 1000)} s`);
      }
    }
    // A dev server and worker of their own for the reaction part and for each scale step: a step's
    // memory and CPU figures are then its own, not what an earlier step left in the worker's heap.
    const startStack = (what: string, evaluators: EvaluatorPlace = 'in the worker'): Promise<FakeStack> => {
      progress(`starting a Temporal dev server and a bench worker (real worker, fake ports${evaluators === 'own process' ? '; the evaluators in a worker process of their own' : ''}) for ${what}…`);
      return startFakeStack({
        ...(evaluators === 'own process' ? { evaluatorProcess: true } : {}),
        ...(o.temporalDb ? { dbFile: o.temporalDb } : {}),
        ...(o.temporalFlags ? { temporalArgs: o.temporalFlags.split(/\s+/).filter(Boolean) } : {}),
        ...(fleet ? { prometheusUrl: fleet.prometheus.url } : {}),
        ...(o.workerCache !== undefined ? { maxCachedWorkflows: o.workerCache } : {}),
        ...(o.workerHeap !== undefined ? { heapMiB: o.workerHeap } : {}),
        ...(o.workerSemiSpace !== undefined ? { semiSpaceMiB: o.workerSemiSpace } : {}),
        ...(o.workerFlags ? { nodeFlags: o.workerFlags.split(/\s+/).filter(Boolean) } : {}),
        ...(o.workerEnv ? { env: workerEnv(o.workerEnv) } : {}),
      });
    };
    let stack: FakeStack | undefined;
    const stopAll = async (): Promise<void> => {
      await stack?.stop();
      stack = undefined;
      await fleet?.prometheus.stop();
      await fleet?.exporter.stop();
    };
    const stopOnSignal = () => void stopAll().then(() => process.exit(130));
    process.once('SIGINT', stopOnSignal);
    process.once('SIGTERM', stopOnSignal);
    try {
      if (parts.includes('reaction')) {
        stack = await startStack('the rollback reaction');
        progress(`rollback reaction: ${o.runs} runs…`);
        results.reaction = await benchReaction(stack, o.runs).catch((err: Error) => {
          results.errors.reaction = err.message;
          return undefined;
        });
        await stack.stop();
        stack = undefined;
      }
      if (parts.includes('scale')) {
        results.scale = [];
        for (const step of plan) {
          stack = await startStack(`${step.windows} windows (${step.design})`, step.evaluators);
          progress(`scale: ${step.windows} windows, ${step.design}${o.repeat > 1 ? `, run ${step.run} of ${o.repeat}` : ''}, checks every ${o.interval} s${fleet ? ', rules asked of a real Prometheus' : ''}…`);
          const result = await benchWindows(stack, { ...step, intervalMs: o.interval * 1000, steadyMs: o.steady * 1000, queries: o.queries, rollbacks: o.rollbacksUnderLoad, agedRollbacks: o.agedRollbacks, ...(fleet?.prometheus.pid ? { prometheusPid: fleet.prometheus.pid } : {}) }).catch((err: Error) => {
            results.errors[`scale ${step.design}${step.evaluators === 'own process' ? ' (own process)' : ''} ${step.windows}${o.repeat > 1 ? ` run ${step.run}` : ''}`] = err.message;
            return undefined;
          });
          if (result) results.scale.push(result);
          writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`);
          await stack.stop();
          stack = undefined;
        }
      }
    } finally {
      progress('stopping the bench workers, Temporal and Prometheus…');
      process.off('SIGINT', stopOnSignal);
      process.off('SIGTERM', stopOnSignal);
      await stopAll();
    }
  }

  if (parts.includes('kubectl')) {
    progress(`deploy and rollback against kubectl on the local stack: ${o.kubectlRuns} runs each…`);
    results.kubectl = await benchKubectl({ runs: o.kubectlRuns }).catch((err: Error) => {
      results.errors.kubectl = err.message;
      return undefined;
    });
  }

  if (parts.includes('memory')) {
    progress(`worker memory per cached workflow: ${o.memoryWorkflows} workflows per configuration…`);
    results.memory = await benchMemory(o.memoryWorkflows).catch((err: Error) => {
      results.errors.memory = err.message;
      return undefined;
    });
  }

  if (parts.includes('threads')) {
    progress(`a window history replayed ${o.replays} times per workflow thread setting, ${o.rounds} rounds…`);
    results.threads = await benchThreads(o.replays, o.rounds).catch((err: Error) => {
      results.errors.threads = err.message;
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

/** `--worker-env "A=1 B=2"` as an environment; a pair without `=` is refused, naming it. */
function workerEnv(pairs: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs.split(/\s+/).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--worker-env: "${pair}" is not NAME=value (e.g. --worker-env "MALLOC_ARENA_MAX=2")`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}
