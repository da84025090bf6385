/**
 * The rollout watch (`kubectl rollout status` semantics): one object per rollout step or rollback
 * holding the clients, options, input, activity context and recorder, so each wait names only what
 * differs — a phase and a condition, a number of new pods, or nothing. Every poll observes the
 * pods, fails on crash-looping or failed new pods, enforces the progress deadline and heartbeats.
 */
import type { KubernetesObjectApi, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { sleep, throwIfAborted } from '../abort';
import { ProgressDeadlineExceededError, RolloutFailedError } from '../errors';
import type { ProgressHeartbeat, WatchIdentity, WatchPhase } from '../heartbeat';
import type { DeploymentRef } from '../../model';
import type { ProgressContext } from '../types';
import type { KubeClients } from './api';
import { FIELD_MANAGER, withConflictRetries } from './api';
import { MIRRORED } from './bell';
import type { ChangeBell } from './bell';
import type { RolloutRecorder } from './recorder';
import { isReady, mirroredSnapshot, snapshot } from './snapshot';
import type { Snapshot } from './snapshot';

export interface RolloutOptions {
  /** How often the watch reads the Deployment, its ReplicaSets and pods (default 500 ms). */
  pollMs: number;
  /** A new pod in CrashLoopBackOff with at least this many restarts fails the rollout (default 5). */
  maxCrashRestarts: number;
  /** This many Failed new pods fail the rollout (default 3). */
  maxFailedPods: number;
  objects: KubernetesObjectApi;
}

/** The Deployment a watch follows and how long it may go without progress. */
export type WatchInput = DeploymentRef & { progressDeadlineMs: number };

export interface RolloutWatchParts {
  clients: KubeClients;
  options: RolloutOptions;
  input: WatchInput;
  ctx: ProgressContext;
  recorder: RolloutRecorder;
  /** Which watch this is (rollout step or rollback), repeated in every heartbeat. */
  identity: WatchIdentity;
  /** What is being watched, opening every failure message ("rollout of v1.0.0 to deployment/x"). */
  what: string;
  /** Wakes the loop when the API server reports a change (./bell.ts); without one, the loop only polls. */
  bell?: ChangeBell;
}

/** Waiting reasons of a new pod that fail the step at once: an image that cannot be pulled, a crash loop. */
export const FAST_FAIL_REASONS: ReadonlySet<string> = new Set(['ErrImagePull', 'ImagePullBackOff', 'CrashLoopBackOff', 'InvalidImageName', 'CreateContainerConfigError']);

/** Fails the rollout when its new pods are crash-looping or failing beyond the bounds. */
function checkNewPods(s: Snapshot, options: RolloutOptions, what: string): void {
  for (const pod of s.newPods) {
    for (const cs of pod.status?.containerStatuses ?? []) {
      const reason = cs.state?.waiting?.reason;
      // Fast fail: a pod that cannot pull its image, or crashes and is held back, will not get
      // better by waiting out the progress deadline; the step fails on the next poll, with why.
      if (reason && FAST_FAIL_REASONS.has(reason)) {
        throw new RolloutFailedError(
          `${what}: pod ${pod.metadata?.name} cannot start: ${reason} (container ${cs.name}${cs.restartCount ? `, restarted ${cs.restartCount} times` : ''}${cs.state?.waiting?.message ? `: ${cs.state.waiting.message}` : ''})`,
          { details: { pod: pod.metadata?.name, reason, restarts: cs.restartCount ?? 0 } },
        );
      }
      if (reason === 'CrashLoopBackOff' && (cs.restartCount ?? 0) >= options.maxCrashRestarts) {
        throw new RolloutFailedError(
          `${what}: pod ${pod.metadata?.name} is in CrashLoopBackOff (container ${cs.name} restarted ${cs.restartCount} times${cs.state?.waiting?.message ? `: ${cs.state.waiting.message}` : ''})`,
          { details: { pod: pod.metadata?.name, reason, restarts: cs.restartCount } },
        );
      }
      if (reason === 'InvalidImageName' || reason === 'CreateContainerConfigError') {
        throw new RolloutFailedError(`${what}: pod ${pod.metadata?.name} cannot start: ${reason}${cs.state?.waiting?.message ? `: ${cs.state.waiting.message}` : ''}`);
      }
    }
  }
  const failed = s.newPods.filter((p) => p.status?.phase === 'Failed');
  if (failed.length >= options.maxFailedPods) {
    throw new RolloutFailedError(`${what}: ${failed.length} new pods failed (${failed.map((p) => p.metadata?.name).join(', ')})`);
  }
}

/** Why new pods are not ready, for deadline messages. */
function podProblems(s: Snapshot): string {
  const notes: string[] = [];
  for (const pod of s.newPods.filter((p) => !isReady(p))) {
    const cs = pod.status?.containerStatuses?.[0];
    const why = cs?.state?.waiting?.reason ?? cs?.state?.terminated?.reason ?? pod.status?.phase ?? 'Pending';
    notes.push(`${pod.metadata?.name}: ${why}${cs?.restartCount ? ` (${cs.restartCount} restarts)` : ''}`);
  }
  return notes.length ? `; new pods not ready: ${notes.join(', ')}` : '';
}

function progressingCondition(d: V1Deployment) {
  return d.status?.conditions?.find((c) => c.type === 'Progressing');
}

/** How long a watch loop has seen no change: feed it a fingerprint of the state on every poll. */
function stallClock(): (fingerprint: string) => number {
  let last: string | undefined;
  let since = Date.now();
  return (fingerprint) => {
    if (fingerprint !== last) {
      last = fingerprint;
      since = Date.now();
    }
    return Date.now() - since;
  };
}

async function scaleReplicaSet(c: KubeClients, rs: V1ReplicaSet, replicas: number, bell: ChangeBell | undefined): Promise<void> {
  const name = rs.metadata!.name!;
  const namespace = rs.metadata!.namespace!;
  // Optimistic: only if nobody changed the ReplicaSet since we looked (409 → look again).
  const written = await withConflictRetries(`scale replicaset/${name} to ${replicas} in namespace ${namespace}`, async () => {
    const current = await c.apps.readNamespacedReplicaSet({ name, namespace });
    current.spec!.replicas = replicas;
    return c.apps.replaceNamespacedReplicaSet({ name, namespace, body: current, fieldManager: FIELD_MANAGER });
  });
  // The next look must see this scale: the mirror is not read until its watch reports it.
  bell?.wrote(MIRRORED.replicaSets, written);
}

/** The first look after a change comes this soon; each look that sees no change doubles the wait, up to pollMs. */
export const FAST_POLL_MS = 100;

/** What a poll compares with the previous one: the Deployment's progress and every pod's phase and readiness. */
function fingerprint(s: Snapshot): string {
  const st = s.deployment.status;
  const pods = (list: Snapshot['newPods']) => list.map((p) => `${p.metadata?.name}:${p.status?.phase}:${isReady(p)}`).join(',');
  return [s.deployment.metadata?.generation, st?.observedGeneration, st?.updatedReplicas, st?.readyReplicas, st?.availableReplicas, s.newRS?.status?.replicas, pods(s.newPods), pods(s.oldPods)].join('|');
}

export class RolloutWatch {
  readonly recorder: RolloutRecorder;

  constructor(private readonly parts: RolloutWatchParts) {
    this.recorder = parts.recorder;
  }

  /** Heartbeats where the watch is and, after a look, how many pods are Ready on each side. */
  beat(phase: WatchPhase, s?: Snapshot): void {
    const details: ProgressHeartbeat = { ...this.parts.identity, phase, newReady: s?.newReady ?? 0, oldReady: s?.oldReady ?? 0 };
    this.parts.ctx.heartbeat(details);
  }

  private seen = '';
  private delayMs = 0;

  /**
   * One look: stop if cancelled, look, record what the pods did. The look reads the bell's mirrors
   * when they are current (kept from the watches' events, no call to the API server), else the API.
   */
  private async look(): Promise<Snapshot> {
    const { bell, clients, input } = this.parts;
    throwIfAborted(this.parts.ctx.signal);
    bell?.heard();
    const s = (bell && mirroredSnapshot(bell, input)) ?? (await snapshot(clients, input));
    this.recorder.observe(s);
    // While the rollout moves, look again soon (what `kubectl rollout status` learns from its watch
    // at once); while it stands still, back off to pollMs. A 1 s rollout took 2 × kubectl's time
    // at a fixed 500 ms (docs/benchmarks.md). A live watch wakes the loop on every change, so then
    // the poll is only its fallback.
    const now = fingerprint(s);
    const fast = this.parts.bell?.live ? this.parts.options.pollMs : Math.min(FAST_POLL_MS, this.parts.options.pollMs);
    this.delayMs = now !== this.seen ? fast : Math.min(Math.max(this.delayMs * 2, fast), this.parts.options.pollMs);
    this.seen = now;
    return s;
  }

  private async pause(): Promise<void> {
    const { bell, ctx } = this.parts;
    await (bell ? bell.wait(this.delayMs, ctx.signal) : sleep(this.delayMs, ctx.signal));
  }

  /** Polls until `done(snapshot)`, failing on bad new pods or no progress within the deadline. */
  async waitFor(phase: WatchPhase, done: (s: Snapshot) => boolean): Promise<Snapshot> {
    const { options, input, what } = this.parts;
    const deadlineMs = input.progressDeadlineMs;
    const stalled = stallClock();
    for (;;) {
      const s = await this.look();
      if (done(s)) return s;
      checkNewPods(s, options, what);
      if (stalled(`${s.newRS?.spec?.replicas}/${s.newReady}/${s.oldReady}/${s.newPods.length}`) > deadlineMs) {
        throw new ProgressDeadlineExceededError(`${what}: no progress for ${Math.round(deadlineMs / 1000)}s while ${phase}${podProblems(s)}`);
      }
      this.beat(phase, s);
      await this.pause();
    }
  }

  /**
   * Moves a held (paused, Recreate) Deployment to `desired` new pods: one surge pod at a time on the
   * new ReplicaSet, an old pod removed only once a new one is Ready. Never more new pods than
   * `desired`, never fewer ready pods than replicas.
   */
  async stepTo(desired: number): Promise<Snapshot> {
    const { clients: c, options, input, what } = this.parts;
    const stalled = stallClock();
    for (;;) {
      const s = await this.look();
      if (!s.newRS) throw new RolloutFailedError(`${what}: the new ReplicaSet of deployment/${input.deployment} is gone`);
      checkNewPods(s, options, what);
      const replicas = s.replicas;
      const newSpec = s.newRS.spec?.replicas ?? 0;
      const oldSpec = s.oldRSs.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
      const oldTarget = Math.max(0, replicas - Math.max(newSpec, 0));
      // Held: the new pods Ready, the old ReplicaSets scaled down and their surplus pods gone (the
      // ReplicaSet controller deletes them a moment after the scale).
      if (s.newReady >= desired && newSpec >= desired && oldSpec <= oldTarget && s.oldReady >= oldSpec && s.oldPods.length <= oldSpec && s.newReady + s.oldReady >= replicas) {
        this.beat('held', s);
        return s;
      }
      if (s.newReady + s.oldReady > replicas && oldSpec > replicas - s.newReady) {
        // A new pod is Ready: remove one old pod per ready surplus pod, oldest ReplicaSet first.
        let remove = oldSpec - Math.max(0, replicas - s.newReady);
        for (const rs of s.oldRSs) {
          const n = rs.spec?.replicas ?? 0;
          if (remove <= 0 || n === 0) continue;
          const take = Math.min(n, remove);
          await scaleReplicaSet(c, rs, n - take, this.parts.bell);
          remove -= take;
        }
      } else if (newSpec < desired && s.newReady >= newSpec && newSpec + oldSpec <= replicas) {
        await scaleReplicaSet(c, s.newRS, newSpec + 1, this.parts.bell); // the next surge pod
      }
      // Paused Deployments have no progress deadline in the controller: this is the step's own.
      if (stalled(`${newSpec}/${s.newReady}/${oldSpec}/${s.oldReady}`) > input.progressDeadlineMs) {
        throw new ProgressDeadlineExceededError(
          `${what}: step to ${desired} new pod(s) made no progress for ${Math.round(input.progressDeadlineMs / 1000)}s (ProgressDeadlineExceeded)${podProblems(s)}`,
        );
      }
      this.beat('stepping', s);
      await this.pause();
    }
  }

  /** `kubectl rollout status`: observed generation, all replicas updated and available, no old ones left. */
  async untilComplete(): Promise<Snapshot> {
    const { options, input, what } = this.parts;
    const deadlineMs = input.progressDeadlineMs;
    const stalled = stallClock();
    for (;;) {
      const s = await this.look();
      const st = s.deployment.status ?? {};
      if (s.observed) {
        const cond = progressingCondition(s.deployment);
        if (cond?.reason === 'ProgressDeadlineExceeded') {
          throw new ProgressDeadlineExceededError(`${what}: deployment/${input.deployment} exceeded its progress deadline (${cond.message ?? 'ProgressDeadlineExceeded'})${podProblems(s)}`, {
            details: { reason: cond.reason },
          });
        }
        checkNewPods(s, options, what);
        const updated = st.updatedReplicas ?? 0;
        if (updated >= s.replicas && (st.replicas ?? 0) <= updated && (st.availableReplicas ?? 0) >= updated && s.oldPods.length === 0) {
          this.beat('complete', s);
          return s;
        }
      }
      // A backstop for a controller that never reports the deadline (e.g. progressDeadlineSeconds unset).
      if (stalled(`${st.updatedReplicas}/${st.readyReplicas}/${st.availableReplicas}/${st.replicas}/${s.newPods.length}`) > deadlineMs * 2 + 10_000) {
        throw new ProgressDeadlineExceededError(`${what}: no progress for ${Math.round((deadlineMs * 2) / 1000)}s${podProblems(s)}`);
      }
      this.beat('watching', s);
      await this.pause();
    }
  }
}
