/** A running deployment as the status query answers it: phase, rollout progress, traffic split, alerts, watch window. */
import type { DeploymentIdentity } from './deployment';
import type { DeploymentOutcome, Phase, TimelineEvent } from './timeline';

/** One alert rule of the watch window, as its `for` duration and escalation have left it. */
export interface AlertState {
  rule: string;
  severity: 'critical' | 'warning' | 'info';
  state: 'inactive' | 'pending' | 'firing';
  /** When the condition was first seen breaching (pending since). */
  activeSince?: string;
  /** When it went from pending to firing. */
  firingSince?: string;
  value: number | null;
  /** Escalations already applied to this firing: paged, rolled back. */
  paged?: boolean;
  /** The rollback escalation was applied (auto-rollback started, or a person was asked to decide). */
  escalated?: boolean;
}

export interface RolloutProgressStatus {
  step: number;
  steps: number;
  newReady: number;
  replicas: number;
}

export interface WatchStatus {
  startedAt: string;
  endsAt: string;
  timeLeftMs: number;
  checks: number;
  /** "watched 96% of 24h; blind 58 min: Prometheus unreachable" (absent for runs from before it was counted). */
  watched?: string;
}

export interface DeploymentStatus extends DeploymentIdentity {
  phase: Phase;
  outcome: DeploymentOutcome;
  paused: boolean;
  startedAt: string;
  /** Rollout progress: pods on the new version, ready, out of replicas. */
  rollout: RolloutProgressStatus;
  /** Share of traffic on the new version, 0-100. */
  trafficNewPercent: number;
  alerts: AlertState[];
  watch?: WatchStatus;
  lastEvent?: TimelineEvent;
}

/** Whether a rule's value breaches its threshold (`value op threshold`): the one definition the watch and the monitoring checks use. */
export function breaches(value: number, op: '>' | '<' | '>=' | '<=', threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '<':
      return value < threshold;
    case '>=':
      return value >= threshold;
    case '<=':
      return value <= threshold;
  }
}
