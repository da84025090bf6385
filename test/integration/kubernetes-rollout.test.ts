/**
 * The Kubernetes adapter's rollout, stepped hold, interruption and rollback on a real local control
 * plane (kube-apiserver, controller-manager, scheduler; kwok's fake nodes and pods).
 */
import type { Agent } from 'node:https';
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { makeClients } from '../../src/activities/kubernetes/api';
import { createKubernetesAdapter } from '../../src/activities/kubernetes';
import { NotFoundError, ProgressDeadlineExceededError, RolloutFailedError } from '../../src/activities/errors';
import { readHeartbeat } from '../../src/activities/heartbeat';
import { bellEvents, ChangeBell, MIRRORED, rolloutBell } from '../../src/activities/kubernetes/bell';
import { mirroredSnapshot, snapshot, templateImage } from '../../src/activities/kubernetes/snapshot';
import type { Snapshot } from '../../src/activities/kubernetes/snapshot';
import type { ProgressContext, RolloutProgress, RolloutStepInput } from '../../src/activities/types';
import { startCluster } from '../helpers/cluster';
import type { TestCluster } from '../helpers/cluster';

jest.setTimeout(180_000);

const NS = 'production';
const OLD = 'ghcr.io/org/user-management:v0.9.0';
const NEW = 'ghcr.io/org/user-management:v1.0.0';
let cluster: TestCluster;
let apps: AppsV1Api;
let core: CoreV1Api;
const durations: Record<string, number> = {};

function deploymentYaml(name: string, options: { progressDeadlineSeconds?: number; image?: string; labels?: Record<string, string> } = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, labels: { app: name } },
    spec: {
      replicas: 3,
      progressDeadlineSeconds: options.progressDeadlineSeconds ?? 30,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: name, ...(options.labels ?? {}) } },
        spec: { containers: [{ name: 'app', image: options.image ?? OLD }] },
      },
    },
  });
}

async function createReady(name: string, progressDeadlineSeconds?: number): Promise<void> {
  await cluster.apply(deploymentYaml(name, progressDeadlineSeconds ? { progressDeadlineSeconds } : {}));
  await cluster.kubectl('-n', NS, 'rollout', 'status', `deployment/${name}`, '--timeout=90s');
}

function context(signal = new AbortController().signal, resumeFrom?: unknown) {
  const beats: unknown[] = [];
  const ctx: ProgressContext = { heartbeat: (d) => void beats.push(d), signal, ...(resumeFrom !== undefined ? { resumeFrom } : {}) };
  return { ctx, beats };
}

function step(name: string, targetNewPods: number, extra: Partial<RolloutStepInput> = {}): RolloutStepInput {
  return { namespace: NS, deployment: name, container: 'app', image: NEW, release: 'v1.0.0', targetNewPods, progressDeadlineMs: 20_000, ...extra };
}

