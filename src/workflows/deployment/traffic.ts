/**
 * How traffic moved during a rollout or a rollback, as the timeline and the report record it: each
 * change of the split once. Pure: plain data in, plain data out.
 */
import type { TrafficSample } from '../../model';

/** Pods on each version and the new version's share of traffic, 0-100. */
export type TrafficSplit = Omit<TrafficSample, 'at'>;

/**
 * The samples that change the split, in order: a sample with the same share and new pods as the
 * one before it (or as `last`, the last one recorded) adds nothing.
 */
export function trafficToRecord(last: TrafficSample | undefined, samples: TrafficSample[]): TrafficSample[] {
  const changes: TrafficSample[] = [];
  let previous = last;
  for (const s of samples) {
    if (previous && previous.newPercent === s.newPercent && previous.newPods === s.newPods) continue;
    changes.push(s);
    previous = s;
  }
  return changes;
}

/** The split when `newReady` of `replicas` pods run the new version (pods share traffic evenly behind a Service). */
export function splitOf(newReady: number, oldReady: number, replicas: number): TrafficSplit {
  return { newPods: newReady, oldPods: oldReady, newPercent: replicas ? Math.round((newReady / replicas) * 100) : 100 };
}
