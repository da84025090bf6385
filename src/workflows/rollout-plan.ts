/**
 * The stepped rollout of the seed's "Hour 2": new pods are added `stepPods` at a time, each step
 * holding at a share of the replicas (33% → 67% → 100% for 3 replicas, one pod per step).
 * A step size of zero, or one covering all replicas, is a single plain rolling update.
 */

export interface RolloutStepPlan {
  /** 1-based. */
  index: number;
  /** Pods on the new version once the step holds. */
  targetNewPods: number;
  /** Share of the replicas on the new version once the step holds, 0-100. */
  percent: number;
  final: boolean;
}

export function planRollout(replicas: number, stepPods: number): RolloutStepPlan[] {
  if (replicas <= 0 || stepPods <= 0 || stepPods >= replicas) {
    return [{ index: 1, targetNewPods: Math.max(replicas, 0), percent: 100, final: true }];
  }
  const steps: RolloutStepPlan[] = [];
  for (let pods = stepPods, index = 1; ; pods += stepPods, index++) {
    const target = Math.min(pods, replicas);
    const final = target >= replicas;
    steps.push({ index, targetNewPods: target, percent: Math.round((target / replicas) * 100), final });
    if (final) return steps;
  }
}

/** "Old (67%) + New (33%)", the seed's traffic-routing wording. */
export function trafficSplitText(newPercent: number): string {
  if (newPercent >= 100) return 'New (100%)';
  if (newPercent <= 0) return 'Old (100%)';
  return `Old (${100 - newPercent}%) + New (${newPercent}%)`;
}
