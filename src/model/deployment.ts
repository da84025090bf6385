/** The Kubernetes Deployment a release goes to: how it is named, and how it was found before the rollout. */

/** Which Deployment, and which of its containers runs the release. */
export interface DeploymentRef {
  namespace: string;
  deployment: string;
  container: string;
}

/** The Deployment as found before anything changes: what a rollback returns to. */
export interface RollbackTarget extends DeploymentRef {
  image: string;
  /** Every container's image, by container name. */
  images: Record<string, string>;
  /** The Deployment's current revision (deployment.kubernetes.io/revision). */
  revision: number;
  /** Revisions present in ReplicaSet history, ascending. */
  revisions: number[];
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  updatedReplicas: number;
  healthy: boolean;
  /** Why it is not healthy, one sentence each. */
  problems: string[];
}

/** How traffic was split at one moment of a rollout or rollback. */
export interface TrafficSample {
  at: string;
  newPods: number;
  oldPods: number;
  /** Share of ready pods on the new version, 0-100 (pods share traffic evenly behind a Service). */
  newPercent: number;
}
