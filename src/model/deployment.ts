/**
 * A deployment: which release of which service it ships, and the Kubernetes Deployment it goes to
 * (how it is named, and how it was found before the rollout).
 */

/** What names a deployment in the status answer and the report. */
export interface DeploymentIdentity {
  /** The workflow ID, deploy-<namespace>-<service>. */
  deploymentId: string;
  service: string;
  namespace: string;
  release: string;
  image: string;
  /** The release the Deployment ran before this one. */
  previousRelease?: string;
}

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
