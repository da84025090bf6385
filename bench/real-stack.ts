/**
 * The benchmark part on the whole local stack (Temporal, kwok cluster, PostgreSQL, Prometheus,
 * the sample service as real processes, a real worker process): shipwatch's deploy and rollback
 * against `kubectl set image` / `kubectl rollout undo` + `kubectl rollout status` of the same
 * change on the same cluster, and the rollback request → first change of the Deployment in the API.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { ApplicationFailure, Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { TimelineEvent } from '../src/model';
import { startDeployment } from '../src/deployments';
import type { DeploymentHandle } from '../src/deployments';
import type { DeploymentReport } from '../src/model';
import { loadSpecFile } from '../src/spec/load';
import { rollbackUpdate, statusQuery } from '../src/workflows/messages';
import { deploymentManifest, startStack } from '../tools/local/stack';
import type { LocalStack } from '../tools/local/stack';
import { buildProject, distribution, progress, round, sleep } from './lib';
import type { Distribution } from './lib';

const NAMESPACE = 'production';
const DEPLOYMENT = 'user-management';

/** One timed run; all durations in ms. */
export interface KubectlRun {
  release: string;
  /** `kubectl apply` of the release's manifest (what `set image` does, plus its VERSION env) + `kubectl rollout status`. */
  kubectlDeployMs: number;
  /** Client start → "Watch window started", minus the configured step windows (none: stepWindow 0). */
  shipwatchDeployMs: number;
  /** "Rollout step 1/1" started → "All pods running" on the timeline (from before shipwatch reads the Deployment). */
  shipwatchRolloutMs: number;
  /** The issue's rollout phase: the release written (the Deployment's generation changed in the API, seen by a watch) → "All pods running" on the timeline. */
  shipwatchRolloutFromChangeMs: number;
  /** The same for kubectl, for a like-for-like look: its apply changed the Deployment in the API → `rollout status` returned. */
  kubectlFromChangeMs: number;
  /** Each phase of the shipwatch deploy, from its first event to the next phase's first event. */
  phases: Record<string, number>;
  /** `kubectl rollout undo` + `kubectl rollout status`. */
  kubectlUndoMs: number;
  /** "Rollback started" → "Rollout undone" on the timeline. */
  shipwatchUndoMs: number;
  /** Rollback update sent → the workflow closed ROLLED_BACK (client side). */
  shipwatchRollbackMs: number;
  /** The workflow's own RollbackRecord.durationMs. */
  rollbackRecordMs: number;
  /** Rollback update sent → the Deployment's spec changed (generation bumped) in the API. */
  reactionToApiMs?: number;
}

export interface KubectlResult {
  runs: number;
  /** Runs that failed and were retried, with why. */
  failures: string[];
  samples: KubectlRun[];
  kubectlDeployMs: number;
  shipwatchDeployMs: number;
  shipwatchRolloutMs: number;
  shipwatchRolloutFromChangeMs: number;
  kubectlFromChangeMs: number;
  deployRatio: number;
  /** The issue's ratio: shipwatch's rollout phase from the first change in the cluster ÷ kubectl apply + rollout status. */
  rolloutRatio: number;
  /** "Rollout step 1/1" → "All pods running" ÷ kubectl apply + rollout status (the figure before Session 8). */
  rolloutStepRatio: number;
  /** Both sides from the change in the API to "all pods new" seen by each. */
  rolloutFromChangeRatio: number;
  kubectlUndoMs: number;
  shipwatchUndoMs: number;
  shipwatchRollbackMs: number;
  undoRatio: number;
  rollbackRatio: number;
  reactionToApiMs?: Distribution;
}

const median = (xs: number[]): number => distribution(xs).p50;

const at = (events: TimelineEvent[], match: (e: TimelineEvent) => boolean, what: string): number => {
  const e = events.find(match);
  if (!e) throw new Error(`no timeline event "${what}" in ${events.map((x) => x.title).join(' | ')}`);
  return Date.parse(e.at);
};