/** Live (not terminating) pods of the Deployment, by image. */
async function podsByImage(name: string): Promise<Record<string, { total: number; ready: number }>> {
  const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${name}` });
  const out: Record<string, { total: number; ready: number }> = {};
  for (const p of pods.items) {
    if (p.metadata?.deletionTimestamp) continue;
    const image = p.spec?.containers[0]?.image ?? '';
    const entry = (out[image] ??= { total: 0, ready: 0 });
    entry.total++;
    if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) entry.ready++;
  }
  return out;
}

/** Samples the cluster while `fn` runs: the most new pods ever seen and the fewest ready pods. */
async function watchInvariants<T>(name: string, fn: () => Promise<T>): Promise<{ result: T; maxNew: number; minReady: number }> {
  let maxNew = 0;
  let minReady = Infinity;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const pods = await podsByImage(name).catch(() => undefined);
      if (pods) {
        maxNew = Math.max(maxNew, pods[NEW]?.total ?? 0);
        minReady = Math.min(minReady, Object.values(pods).reduce((n, p) => n + p.ready, 0));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const result = await fn();
    return { result, maxNew, minReady };
  } finally {
    done = true;
    await sampler;
  }
}

beforeAll(async () => {
  cluster = await startCluster('kube-rollout-test');
  durations.clusterUp = cluster.upMs;
  apps = cluster.kc.makeApiClient(AppsV1Api);
  core = cluster.kc.makeApiClient(CoreV1Api);
  await cluster.kubectl('create', 'namespace', NS);
}, 900_000);

afterAll(async () => {
  const t = Date.now();
  await cluster?.stop();
  durations.clusterDown = Date.now() - t;
  // Measured, not asserted: docs/kubernetes.md quotes these.
  console.log(`kubernetes-rollout durations (ms): ${JSON.stringify(durations)}`);
}, 180_000);

test('v0.9.0 → v1.0.0 on 3 replicas, one pod per step: pod-by-pod events, 33% → 67% → 100%, never more new pods than the step', async () => {
  const name = 'user-management';
  await createReady(name);
  const k8s = createKubernetesAdapter(cluster.kc, { pollMs: 200 });
  const before = await k8s.readTarget({ namespace: NS, deployment: name, container: 'app' });
  expect(before).toMatchObject({ image: OLD, revision: 1, revisions: [1], replicas: 3, healthy: true, problems: [] });

  const t = Date.now();
  const results: RolloutProgress[] = [];
  for (const target of [1, 2]) {
    const { result, maxNew, minReady } = await watchInvariants(name, () => k8s.rolloutStep(step(name, target), context().ctx));
    results.push(result);
    expect(maxNew).toBeLessThanOrEqual(target);
    expect(minReady).toBeGreaterThanOrEqual(3);
    expect(result).toMatchObject({ newReady: target, oldReady: 3 - target, replicas: 3, complete: false });
    const pods = await podsByImage(name);
    expect(pods[NEW]).toEqual({ total: target, ready: target });
    expect(pods[OLD]).toEqual({ total: 3 - target, ready: 3 - target });
    // A held step is healthy: every replica ready and available (the workflow's step health window).
    const held = await k8s.readTarget({ namespace: NS, deployment: name, container: 'app' });
    expect(held.problems).toEqual([]);
    expect(held.healthy).toBe(true);
  }
  const { result: last, minReady } = await watchInvariants(name, () => k8s.rolloutStep(step(name, 3), context().ctx));
  durations.steppedRollout3Pods = Date.now() - t;
  results.push(last);
  expect(minReady).toBeGreaterThanOrEqual(3);
  expect(last).toMatchObject({ newReady: 3, oldReady: 0, replicas: 3, complete: true, revision: 2 });

  // Sorted: two pods created within one second (the API's creationTimestamp resolution) may be
  // reported in either order; each must be reported once, deployed and then healthy.
  const titles = [...new Map(results.flatMap((r) => r.events).map((e) => [e.key, e.title])).values()].sort();
  expect(titles).toEqual([
    'Health check passed \u2013 Pod 1',
    'Health check passed \u2013 Pod 2',
    'Health check passed \u2013 Pod 3',
    'Pod 1 deployed (v1.0.0)',
    'Pod 2 deployed (v1.0.0)',
    'Pod 3 deployed (v1.0.0)',
  ]);
  const split = results.flatMap((r) => r.traffic).map((s) => s.newPercent);
  expect([...new Set(split)]).toEqual([33, 67, 100]);

  const after = await k8s.readTarget({ namespace: NS, deployment: name, container: 'app' });
  expect(after).toMatchObject({ image: NEW, revision: 2, revisions: [1, 2], healthy: true });
  const d = await apps.readNamespacedDeployment({ name, namespace: NS });
  expect(d.spec?.paused ?? false).toBe(false);
  expect(d.spec?.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  const verification = await k8s.verifyPods({ namespace: NS, deployment: name, container: 'app', image: NEW, maxRestarts: 0 });
  expect(verification.ok).toBe(true);
  expect(verification.summary).toContain('3/3 pods running');
});

test('a held step holds past progressDeadlineSeconds: no deadline, no extra new pod; then it finishes', async () => {
  const name = 'hold';
  await createReady(name, 8);
  const k8s = createKubernetesAdapter(cluster.kc, { pollMs: 200 });
  await k8s.rolloutStep(step(name, 1, { progressDeadlineMs: 8_000 }), context().ctx);
  const t = Date.now();
  // Sample through a hold longer than the 8 s deadline.
  let maxNew = 0;
  while (Date.now() - t < 14_000) {
    maxNew = Math.max(maxNew, (await podsByImage(name))[NEW]?.total ?? 0);
    await new Promise((r) => setTimeout(r, 250));
  }
  durations.hold = Date.now() - t;
  expect(maxNew).toBe(1);
  const d = await apps.readNamespacedDeployment({ name, namespace: NS });
  const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
  expect(progressing?.reason).not.toBe('ProgressDeadlineExceeded');
  expect(d.spec?.paused).toBe(true);
  const pods = await podsByImage(name);
  expect(pods[NEW]).toEqual({ total: 1, ready: 1 });
  expect(pods[OLD]).toEqual({ total: 2, ready: 2 });
  const done = await k8s.rolloutStep(step(name, 3, { progressDeadlineMs: 8_000 }), context().ctx);
  expect(done).toMatchObject({ complete: true, newReady: 3, oldReady: 0 });
});

test('an interrupted rollout step is re-run with resumeFrom: no second apply, it completes', async () => {
  const name = 'resume';
  await createReady(name);
  const k8s = createKubernetesAdapter(cluster.kc, { pollMs: 200 });
  const abort = new AbortController();
  const first = context(abort.signal);
  const origHeartbeat = first.ctx.heartbeat;
  // Abort as soon as the first attempt has applied the release and is watching.
  first.ctx.heartbeat = (d) => {
    origHeartbeat(d);
    if ((d as { phase?: string } | undefined)?.phase === 'applied') abort.abort(new Error('worker crashed'));
  };
  await expect(k8s.rolloutStep(step(name, 2), first.ctx)).rejects.toThrow();
  const lastBeat = first.beats[first.beats.length - 1];
  const generation = (await apps.readNamespacedDeployment({ name, namespace: NS })).metadata?.generation;

  const second = context(undefined, lastBeat);
  const result = await k8s.rolloutStep(step(name, 2), second.ctx);
  expect(result).toMatchObject({ newReady: 2, oldReady: 1 });
  // Every heartbeat is the union's rollout-step shape, read back equal after the trip through Temporal (JSON).
  for (const beat of [...first.beats, ...second.beats]) expect(readHeartbeat(JSON.parse(JSON.stringify(beat)))).toEqual(beat);
  expect(lastBeat).toMatchObject({ kind: 'rollout-step', release: 'v1.0.0', targetNewPods: 2, phase: 'applied' });
  // The retry did not apply again: no "applied" heartbeat, one new revision only.
  expect(second.beats.map((b) => (b as { phase?: string }).phase)).not.toContain('applied');
  const target = await k8s.readTarget({ namespace: NS, deployment: name, container: 'app' });
  expect(target.revisions).toEqual([1, 2]);
  const d = await apps.readNamespacedDeployment({ name, namespace: NS });
  // At most the pause write followed the aborted attempt's apply.
  expect((d.metadata?.generation ?? 0) - (generation ?? 0)).toBeLessThanOrEqual(1);
  // The same call once more changes nothing.
  const again = await k8s.rolloutStep(step(name, 2), context().ctx);
  expect(again).toMatchObject({ newReady: 2, oldReady: 1 });
  expect((await apps.readNamespacedDeployment({ name, namespace: NS })).metadata?.generation).toBe(d.metadata?.generation);
  expect((await podsByImage(name))[NEW]).toEqual({ total: 2, ready: 2 });
});

test('a crash-looping release fails fast (no wait for the progress deadline), with the pod\'s reason; rollout undo restores v0.9.0 and verify passes', async () => {
  const name = 'bad-release';
  await createReady(name, 10);
  const k8s = createKubernetesAdapter(cluster.kc, { pollMs: 200 });
  const before = await k8s.readTarget({ namespace: NS, deployment: name, container: 'app' });
  const manifest = deploymentYaml(name, { progressDeadlineSeconds: 10, image: 'ghcr.io/org/user-management:v1.0.1', labels: { 'shipwatch.dev/chaos': 'crashloop' } });
  const t = Date.now();
  const failure = await k8s
    .rolloutStep(step(name, 3, { image: 'ghcr.io/org/user-management:v1.0.1', release: 'v1.0.1', manifest, progressDeadlineMs: 10_000 }), context().ctx)
    .catch((e: unknown) => e);
  durations.badReleaseToFailure = Date.now() - t;
  expect(failure).toBeInstanceOf(RolloutFailedError);
  expect((failure as Error).message).toMatch(/cannot start: CrashLoopBackOff/);
  // Not the deadline's error: the step failed on the pod's state, before the deadline (time in durations).
  expect(failure).not.toBeInstanceOf(ProgressDeadlineExceededError);

  const t2 = Date.now();
  const undone = await k8s.rollback({ namespace: NS, deployment: name, container: 'app', toRevision: before.revision, expectedImage: OLD, progressDeadlineMs: 10_000 }, context().ctx);
  durations.undoAfterFailedRollout = Date.now() - t2;
  expect(undone.image).toBe(OLD);
  expect(undone.traffic[undone.traffic.length - 1]).toMatchObject({ newPercent: 0, oldPods: 3 });
  const verification = await k8s.verifyPods({ namespace: NS, deployment: name, container: 'app', image: OLD, maxRestarts: 0 });
  expect(verification).toMatchObject({ ok: true, expected: 3 });
  const d = await apps.readNamespacedDeployment({ name, namespace: NS });
  expect(d.spec?.template?.metadata?.labels?.['shipwatch.dev/chaos']).toBeUndefined();
});

test('a bad release held at step 1 fails on its own deadline; undo from the paused step restores the strategy', async () => {
  const name = 'bad-step';
  await createReady(name, 10);
  const k8s = createKubernetesAdapter(cluster.kc, { pollMs: 200 });
  const manifest = deploymentYaml(name, { progressDeadlineSeconds: 10, image: 'ghcr.io/org/user-management:v1.0.1', labels: { 'shipwatch.dev/chaos': 'not-ready' } });
  const failure = await k8s
    .rolloutStep(step(name, 1, { image: 'ghcr.io/org/user-management:v1.0.1', release: 'v1.0.1', manifest, progressDeadlineMs: 8_000 }), context().ctx)
    .catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ProgressDeadlineExceededError);
  expect((await podsByImage(name))['ghcr.io/org/user-management:v1.0.1']?.total).toBe(1);
  const undone = await k8s.rollback({ namespace: NS, deployment: name, container: 'app', toRevision: 1, expectedImage: OLD, progressDeadlineMs: 15_000 }, context().ctx);
  expect(undone.image).toBe(OLD);
  const d = await apps.readNamespacedDeployment({ name, namespace: NS });
  expect(d.spec?.paused ?? false).toBe(false);
  expect(d.spec?.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  expect(d.metadata?.annotations?.['shipwatch.dev/stepped-rollout']).toBeUndefined();
  expect((await k8s.verifyPods({ namespace: NS, deployment: name, container: 'app', image: OLD, maxRestarts: 0 })).ok).toBe(true);
});

test('not found: the deployment, or the namespace, is named', async () => {
  const k8s = createKubernetesAdapter(cluster.kc);
  const missing = await k8s.readTarget({ namespace: NS, deployment: 'nope', container: 'app' }).catch((e: unknown) => e);
  expect(missing).toBeInstanceOf(NotFoundError);
  expect((missing as Error).message).toBe(`deployment/nope not found in namespace ${NS}`);
  const noNs = await k8s.readTarget({ namespace: 'staging', deployment: 'user-management', container: 'app' }).catch((e: unknown) => e);
  expect(noNs).toBeInstanceOf(NotFoundError);
  expect((noNs as Error).message).toMatch(/^namespace staging does not exist/);
});

test('the change bell: a watch on the Deployment, its ReplicaSets and pods wakes a wait when the API server reports a change', async () => {
  await createReady('bell');
  const d = await apps.readNamespacedDeployment({ name: 'bell', namespace: NS });
  const bell = rolloutBell(makeClients(cluster.kc), d);
  await bell.ready;
  try {
    expect(bell.live).toBe(true);
    expect(bell.problem).toBeUndefined();
    // The watches' first events (the objects as they are) have rung: drain them, then nothing changes.
    while ((await bell.wait(2_000)) === 'changed') bell.heard();
    expect(await bell.wait(300)).toBe('slept');
    // A change the wait did not cause (one more replica) ends a 10-minute wait.
    bell.heard();
    const woken = bell.wait(600_000);
    await cluster.kubectl('-n', NS, 'scale', 'deployment/bell', '--replicas=4');
    expect(await woken).toBe('changed');
    // A change between a look (`heard`) and the next wait is not lost: that wait returns at once,
    // not after its 10 minutes (nothing else changes to wake it).
    await cluster.kubectl('-n', NS, 'rollout', 'status', 'deployment/bell', '--timeout=90s');
    while ((await bell.wait(2_000)) === 'changed') bell.heard();
    await cluster.kubectl('-n', NS, 'annotate', 'deployment/bell', 'shipwatch.dev/test=bell');
    // Zero-length waits until the change has arrived: without the flag kept since `heard`, each says 'slept'.
    let next = await bell.wait(0);
    for (let i = 0; i < 100 && next === 'slept'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      next = await bell.wait(0);
    }
    expect(next).toBe('changed');
  } finally {
    bell.close();
  }
  expect(bell.live).toBe(false);
});

test('the bell\'s mirrors: a look from them is the look from the API server, and a write of ours is not read before its watch reports it', async () => {
  await createReady('mirror');
  const c = makeClients(cluster.kc);
  const ref = { namespace: NS, deployment: 'mirror', container: 'app' };
  const bell = rolloutBell(c, await apps.readNamespacedDeployment({ name: 'mirror', namespace: NS }));
  await bell.ready;
  try {
    const mirrored = async () => {
      for (let i = 0; i < 100; i++) {
        const s = mirroredSnapshot(bell, ref);
        if (s) return s;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('the mirrors never served a look');
    };
    const summary = (s: Snapshot) => ({
      generation: s.deployment.metadata?.generation,
      resourceVersion: s.deployment.metadata?.resourceVersion,
      newRS: s.newRS?.metadata?.name,
      oldRSs: s.oldRSs.map((rs) => rs.metadata?.name),
      newPods: s.newPods.map((p) => p.metadata?.name),
      oldPods: s.oldPods.map((p) => p.metadata?.name),
      newReady: s.newReady,
      observed: s.observed,
      created: s.newPods.map((p) => p.metadata?.creationTimestamp),
    });
    // At rest: the same objects, typed the same (dates as Date).
    while ((await bell.wait(1_000)) === 'changed') bell.heard();
    expect(summary(await mirrored())).toEqual(summary(await snapshot(c, ref)));
    expect((await mirrored()).newPods[0]?.metadata?.creationTimestamp).toBeInstanceOf(Date);

    // A write of ours (a new template): the first look the mirrors serve after it already has it.
    const written = await apps.patchNamespacedDeployment(
      { name: 'mirror', namespace: NS, body: { spec: { template: { spec: { containers: [{ name: 'app', image: NEW }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    bell.wrote(MIRRORED.deployment, written);
    const after = await mirrored();
    expect(after.deployment.metadata?.generation).toBe(written.metadata?.generation);
    expect(templateImage(after.deployment, 'app')).toBe(NEW);

    // After the rollout the controller did on its own, the mirrors agree with the API again.
    await cluster.kubectl('-n', NS, 'rollout', 'status', 'deployment/mirror', '--timeout=90s');
    while ((await bell.wait(1_000)) === 'changed') bell.heard();
    expect(summary(await mirrored())).toEqual(summary(await snapshot(c, ref)));
  } finally {
    bell.close();
  }
  // A closed bell (as one whose watch ended) serves no look: the loop reads the API.
  expect(mirroredSnapshot(bell, ref)).toBeUndefined();
});

test('a watch the API server refuses leaves the bell polling, and the reason is kept for the timeline', async () => {
  const bell = ChangeBell.open(cluster.kc, [
    { path: `/api/v1/namespaces/${NS}/pods`, query: { labelSelector: 'app in (' }, what: 'its pods' },
    { path: `/apis/apps/v1/namespaces/${NS}/replicasets`, query: {}, what: 'its replicasets' },
  ]);
  await bell.ready;
  try {
    expect(bell.live).toBe(false);
    expect(bell.problem).toMatch(/^the watch of its pods could not start \(HTTP 400 /);
    expect(bellEvents(bell, 'x')).toEqual([expect.objectContaining({ status: 'info', title: 'Rollout followed by polling, not watching', detail: bell.problem })]);
  } finally {
    bell.close();
  }
});

test('the calls of one KubeConfig share one keep-alive connection (the client library opens one per call)', async () => {
  const kc = new KubeConfig();
  kc.loadFromString(cluster.kc.exportConfig());
  const c = makeClients(kc);
  for (let i = 0; i < 5; i++) await c.core.listNamespacedPod({ namespace: NS });
  await c.apps.readNamespacedDeployment({ name: 'bell', namespace: NS });
  const agent = (await kc.applyToFetchOptions({})).agent as Agent;
  expect((await kc.applyToFetchOptions({})).agent).toBe(agent);
  expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
  agent.destroy();
});
