/**
 * Rollout, stepped rollout and rollback of a Deployment, watched with `kubectl rollout status`
 * semantics. Steps hold exactly: the Deployment is paused with a Recreate strategy (so the paused
 * controller never rescales its ReplicaSets) and the new and old ReplicaSets are scaled one pod at a
 * time by this module; the last step restores the Deployment's own strategy and resumes it.
 * docs/kubernetes.md explains why this mechanism and not a bare pause or a canary Deployment.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubernetesObjectApi, V1Deployment, V1DeploymentStrategy, V1Pod, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { InvalidInputError, NotFoundError, ProgressDeadlineExceededError, RollbackImpossibleError, RolloutFailedError } from '../errors';
import type {
  ActivityEvent,
  ProgressContext,
  RollbackInput,
  RollbackResult,
  RolloutProgress,
  RolloutStepInput,
  TargetRef,
  TrafficSample,
} from '../types';
import type { KubeClients } from './api';
import { isoOf, kube, labelSelector, mapApiError, nowIso, ownedBy, releaseOfImage, revisionOf, sleep, throwIfAborted, withConflictRetries } from './api';

/** Deployment annotation holding what the stepped rollout changed, so the last step can restore it. */
export const STEPPED_ANNOTATION = 'shipwatch.dev/stepped-rollout';
const FIELD_MANAGER = 'shipwatch';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

export interface RolloutOptions {
  /** How often the watch reads the Deployment, its ReplicaSets and pods (default 500 ms). */
  pollMs: number;
  /** A new pod in CrashLoopBackOff with at least this many restarts fails the rollout (default 5). */
  maxCrashRestarts: number;
  /** This many Failed new pods fail the rollout (default 3). */
  maxFailedPods: number;
  objects: KubernetesObjectApi;
}

/** What the stepped rollout saved before changing the Deployment's strategy. */
interface SteppedState {
  release: string;
  image: string;
  strategy: V1DeploymentStrategy | null;
  minReadySeconds: number;
}

/** Heartbeat details of a rollout step; `resumeFrom` of a retried attempt. */
export interface RolloutHeartbeat {
  kind: 'rollout-step';
  release: string;
  targetNewPods: number;
  phase: string;
  startedAt: string;
  newReady: number;
  oldReady: number;
}