/** Milliseconds from each phase's first event to the next phase's first event. */
function phaseDurations(events: TimelineEvent[]): Record<string, number> {
  const firsts: { phase: string; at: number }[] = [];
  for (const e of events) if (!firsts.some((f) => f.phase === e.phase)) firsts.push({ phase: e.phase, at: Date.parse(e.at) });
  const out: Record<string, number> = {};
  firsts.forEach((f, i) => {
    const next = firsts[i + 1];
    if (next) out[f.phase] = next.at - f.at;
  });
  return out;
}

/**
 * The deployment's final report, whatever its outcome: a rolled-back or failed deployment ends its
 * workflow failed (src/workflows/deployment/finish.ts), with the report as the failure's details.
 */
async function finalReport(handle: DeploymentHandle): Promise<DeploymentReport> {
  try {
    return await handle.result();
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    const report = cause instanceof ApplicationFailure ? (cause.details?.[0] as DeploymentReport | undefined) : undefined;
    if (!report) throw err;
    return report;
  }
}

/**
 * A spec of the sample service for `release`: one plain rolling update (stepPods 0), no step
 * window; `watch` and its check `interval` (the spec refuses an interval longer than the window).
 */
function writeSpec(stack: LocalStack, release: string, watch: { duration: string; interval: string }): string {
  const path = stack.writeSpec({ release, stepWindow: '0s', watch: watch.duration, interval: watch.interval });
  const doc = parseYaml(readFileSync(path, 'utf8')) as { kubernetes: Record<string, unknown> };
  doc.kubernetes.stepPods = 0;
  writeFileSync(path, stringifyYaml(doc));
  return path;
}

/**
 * A watch on the sample Deployment that notes when its generation first passes the current one (a
 * spec change reached the API). Resolves once the watch is established, so nothing is missed; its
 * `changedAt()` stops it and gives the time, or undefined when no change came within 1 s of asking.
 */
async function watchNextChange(kubeconfig: string, generation: () => Promise<number>): Promise<{ changedAt: () => Promise<number | undefined> }> {
  const after = await generation();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  let stopped = false;
  let resolveChanged!: (at: number) => void;
  let rejectChanged!: (err: Error) => void;
  const changed = new Promise<number>((resolve, reject) => {
    resolveChanged = resolve;
    rejectChanged = reject;
  });
  changed.catch(() => undefined);
  const abort = await new Watch(kc).watch(
    `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`,
    { fieldSelector: `metadata.name=${DEPLOYMENT}` },
    (_type, obj: { metadata?: { generation?: number } }) => {
      if ((obj.metadata?.generation ?? 0) > after) resolveChanged(Date.now());
    },
    (err) => {
      if (!stopped && err) rejectChanged(err instanceof Error ? err : new Error(String(err)));
    },
  );
  return {
    changedAt: async () => {
      try {
        return await Promise.race([changed, sleep(1_000).then(() => undefined)]);
      } finally {
        stopped = true;
        abort.abort();
      }
    },
  };
}

