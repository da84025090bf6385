/**
 * The Kubernetes adapter behind the workflow's KubernetesPort, built from an injected KubeConfig:
 * read the rollback target (./kubernetes/snapshot.ts), the stepped rollout (./kubernetes/stepped.ts)
 * and rollback (./kubernetes/undo.ts) watched by one RolloutWatch (./kubernetes/watch.ts), pod checks and
 * logs (./kubernetes/pods.ts), the migration Job (./kubernetes/migrations.ts), and exec in a pod
 * for pg_dump. Errors are the named ones of ./errors.ts (see docs/kubernetes.md, "Errors").
 */
import { KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import type { PodExec } from './database';
import type { DeploymentRef, RollbackTarget } from '../model';
import type { KubernetesPort } from './types';
import { makeClients, revisionOf } from './kubernetes/api';
import type { KubeClients } from './kubernetes/api';
import { runMigrationJob } from './kubernetes/migrations';
import { createPodExec, scanLogs, verifyPods } from './kubernetes/pods';
import { ownedReplicaSets, readDeployment, STEPPED_ANNOTATION } from './kubernetes/snapshot';
import { rolloutStep } from './kubernetes/stepped';
import { rollback } from './kubernetes/undo';
import type { RolloutOptions } from './kubernetes/watch';

export { KubernetesApiError, parseForbidden } from './kubernetes/api';
export { parseAppliedMigrations } from './kubernetes/migrations';
export { STEPPED_ANNOTATION } from './kubernetes/snapshot';

export interface KubernetesAdapterOptions {
  /** How often watches poll the API (default 500 ms). */
  pollMs?: number;
  /** CrashLoopBackOff restarts of a new pod that fail the rollout (default 5). */
  maxCrashRestarts?: number;
  /** Failed new pods that fail the rollout (default 3). */
  maxFailedPods?: number;
}

export type KubernetesAdapter = KubernetesPort & { exec: PodExec };

export function createKubernetesAdapter(kc: KubeConfig, options: KubernetesAdapterOptions = {}): KubernetesAdapter {
  const c = makeClients(kc);
  const rolloutOptions: RolloutOptions = {
    pollMs: options.pollMs ?? 500,
    maxCrashRestarts: options.maxCrashRestarts ?? 5,
    maxFailedPods: options.maxFailedPods ?? 3,
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
  return {
    readTarget: (target) => readTarget(c, target),
    rolloutStep: (input, ctx) => rolloutStep(c, rolloutOptions, input, ctx),
    rollback: (input, ctx) => rollback(c, rolloutOptions, input, ctx),
    verifyPods: (input) => verifyPods(c, input),
    scanLogs: (input) => scanLogs(c, input),
    runMigrationJob: (input, ctx) => runMigrationJob(c, input, ctx, rolloutOptions.pollMs),
    exec: createPodExec(c),
  };
}

/** The target as it is now: recorded as the rollback target before anything changes. */
export async function readTarget(c: KubeClients, target: DeploymentRef): Promise<RollbackTarget> {
  const d = await readDeployment(c, target);
  const rss = await ownedReplicaSets(c, d);
  const containers = d.spec?.template?.spec?.containers ?? [];
  const images = Object.fromEntries(containers.map((x) => [x.name, x.image ?? '']));
  const st = d.status ?? {};
  const replicas = d.spec?.replicas ?? 1;
  const problems = deploymentProblems(d, target);
  return {
    ...target,
    image: images[target.container] ?? '',
    images,
    revision: revisionOf(d),
    revisions: [...new Set(rss.map(revisionOf).filter((r) => r > 0))].sort((a, b) => a - b),
    replicas,
    readyReplicas: st.readyReplicas ?? 0,
    availableReplicas: st.availableReplicas ?? 0,
    updatedReplicas: st.updatedReplicas ?? 0,
    healthy: problems.length === 0,
    problems,
  };
}

/**
 * Why a Deployment is not healthy, one sentence each. A Deployment held by a stepped rollout is
 * healthy when every replica is ready and available, though not all are updated yet.
 */
export function deploymentProblems(d: V1Deployment, target: DeploymentRef): string[] {
  const problems: string[] = [];
  const name = `deployment/${target.deployment}`;
  if (!d.spec?.template?.spec?.containers?.some((x) => x.name === target.container)) {
    problems.push(`${name} has no container named "${target.container}"`);
  }
  const st = d.status ?? {};
  const replicas = d.spec?.replicas ?? 1;
  const held = d.spec?.paused === true && !!d.metadata?.annotations?.[STEPPED_ANNOTATION];
  if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
    problems.push(`the controller has not yet observed generation ${d.metadata?.generation} of ${name}`);
  }
  if ((st.readyReplicas ?? 0) < replicas) problems.push(`${st.readyReplicas ?? 0}/${replicas} pods ready`);
  if ((st.availableReplicas ?? 0) < replicas) problems.push(`${st.availableReplicas ?? 0}/${replicas} pods available`);
  if (!held && (st.updatedReplicas ?? 0) < replicas) problems.push(`${st.updatedReplicas ?? 0}/${replicas} pods updated (a rollout is in progress)`);
  if (!held && (st.replicas ?? 0) > replicas) problems.push(`${st.replicas} pods for ${replicas} replicas (old pods still terminating)`);
  if (d.spec?.paused && !held) problems.push(`${name} is paused`);
  for (const cond of st.conditions ?? []) {
    if (cond.type === 'Progressing' && cond.reason === 'ProgressDeadlineExceeded') problems.push(`progress deadline exceeded: ${cond.message ?? ''}`.trim());
    if (cond.type === 'Available' && cond.status === 'False') problems.push(`not available: ${cond.message ?? cond.reason ?? ''}`.trim());
    if (cond.type === 'ReplicaFailure' && cond.status === 'True') problems.push(`replica failure: ${cond.message ?? cond.reason ?? ''}`.trim());
  }
  return problems;
}
