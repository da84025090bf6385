/**
 * What a rollout watch reports: the pod-by-pod timeline events (deployed, then Ready) and the
 * traffic split at each settled point, deduplicated across the polls of one watch.
 */
import type { ActivityEvent, TrafficSample } from '../../model';
import { isoOf, nowIso } from './api';
import type { Snapshot } from './snapshot';

export interface RecorderOptions {
  /** The release the Deployment's template runs, named in the pod events. */
  release: string;
  /** Report only pods created at or after this time (a rollback reports the pods it starts). */
  since?: number;
  /**
   * Which pods the traffic samples count as new: `forward`, the Deployment's template (the release
   * being rolled out); `undo`, the ReplicaSets being left, so a rollback's split falls to 0% new.
   */
  direction: 'forward' | 'undo';
}

/** Collects the pod-by-pod events and traffic samples of one watch, deduplicated by key. */
export class RolloutRecorder {
  private readonly events = new Map<string, ActivityEvent>();
  /** Each pod's number, in the order the watch first saw it (a snapshot's list order changes between polls). */
  private readonly numbers = new Map<string, number>();
  readonly traffic: TrafficSample[] = [];

  constructor(private readonly options: RecorderOptions) {}

  observe(s: Snapshot): void {
    const { release, since } = this.options;
    s.newPods.forEach((pod, i) => {
      const created = new Date(pod.metadata?.creationTimestamp ?? Date.now()).getTime();
      if (since !== undefined && created < since) return;
      const name = pod.metadata?.name ?? `pod-${i + 1}`;
      if (!this.numbers.has(name)) this.numbers.set(name, this.numbers.size + 1);
      const n = this.numbers.get(name)!;
      const deployedKey = `pod-deployed:${name}`;
      if (!this.events.has(deployedKey)) {
        this.events.set(deployedKey, {
          at: isoOf(pod.metadata?.creationTimestamp),
          status: 'ok',
          title: `Pod ${n} deployed (${release})`,
          detail: `${name}${pod.spec?.nodeName ? ` on ${pod.spec.nodeName}` : ''}`,
          key: deployedKey,
        });
      }
      const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready' && c.status === 'True');
      const readyKey = `pod-ready:${name}`;
      if (ready && !this.events.has(readyKey)) {
        this.events.set(readyKey, {
          at: isoOf(ready.lastTransitionTime),
          status: 'ok',
          title: `Health check passed \u2013 Pod ${n}`,
          detail: `${name} is Ready`,
          key: readyKey,
        });
      }
    });
    // Traffic is sampled at settled points (as many ready pods as replicas), so a surge pod in
    // flight does not show as 25%: 3 replicas give 33% → 67% → 100%.
    const total = s.newReady + s.oldReady;
    if (total === s.replicas && total > 0) {
      const forward = this.options.direction === 'forward';
      const newPods = forward ? s.newReady : s.oldReady;
      const oldPods = forward ? s.oldReady : s.newReady;
      const newPercent = Math.round((newPods / total) * 100);
      const last = this.traffic[this.traffic.length - 1];
      // A forward watch that looks before the first new pod sees the split the rollout started
      // from (0% new), which the workflow records itself.
      const unmoved = forward && newPods === 0;
      if (!unmoved && (!last || last.newPods !== newPods || last.oldPods !== oldPods)) {
        this.traffic.push({ at: nowIso(), newPods, oldPods, newPercent });
      }
    }
  }

  list(): ActivityEvent[] {
    return [...this.events.values()].sort((a, b) => a.at.localeCompare(b.at));
  }
}