export async function benchKubectl(options: { runs: number; keepState?: boolean }): Promise<KubectlResult> {
  const stateDir = mkdtempSync(join(tmpdir(), 'shipwatch-bench-stack-'));
  await buildProject();
  const stack = await startStack({ name: 'bench', stateDir, log: (line) => progress(`  ${line}`) });
  let connection: Connection | undefined;
  try {
    await stack.startWorker();
    connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection });
    const kubectl = (...args: string[]) => stack.kubectl(['-n', NAMESPACE, ...args]);
    const rolloutStatus = () => kubectl('rollout', 'status', `deployment/${DEPLOYMENT}`, '--timeout=300s');
    const applyRelease = (release: string) => stack.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', 'kubectl-bench', '-f', '-'], deploymentManifest(release));
    const generation = async () => Number(await kubectl('get', `deployment/${DEPLOYMENT}`, '-o', 'jsonpath={.metadata.generation}'));
    const samples: KubectlRun[] = [];
    // The metrics checks compare against a baseline over a 30 s window: give Prometheus one.
    progress('  letting Prometheus scrape a 30 s baseline window…');
    await sleep(35_000);

    const failures: string[] = [];
    // A failed run (the stack's own flakiness, e.g. a pod log not yet readable) is recorded and
    // retried with the next release, up to twice the runs asked for.
    for (let i = 0; samples.length < options.runs && i < options.runs * 2; i++) {
      try {
        // The previous run's last step (kubectl rollout undo) started new pods a moment ago: the
        // next deploy's baseline waits for Prometheus to scrape them (precheck, activities/baseline.ts).
        samples.push(await oneRun(i));
      } catch (err) {
        failures.push(`run ${i + 1}: ${(err as Error).message}`);
        progress(`  run ${i + 1} FAILED: ${(err as Error).message.slice(0, 400)}`);
        await rolloutStatus().catch(() => undefined);
        await sleep(5_000);
      }
    }
    if (samples.length === 0) throw new Error(`every run failed:\n${failures.join('\n')}`);

    async function oneRun(i: number): Promise<KubectlRun> {
      const base = `v1.${i + 1}`;
      // 1. shipwatch deploys base.0 through every phase, with a 1 s watch window.
      const deployed = await loadSpecFile(writeSpec(stack, `${base}.0`, { duration: '1s', interval: '1s' }));
      const released = await watchNextChange(stack.kubeconfig, generation);
      const t0 = Date.now();
      const handle = await startDeployment(client, deployed, { requestedBy: 'bench' });
      let report: DeploymentReport;
      let releasedAt: number | undefined;
      try {
        report = await finalReport(handle);
      } finally {
        releasedAt = await released.changedAt(); // stops the watch however the deploy ended
      }
      if (releasedAt === undefined) throw new Error(`the watch did not see shipwatch's deploy of ${base}.0 change the Deployment`);
      if (report.outcome !== 'SUCCEEDED') throw new Error(`shipwatch deploy of ${base}.0 ended ${report.outcome}: ${report.issues.join('; ')}`);
      const watchAt = at(report.timeline, (e) => e.title.startsWith('Watch window started'), 'Watch window started');
      const rolloutMs =
        at(report.timeline, (e) => e.title.startsWith('All pods running'), 'All pods running') -
        at(report.timeline, (e) => e.phase === 'ROLLOUT' && e.title.startsWith('Rollout step 1/'), 'Rollout step 1/1');
      const rolloutFromChangeMs = at(report.timeline, (e) => e.title.startsWith('All pods running'), 'All pods running') - releasedAt;
      progress(`  run ${i + 1}: shipwatch deploy ${base}.0 → watch window in ${watchAt - t0} ms (rollout ${rolloutMs} ms from its step, ${rolloutFromChangeMs} ms from the change)`);

      // 2. The same change with kubectl: the release's manifest (image and VERSION env, as the
      // shipwatch spec applies it; a bare `set image` leaves VERSION behind, and the smoke suite
      // after a later rollback then sees the wrong version), then rollout status.
      const applied = await watchNextChange(stack.kubeconfig, generation);
      const k0 = Date.now();
      await applyRelease(`${base}.1`);
      await rolloutStatus();
      const kubectlDone = Date.now();
      const kubectlDeployMs = kubectlDone - k0;
      const appliedAt = await applied.changedAt();
      if (appliedAt === undefined) throw new Error(`the watch did not see kubectl's apply of ${base}.1 change the Deployment`);
      progress(`  run ${i + 1}: kubectl apply ${base}.1 + rollout status: ${kubectlDeployMs} ms (${kubectlDone - appliedAt} ms from the change)`);

      // 3. shipwatch deploys base.2 and is rolled back from its watch window.
      const toRollBack = await loadSpecFile(writeSpec(stack, `${base}.2`, { duration: '10m', interval: '5s' }));
      const h2 = await startDeployment(client, toRollBack, { requestedBy: 'bench' });
      for (;;) {
        const s = await h2.query(statusQuery);
        if (s.phase === 'WATCH' && (s.watch?.checks ?? 0) >= 1) break;
        if (s.outcome !== 'IN_PROGRESS') {
          const ended = await finalReport(h2).catch((err: Error) => ({ issues: [err.message] }));
          throw new Error(`shipwatch deploy of ${base}.2 ended ${s.outcome} before its watch window: ${ended.issues.join('; ')}`);
        }
        await sleep(200);
      }
      await sleep(1_000);
      const watcher = await watchNextChange(stack.kubeconfig, generation);
      const r0 = Date.now();
      await h2.executeUpdate(rollbackUpdate, { args: [{ reason: 'bench: rollback vs kubectl rollout undo', requestedBy: 'bench' }] });
      const rolledBack = await finalReport(h2);
      const shipwatchRollbackMs = Date.now() - r0;
      const changedAt = await watcher.changedAt();
      if (rolledBack.outcome !== 'ROLLED_BACK') throw new Error(`the rollback of ${base}.2 ended ${rolledBack.outcome}: ${rolledBack.issues.join('; ')}`);
      const shipwatchUndoMs =
        at(rolledBack.timeline, (e) => e.title.startsWith('Rollout undone'), 'Rollout undone') -
        at(rolledBack.timeline, (e) => e.title === 'Rollback started', 'Rollback started');
      progress(`  run ${i + 1}: shipwatch rollback of ${base}.2: ${shipwatchRollbackMs} ms in all, rollout undo ${shipwatchUndoMs} ms`);

      // 4. kubectl: a change, then its undo, timed.
      await applyRelease(`${base}.3`);
      await rolloutStatus();
      const u0 = Date.now();
      await kubectl('rollout', 'undo', `deployment/${DEPLOYMENT}`);
      await rolloutStatus();
      const kubectlUndoMs = Date.now() - u0;
      progress(`  run ${i + 1}: kubectl rollout undo + rollout status: ${kubectlUndoMs} ms`);

      return {
        release: base,
        kubectlDeployMs,
        shipwatchDeployMs: watchAt - t0,
        shipwatchRolloutMs: rolloutMs,
        shipwatchRolloutFromChangeMs: rolloutFromChangeMs,
        kubectlFromChangeMs: kubectlDone - appliedAt,
        phases: phaseDurations(report.timeline),
        kubectlUndoMs,
        shipwatchUndoMs,
        shipwatchRollbackMs,
        rollbackRecordMs: rolledBack.rollback.durationMs ?? Number.NaN,
        ...(changedAt !== undefined ? { reactionToApiMs: changedAt - r0 } : {}),
      };
    }

    const k = median(samples.map((s) => s.kubectlDeployMs));
    const u = median(samples.map((s) => s.kubectlUndoMs));
    const result: KubectlResult = {
      runs: samples.length,
      failures,
      samples,
      kubectlDeployMs: k,
      shipwatchDeployMs: median(samples.map((s) => s.shipwatchDeployMs)),
      shipwatchRolloutMs: median(samples.map((s) => s.shipwatchRolloutMs)),
      deployRatio: round(median(samples.map((s) => s.shipwatchDeployMs)) / k, 2),
      shipwatchRolloutFromChangeMs: median(samples.map((s) => s.shipwatchRolloutFromChangeMs)),
      kubectlFromChangeMs: median(samples.map((s) => s.kubectlFromChangeMs)),
      rolloutRatio: round(median(samples.map((s) => s.shipwatchRolloutFromChangeMs)) / k, 2),
      rolloutStepRatio: round(median(samples.map((s) => s.shipwatchRolloutMs)) / k, 2),
      rolloutFromChangeRatio: round(median(samples.map((s) => s.shipwatchRolloutFromChangeMs)) / median(samples.map((s) => s.kubectlFromChangeMs)), 2),
      kubectlUndoMs: u,
      shipwatchUndoMs: median(samples.map((s) => s.shipwatchUndoMs)),
      shipwatchRollbackMs: median(samples.map((s) => s.shipwatchRollbackMs)),
      undoRatio: round(median(samples.map((s) => s.shipwatchUndoMs)) / u, 2),
      rollbackRatio: round(median(samples.map((s) => s.shipwatchRollbackMs)) / u, 2),
    };
    const reactions = samples.flatMap((s) => (s.reactionToApiMs !== undefined ? [s.reactionToApiMs] : []));
    if (reactions.length) result.reactionToApiMs = distribution(reactions);
    return result;
  } finally {
    await connection?.close();
    await stack.stop();
    if (!options.keepState) rmSync(stateDir, { recursive: true, force: true });
  }
}