interface Snapshot {
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

// ------------------------------------------------------------------ reading

export async function readDeployment(c: KubeClients, t: TargetRef): Promise<V1Deployment> {
  try {
    return await c.apps.readNamespacedDeployment({ name: t.deployment, namespace: t.namespace });
  } catch (err) {
    const mapped = mapApiError(`read deployment/${t.deployment} in namespace ${t.namespace}`, err);
    if (mapped.name === 'NotFoundError') throw await notFound(c, t, err);
    throw mapped;
  }
}

/** Says whether the namespace or the Deployment is missing (when the credentials may read namespaces). */
async function notFound(c: KubeClients, t: TargetRef, cause: unknown): Promise<Error> {
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
  return list.items.filter((rs) => ownedBy(rs, d.metadata?.uid)).sort((a, b) => revisionOf(a) - revisionOf(b));
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
  return canonical(withoutHash(a)) === canonical(withoutHash(b));
}

function withoutHash(t: V1PodTemplateSpec | undefined): unknown {
  const copy = JSON.parse(JSON.stringify(t ?? {})) as { metadata?: { labels?: Record<string, string> } };
  if (copy.metadata?.labels) {
    delete copy.metadata.labels['pod-template-hash'];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  return copy;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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
 * old ones, and their live (not terminating) pods. `restored` names the RS a rollback returns to.
 */
export async function snapshot(c: KubeClients, t: TargetRef): Promise<Snapshot> {
  const deployment = await readDeployment(c, t);
  const [rss, pods] = await Promise.all([ownedReplicaSets(c, deployment), selectorPods(c, deployment)]);
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

function steppedState(d: V1Deployment): SteppedState | undefined {
  const raw = d.metadata?.annotations?.[STEPPED_ANNOTATION];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as SteppedState;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ progress reporting

/** Collects the pod-by-pod events and traffic samples of one watch, deduplicated by key. */
class RolloutRecorder {
  private readonly events = new Map<string, ActivityEvent>();
  readonly traffic: TrafficSample[] = [];

  constructor(
    private readonly release: string,
    /** Report only pods created at or after this time (a rollback reports the pods it starts). */
    private readonly since?: number,
  ) {}

  observe(s: Snapshot, forwardIsNew = true): void {
    s.newPods.forEach((pod, i) => {
      const created = new Date(pod.metadata?.creationTimestamp ?? Date.now()).getTime();
      if (this.since !== undefined && created < this.since) return;
      const n = i + 1;
      const name = pod.metadata?.name ?? `pod-${n}`;
      const deployedKey = `pod-deployed:${name}`;
      if (!this.events.has(deployedKey)) {
        this.events.set(deployedKey, {
          at: isoOf(pod.metadata?.creationTimestamp),
          status: 'ok',
          title: `Pod ${n} deployed (${this.release})`,
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
      const newPods = forwardIsNew ? s.newReady : s.oldReady;
      const oldPods = forwardIsNew ? s.oldReady : s.newReady;
      const newPercent = Math.round((newPods / total) * 100);
      const last = this.traffic[this.traffic.length - 1];
      if (!last || last.newPods !== newPods || last.oldPods !== oldPods) {
        this.traffic.push({ at: nowIso(), newPods, oldPods, newPercent });
      }
    }
  }

  list(): ActivityEvent[] {
    return [...this.events.values()].sort((a, b) => a.at.localeCompare(b.at));
  }
}

/** Fails the rollout when its new pods are crash-looping or failing beyond the bounds. */
function checkNewPods(s: Snapshot, options: RolloutOptions, what: string): void {
  for (const pod of s.newPods) {
    for (const cs of pod.status?.containerStatuses ?? []) {
      const reason = cs.state?.waiting?.reason;
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

// ------------------------------------------------------------------ changes

async function patchDeployment(c: KubeClients, t: TargetRef, body: unknown, what: string): Promise<V1Deployment> {
  return kube(`${what} (patch deployment/${t.deployment} in namespace ${t.namespace})`, () =>
    c.apps.patchNamespacedDeployment({ name: t.deployment, namespace: t.namespace, body, fieldManager: FIELD_MANAGER }, merge),
  );
}

async function scaleReplicaSet(c: KubeClients, rs: V1ReplicaSet, replicas: number): Promise<void> {
  const name = rs.metadata!.name!;
  const namespace = rs.metadata!.namespace!;
  // Optimistic: only if nobody changed the ReplicaSet since we looked (409 → look again).
  await withConflictRetries(`scale replicaset/${name} to ${replicas} in namespace ${namespace}`, async () => {
    const current = await c.apps.readNamespacedReplicaSet({ name, namespace });
    current.spec!.replicas = replicas;
    await c.apps.replaceNamespacedReplicaSet({ name, namespace, body: current, fieldManager: FIELD_MANAGER });
  });
}

/** The manifest to server-side apply: one Deployment, the target's. */
function parseManifest(text: string, t: TargetRef): Record<string, unknown> & { spec?: Record<string, unknown>; metadata?: Record<string, unknown> } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InvalidInputError(`the rollout manifest is not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const obj = doc as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } };
  if (!obj || typeof obj !== 'object' || obj.kind !== 'Deployment' || obj.apiVersion !== 'apps/v1') {
    throw new InvalidInputError('the rollout manifest must be one apps/v1 Deployment');
  }
  if (obj.metadata?.name !== t.deployment) throw new InvalidInputError(`the rollout manifest names deployment/${obj.metadata?.name}, not deployment/${t.deployment}`);
  if (obj.metadata.namespace && obj.metadata.namespace !== t.namespace) {
    throw new InvalidInputError(`the rollout manifest is for namespace ${obj.metadata.namespace}, not ${t.namespace}`);
  }
  return { ...(doc as Record<string, unknown>), metadata: { ...obj.metadata, namespace: t.namespace } };
}

function manifestImage(m: ReturnType<typeof parseManifest>, container: string): string | undefined {
  const containers = ((m.spec?.template as { spec?: { containers?: { name: string; image?: string }[] } } | undefined)?.spec?.containers ?? []);
  return containers.find((c) => c.name === container)?.image;
}

/**
 * Changes the Deployment to the new release in one write: the image (or the manifest), the
 * progress deadline, and `extra` (pause, strategy, annotation) so no controller sync sees half of it.
 */
async function applyRelease(c: KubeClients, o: RolloutOptions, input: RolloutStepInput, extra: { spec: Record<string, unknown>; annotations?: Record<string, string | null> }): Promise<void> {
  const deadlineSeconds = Math.max(1, Math.ceil(input.progressDeadlineMs / 1000));
  if (input.manifest) {
    const m = parseManifest(input.manifest, input);
    const annotations = { ...((m.metadata?.annotations as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(extra.annotations ?? {})) if (v !== null) annotations[k] = v;
    const body = {
      ...m,
      metadata: { ...m.metadata, annotations },
      spec: { ...m.spec, progressDeadlineSeconds: deadlineSeconds, ...extra.spec },
    };
    await kube(`server-side apply the manifest of deployment/${input.deployment} in namespace ${input.namespace}`, () =>
      o.objects.patch(body as never, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
    );
    return;
  }
  await patchDeployment(
    c,
    input,
    {
      ...(extra.annotations ? { metadata: { annotations: extra.annotations } } : {}),
      spec: {
        progressDeadlineSeconds: deadlineSeconds,
        template: { spec: { containers: [{ name: input.container, image: input.image }] } },
        ...extra.spec,
      },
    },
    `set image ${input.container}=${input.image}`,
  );
}

/** The spec fields that put the Deployment back as it was before the stepped rollout. */
function restoreSpec(state: SteppedState): Record<string, unknown> {
  return {
    paused: false,
    minReadySeconds: state.minReadySeconds,
    // A merge patch replaces the whole strategy object: Recreate's missing rollingUpdate comes back.
    strategy: state.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
  };
}

// ------------------------------------------------------------------ the rollout step

export async function rolloutStep(c: KubeClients, o: RolloutOptions, input: RolloutStepInput, ctx: ProgressContext): Promise<RolloutProgress> {
  const resume = ctx.resumeFrom as Partial<RolloutHeartbeat> | undefined;
  const sameStep = resume?.kind === 'rollout-step' && resume.release === input.release && resume.targetNewPods === input.targetNewPods;
  const startedAt = sameStep && resume.startedAt ? resume.startedAt : nowIso();
  const recorder = new RolloutRecorder(input.release);
  const what = `rollout of ${input.release} to deployment/${input.deployment}`;

  let d = await readDeployment(c, input);
  if (!d.spec?.template?.spec?.containers?.some((x) => x.name === input.container)) {
    throw new InvalidInputError(`deployment/${input.deployment} has no container named "${input.container}"`);
  }
  const replicas = d.spec.replicas ?? 1;
  const finish = input.targetNewPods >= replicas;
  const wanted = input.manifest ? (manifestImage(parseManifest(input.manifest, input), input.container) ?? input.image) : input.image;
  let stepped = steppedState(d);
  const applied = templateImage(d, input.container) === wanted && (!stepped || stepped.release === input.release);

  const beat = (phase: string, s?: Snapshot) => {
    const details: RolloutHeartbeat = {
      kind: 'rollout-step',
      release: input.release,
      targetNewPods: input.targetNewPods,
      phase,
      startedAt,
      newReady: s?.newReady ?? 0,
      oldReady: s?.oldReady ?? 0,
    };
    ctx.heartbeat(details);
  };

  if (!applied) {
    throwIfAborted(ctx.signal);
    const previous: SteppedState | undefined = stepped;
    if (finish) {
      // One step to 100%: the Deployment's own rolling update does it.
      await applyRelease(c, o, input, {
        spec: previous ? restoreSpec(previous) : { paused: false },
        ...(previous ? { annotations: { [STEPPED_ANNOTATION]: null } } : {}),
      });
    } else {
      // First step: let the controller create the new ReplicaSet with its one surge pod, gated by
      // minReadySeconds so it cannot go further before the pause below lands.
      const state: SteppedState = previous ?? {
        release: input.release,
        image: wanted,
        strategy: d.spec.strategy ?? null,
        minReadySeconds: d.spec.minReadySeconds ?? 0,
      };
      const gate = Math.max(1, Math.min(60, Math.ceil(input.progressDeadlineMs / 1000) - 1));
      await applyRelease(c, o, input, {
        spec: { paused: false, minReadySeconds: Math.max(gate, state.minReadySeconds), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
        annotations: { [STEPPED_ANNOTATION]: JSON.stringify({ ...state, release: input.release, image: wanted }) },
      });
    }
    beat('applied');
    d = await readDeployment(c, input);
    stepped = steppedState(d);
  }

  if (stepped && !d.spec?.paused) {
    // Between the first write and the pause (also after a crash right there): wait for the new
    // ReplicaSet, then pause with Recreate so the paused controller never rescales ReplicaSets.
    const s = await waitFor(c, input, ctx, 'creating-new-replicaset', (snap) => snap.observed && !!snap.newRS && (snap.newRS.spec?.replicas ?? 0) >= 1, input.progressDeadlineMs, what, o, recorder);
    beat('new-replicaset', s);
    if (finish) {
      await patchDeployment(c, input, { metadata: { annotations: { [STEPPED_ANNOTATION]: null } }, spec: restoreSpec(stepped) }, 'resume the rollout');
    } else {
      await patchDeployment(c, input, { spec: { paused: true, minReadySeconds: stepped.minReadySeconds, strategy: { type: 'Recreate', rollingUpdate: null } } }, 'hold the rollout (pause)');
    }
  } else if (stepped && d.spec?.paused && finish) {
    await patchDeployment(c, input, { metadata: { annotations: { [STEPPED_ANNOTATION]: null } }, spec: restoreSpec(stepped) }, 'resume the rollout');
  }

  const final = finish
    ? await watchComplete(c, o, input, ctx, recorder, what, input.progressDeadlineMs, beat)
    : await stepTo(c, o, input, ctx, recorder, what, Math.min(input.targetNewPods, replicas), beat);
  return {
    newReady: final.newReady,
    oldReady: final.oldReady,
    replicas: final.replicas,
    revision: revisionOf(final.deployment),
    complete: finish,
    events: recorder.list(),
    traffic: recorder.traffic,
  };
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

/** Polls until `done(snapshot)`, failing on bad new pods or no progress within the deadline. */
async function waitFor(
  c: KubeClients,
  t: TargetRef,
  ctx: ProgressContext,
  phase: string,
  done: (s: Snapshot) => boolean,
  deadlineMs: number,
  what: string,
  o: RolloutOptions,
  recorder: RolloutRecorder,
): Promise<Snapshot> {
  const stalled = stallClock();
  for (;;) {
    throwIfAborted(ctx.signal);
    const s = await snapshot(c, t);
    recorder.observe(s);
    if (done(s)) return s;
    checkNewPods(s, o, what);
    if (stalled(`${s.newRS?.spec?.replicas}/${s.newReady}/${s.oldReady}/${s.newPods.length}`) > deadlineMs) {
      throw new ProgressDeadlineExceededError(`${what}: no progress for ${Math.round(deadlineMs / 1000)}s while ${phase}${podProblems(s)}`);
    }
    ctx.heartbeat({ kind: 'rollout-step', phase });
    await sleep(o.pollMs, ctx.signal);
  }
}

/**
 * Moves a held (paused, Recreate) Deployment to `desired` new pods: one surge pod at a time on the
 * new ReplicaSet, an old pod removed only once a new one is Ready. Never more new pods than
 * `desired`, never fewer ready pods than replicas.
 */
async function stepTo(
  c: KubeClients,
  o: RolloutOptions,
  input: RolloutStepInput,
  ctx: ProgressContext,
  recorder: RolloutRecorder,
  what: string,
  desired: number,
  beat: (phase: string, s?: Snapshot) => void,
): Promise<Snapshot> {
  const stalled = stallClock();
  for (;;) {
    throwIfAborted(ctx.signal);
    const s = await snapshot(c, input);
    recorder.observe(s);
    if (!s.newRS) throw new RolloutFailedError(`${what}: the new ReplicaSet of deployment/${input.deployment} is gone`);
    checkNewPods(s, o, what);
    const replicas = s.replicas;
    const newSpec = s.newRS.spec?.replicas ?? 0;
    const oldSpec = s.oldRSs.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
    const oldTarget = Math.max(0, replicas - Math.max(newSpec, 0));
    if (s.newReady >= desired && newSpec >= desired && oldSpec <= oldTarget && s.oldReady >= oldSpec && s.newReady + s.oldReady >= replicas) {
      beat('held', s);
      return s;
    }
    if (s.newReady + s.oldReady > replicas && oldSpec > replicas - s.newReady) {
      // A new pod is Ready: remove one old pod per ready surplus pod, oldest ReplicaSet first.
      let remove = oldSpec - Math.max(0, replicas - s.newReady);
      for (const rs of s.oldRSs) {
        const n = rs.spec?.replicas ?? 0;
        if (remove <= 0 || n === 0) continue;
        const take = Math.min(n, remove);
        await scaleReplicaSet(c, rs, n - take);
        remove -= take;
      }
    } else if (newSpec < desired && s.newReady >= newSpec && newSpec + oldSpec <= replicas) {
      await scaleReplicaSet(c, s.newRS, newSpec + 1); // the next surge pod
    }
    // Paused Deployments have no progress deadline in the controller: this is the step's own.
    if (stalled(`${newSpec}/${s.newReady}/${oldSpec}/${s.oldReady}`) > input.progressDeadlineMs) {
      throw new ProgressDeadlineExceededError(
        `${what}: step to ${desired} new pod(s) made no progress for ${Math.round(input.progressDeadlineMs / 1000)}s (ProgressDeadlineExceeded)${podProblems(s)}`,
      );
    }
    beat('stepping', s);
    await sleep(o.pollMs, ctx.signal);
  }
}

/** `kubectl rollout status`: observed generation, all replicas updated and available, no old ones left. */
async function watchComplete(
  c: KubeClients,
  o: RolloutOptions,
  t: TargetRef,
  ctx: ProgressContext,
  recorder: RolloutRecorder,
  what: string,
  deadlineMs: number,
  beat: (phase: string, s?: Snapshot) => void,
  forwardIsNew = true,
): Promise<Snapshot> {
  const stalled = stallClock();
  for (;;) {
    throwIfAborted(ctx.signal);
    const s = await snapshot(c, t);
    recorder.observe(s, forwardIsNew);
    const st = s.deployment.status ?? {};
    if (s.observed) {
      const cond = progressingCondition(s.deployment);
      if (cond?.reason === 'ProgressDeadlineExceeded') {
        throw new ProgressDeadlineExceededError(`${what}: deployment/${t.deployment} exceeded its progress deadline (${cond.message ?? 'ProgressDeadlineExceeded'})${podProblems(s)}`, {
          details: { reason: cond.reason },
        });
      }
      checkNewPods(s, o, what);
      const updated = st.updatedReplicas ?? 0;
      if (updated >= s.replicas && (st.replicas ?? 0) <= updated && (st.availableReplicas ?? 0) >= updated && s.oldPods.length === 0) {
        beat('complete', s);
        return s;
      }
    }
    // A backstop for a controller that never reports the deadline (e.g. progressDeadlineSeconds unset).
    if (stalled(`${st.updatedReplicas}/${st.readyReplicas}/${st.availableReplicas}/${st.replicas}/${s.newPods.length}`) > deadlineMs * 2 + 10_000) {
      throw new ProgressDeadlineExceededError(`${what}: no progress for ${Math.round((deadlineMs * 2) / 1000)}s${podProblems(s)}`);
    }
    beat('watching', s);
    await sleep(o.pollMs, ctx.signal);
  }
}

// ------------------------------------------------------------------ rollback

/** `kubectl rollout undo --to-revision`: the template of that revision, resumed, watched to completion. */
export async function rollback(c: KubeClients, o: RolloutOptions, input: RollbackInput, ctx: ProgressContext): Promise<RollbackResult> {
  const started = Date.now();
  const d = await readDeployment(c, input);
  const rss = await ownedReplicaSets(c, d);
  const target = rss.find((rs) => revisionOf(rs) === input.toRevision);
  const what = `rollback of deployment/${input.deployment} to revision ${input.toRevision}`;
  if (!target) {
    throw new RollbackImpossibleError(
      `${what}: revision ${input.toRevision} is no longer in the ReplicaSet history (revisions: ${rss.map(revisionOf).join(', ') || 'none'})`,
    );
  }
  const template = JSON.parse(JSON.stringify(target.spec?.template ?? {})) as V1PodTemplateSpec;
  delete template.metadata?.labels?.['pod-template-hash'];
  const image = template.spec?.containers?.find((x) => x.name === input.container)?.image;
  if (image !== input.expectedImage) {
    throw new RollbackImpossibleError(`${what}: revision ${input.toRevision} runs ${image ?? 'no such container'}, not the recorded ${input.expectedImage}`);
  }
  const stepped = steppedState(d);
  if (!sameTemplate(d.spec?.template, template) || d.spec?.paused || stepped) {
    throwIfAborted(ctx.signal);
    const ops: unknown[] = [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/spec/paused', value: false },
    ];
    if (stepped) {
      const restore = restoreSpec(stepped);
      ops.push({ op: 'replace', path: '/spec/strategy', value: restore.strategy });
      ops.push({ op: 'replace', path: '/spec/minReadySeconds', value: restore.minReadySeconds });
      ops.push({ op: 'remove', path: `/metadata/annotations/${STEPPED_ANNOTATION.replace(/~/g, '~0').replace(/\//g, '~1')}` });
    }
    await kube(`roll back (patch deployment/${input.deployment} in namespace ${input.namespace})`, () =>
      c.apps.patchNamespacedDeployment({ name: input.deployment, namespace: input.namespace, body: ops, fieldManager: FIELD_MANAGER }, jsonPatch),
    );
  }
  ctx.heartbeat({ kind: 'rollback', toRevision: input.toRevision, phase: 'applied' });
  const release = releaseOfImage(input.expectedImage);
  const recorder = new RolloutRecorder(release, started - 1000);
  const final = await watchComplete(c, o, input, ctx, recorder, what, input.progressDeadlineMs, (phase) => ctx.heartbeat({ kind: 'rollback', toRevision: input.toRevision, phase }), false);
  const running = templateImage(final.deployment, input.container);
  if (running !== input.expectedImage) {
    throw new RollbackImpossibleError(`${what}: after the undo deployment/${input.deployment} runs ${running}, not ${input.expectedImage}`);
  }
  return {
    revision: revisionOf(final.deployment),
    image: running,
    durationMs: Date.now() - started,
    events: recorder.list(),
    traffic: recorder.traffic,
  };
}
