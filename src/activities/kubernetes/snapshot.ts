/**
 * One look at a Deployment as the rollout watch sees it: the Deployment, its ReplicaSets (the new
 * one is the one whose template is the Deployment's), their live pods and how many are Ready, and
 * what a stepped rollout saved in its annotation.
 */
import type { V1Deployment, V1DeploymentStrategy, V1Pod, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { NotFoundError } from '../errors';
import type { DeploymentRef } from '../../model';
import type { KubeClients } from './api';
import { kube, labelSelector, mapApiError, ownedBy, revisionOf } from './api';
import { MIRRORED } from './bell';
import type { ChangeBell } from './bell';

/** Deployment annotation holding what the stepped rollout changed, so the last step can restore it. */
export const STEPPED_ANNOTATION = 'shipwatch.dev/stepped-rollout';

/** What the stepped rollout saved before changing the Deployment's strategy. */
export interface SteppedState {
  release: string;
  image: string;
  strategy: V1DeploymentStrategy | null;
  minReadySeconds: number;
}

export interface Snapshot {
  deployment: V1Deployment;
  replicas: number;
  newRS?: V1ReplicaSet;
  oldRSs: V1ReplicaSet[];
  newPods: V1Pod[];
  oldPods: V1Pod[];
  newReady: number;
  oldReady: number;
  /** The controller has seen the latest spec (status.observedGeneration >= metadata.generation). */
  observed: boolean;
}

export async function readDeployment(c: KubeClients, t: DeploymentRef): Promise<V1Deployment> {
  try {
    return await c.apps.readNamespacedDeployment({ name: t.deployment, namespace: t.namespace });
  } catch (err) {
    const mapped = mapApiError(`read deployment/${t.deployment} in namespace ${t.namespace}`, err);
    if (mapped.name === 'NotFoundError') throw await notFound(c, t, err);
    throw mapped;
  }
}

/** Says whether the namespace or the Deployment is missing (when the credentials may read namespaces). */
async function notFound(c: KubeClients, t: DeploymentRef, cause: unknown): Promise<Error> {
  try {
    await c.core.readNamespace({ name: t.namespace });
  } catch (err) {
    const mapped = mapApiError('read namespace', err);
    if (mapped.name === 'NotFoundError') {
      return new NotFoundError(`namespace ${t.namespace} does not exist (looking for deployment/${t.deployment})`, { cause, details: { namespace: t.namespace } });
    }
  }
  return new NotFoundError(`deployment/${t.deployment} not found in namespace ${t.namespace}`, {
    cause,
    details: { namespace: t.namespace, deployment: t.deployment },
  });
}

export async function ownedReplicaSets(c: KubeClients, d: V1Deployment): Promise<V1ReplicaSet[]> {
  const namespace = d.metadata!.namespace!;
  const list = await kube(`list replicasets in namespace ${namespace}`, () =>
    c.apps.listNamespacedReplicaSet({ namespace, labelSelector: labelSelector(d.spec!.selector) }),
  );
  return ownedOf(list.items, d);
}

/** The ReplicaSets of `d` among `rss`, oldest revision first. */
function ownedOf(rss: V1ReplicaSet[], d: V1Deployment): V1ReplicaSet[] {
  return rss.filter((rs) => ownedBy(rs, d.metadata?.uid)).sort((a, b) => revisionOf(a) - revisionOf(b));
}

export async function selectorPods(c: KubeClients, d: V1Deployment): Promise<V1Pod[]> {
  const namespace = d.metadata!.namespace!;
  const list = await kube(`list pods in namespace ${namespace}`, () =>
    c.core.listNamespacedPod({ namespace, labelSelector: labelSelector(d.spec!.selector) }),
  );
  return list.items;
}

/** Template equality as the controller sees it: ignoring the pod-template-hash label. */
export function sameTemplate(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined): boolean {
  return templateKey(a) === templateKey(b);
}

/**
 * A template's canonical form (keys sorted, empty values and the pod-template-hash label left out),
 * kept per object: a look compares the Deployment's template with every ReplicaSet's, and the
 * mirrors (./bell.ts) hand out the same objects until a watch event replaces them. Templates read
 * from the API are never changed in place (a changed copy is a new object).
 */
const templateKeys = new WeakMap<object, string>();

function templateKey(t: V1PodTemplateSpec | undefined): string {
  if (!t) return '{}';
  let key = templateKeys.get(t);
  if (key === undefined) {
    const labels: Record<string, string> = { ...t.metadata?.labels };
    delete labels['pod-template-hash'];
    // Labels holding only the hash count as none; metadata itself stays (as it is on the Deployment).
    const metadata = t.metadata && { ...t.metadata, labels: Object.keys(labels).length ? labels : undefined };
    key = canonical({ ...t, metadata });
    templateKeys.set(t, key);
  }
  return key;
}

/** Sorted-key JSON without null and undefined values; dates as the API writes them. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function isReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function terminating(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
}

function podOf(pod: V1Pod, rs: V1ReplicaSet | undefined): boolean {
  return !!rs && (pod.metadata?.ownerReferences ?? []).some((o) => o.uid === rs.metadata?.uid);
}

function byCreation(a: V1Pod, b: V1Pod): number {
  const ta = new Date(a.metadata?.creationTimestamp ?? 0).getTime();
  const tb = new Date(b.metadata?.creationTimestamp ?? 0).getTime();
  return ta - tb || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/**
 * One look at the Deployment: its new ReplicaSet (the one whose template is the Deployment's), the
 * old ones, and their live (not terminating) pods. In a rollback the "new" ReplicaSet is the one it returns to.
 */
export async function snapshot(c: KubeClients, t: DeploymentRef): Promise<Snapshot> {
  const deployment = await readDeployment(c, t);
  const [rss, pods] = await Promise.all([ownedReplicaSets(c, deployment), selectorPods(c, deployment)]);
  return snapshotOf(deployment, rss, pods);
}

/**
 * The same look from a rollout bell's mirrors (./bell.ts), without calling the API server; undefined
 * when they cannot serve it (not listed yet, a watch ended, behind a write of ours, the Deployment
 * not among them): then the caller reads the API.
 */
export function mirroredSnapshot(bell: ChangeBell, t: DeploymentRef): Snapshot | undefined {
  const deployment = bell.objects<V1Deployment>(MIRRORED.deployment)?.find((d) => d.metadata?.name === t.deployment && d.metadata?.namespace === t.namespace);
  const rss = bell.objects<V1ReplicaSet>(MIRRORED.replicaSets);
  const pods = bell.objects<V1Pod>(MIRRORED.pods);
  if (!deployment || !rss || !pods) return undefined;
  return snapshotOf(deployment, ownedOf(rss, deployment), pods);
}

function snapshotOf(deployment: V1Deployment, rss: V1ReplicaSet[], pods: V1Pod[]): Snapshot {
  const newRS = rss.find((rs) => sameTemplate(rs.spec?.template, deployment.spec?.template));
  const oldRSs = rss.filter((rs) => rs !== newRS);
  const live = pods.filter((p) => !terminating(p));
  const newPods = live.filter((p) => podOf(p, newRS)).sort(byCreation);
  const oldPods = live.filter((p) => oldRSs.some((rs) => podOf(p, rs))).sort(byCreation);
  return {
    deployment,
    replicas: deployment.spec?.replicas ?? 1,
    ...(newRS ? { newRS } : {}),
    oldRSs,
    newPods,
    oldPods,
    newReady: newPods.filter(isReady).length,
    oldReady: oldPods.filter(isReady).length,
    observed: (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0),
  };
}

export function templateImage(d: V1Deployment, container: string): string | undefined {
  return d.spec?.template?.spec?.containers?.find((c) => c.name === container)?.image;
}

export function steppedState(d: V1Deployment): SteppedState | undefined {
  const raw = d.metadata?.annotations?.[STEPPED_ANNOTATION];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as SteppedState;
  } catch {
    return undefined;
  }
}
