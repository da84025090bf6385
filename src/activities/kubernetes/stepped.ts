/**
 * The stepped rollout. Steps hold exactly: the Deployment is paused with a Recreate strategy (so
 * the paused controller never rescales its ReplicaSets) and the new and old ReplicaSets are scaled
 * one pod at a time by the watch (./watch.ts); the last step restores the Deployment's own strategy
 * and resumes it. docs/kubernetes.md explains why this mechanism and not a bare pause or a canary
 * Deployment. A retried step finds its earlier write on the Deployment and does not write again.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { throwIfAborted } from '../abort';
import { InvalidInputError } from '../errors';
import type { DeploymentRef } from '../../model';
import type { ProgressContext, RolloutProgress, RolloutStepInput } from '../types';
import type { KubeClients } from './api';
import { FIELD_MANAGER, kube, revisionOf } from './api';
import { bellEvents, MIRRORED, rolloutBell } from './bell';
import type { ChangeBell } from './bell';
import { RolloutRecorder } from './recorder';
import { readDeployment, STEPPED_ANNOTATION, steppedState, templateImage } from './snapshot';
import type { SteppedState } from './snapshot';
import { serviceEndpointsReady } from './endpoints';
import { RolloutWatch } from './watch';
import type { RolloutOptions } from './watch';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function patchDeployment(c: KubeClients, t: DeploymentRef, body: unknown, what: string, bell: ChangeBell): Promise<V1Deployment> {
  // The next look must see this write: the mirror is not read until its watch reports it.
  return bell.wrote(
    MIRRORED.deployment,
    await kube(`${what} (patch deployment/${t.deployment} in namespace ${t.namespace})`, () =>
      c.apps.patchNamespacedDeployment({ name: t.deployment, namespace: t.namespace, body, fieldManager: FIELD_MANAGER }, merge),
    ),
  );
}

/** The manifest to server-side apply: one Deployment, the target's. */
function parseManifest(text: string, t: DeploymentRef): Record<string, unknown> & { spec?: Record<string, unknown>; metadata?: Record<string, unknown> } {
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
async function applyRelease(c: KubeClients, o: RolloutOptions, input: RolloutStepInput, bell: ChangeBell, extra: { spec: Record<string, unknown>; annotations?: Record<string, string | null> }): Promise<V1Deployment> {
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
    return bell.wrote(
      MIRRORED.deployment,
      await kube(`server-side apply the manifest of deployment/${input.deployment} in namespace ${input.namespace}`, () =>
        o.objects.patch(body as V1Deployment, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
      ),
    );
  }
  return patchDeployment(
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
    bell,
  );
}

/** The spec fields that put the Deployment back as it was before the stepped rollout. */
export function restoreSpec(state: SteppedState): Record<string, unknown> {
  return {
    paused: false,
    minReadySeconds: state.minReadySeconds,
    // A merge patch replaces the whole strategy object: Recreate's missing rollingUpdate comes back.
    strategy: state.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
  };
}

export async function rolloutStep(c: KubeClients, o: RolloutOptions, input: RolloutStepInput, ctx: ProgressContext): Promise<RolloutProgress> {
  const d = await readDeployment(c, input);
  // Its watches connect while the release is written; their first events ring it.
  const bell = rolloutBell(c, d);
  try {
    return await stepWithBell(c, o, input, ctx, d, bell);
  } finally {
    bell.close();
  }
}

async function stepWithBell(c: KubeClients, o: RolloutOptions, input: RolloutStepInput, ctx: ProgressContext, read: V1Deployment, bell: ChangeBell): Promise<RolloutProgress> {
  const watch = new RolloutWatch({
    clients: c,
    options: o,
    input,
    ctx,
    recorder: new RolloutRecorder({ release: input.release, direction: 'forward' }),
    identity: { kind: 'rollout-step', release: input.release, targetNewPods: input.targetNewPods },
    what: `rollout of ${input.release} to deployment/${input.deployment}`,
    bell,
  });
  let d = read;
  if (!d.spec?.template?.spec?.containers?.some((x) => x.name === input.container)) {
    throw new InvalidInputError(`deployment/${input.deployment} has no container named "${input.container}"`);
  }
  const replicas = d.spec.replicas ?? 1;
  const finish = input.targetNewPods >= replicas;
  const wanted = input.manifest ? (manifestImage(parseManifest(input.manifest, input), input.container) ?? input.image) : input.image;
  let stepped = steppedState(d);
  const applied = templateImage(d, input.container) === wanted && (!stepped || stepped.release === input.release);

  if (!applied) {
    throwIfAborted(ctx.signal);
    const previous: SteppedState | undefined = stepped;
    if (finish) {
      // One step to 100%: the Deployment's own rolling update does it.
      d = await applyRelease(c, o, input, bell, {
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
      d = await applyRelease(c, o, input, bell, {
        spec: { paused: false, minReadySeconds: Math.max(gate, state.minReadySeconds), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
        annotations: { [STEPPED_ANNOTATION]: JSON.stringify({ ...state, release: input.release, image: wanted }) },
      });
    }
    // The write's answer is the Deployment as written: no second read.
    watch.beat('applied');
    stepped = steppedState(d);
  }

  if (stepped && !d.spec?.paused) {
    // Between the first write and the pause (also after a crash right there): wait for the new
    // ReplicaSet, then pause with Recreate so the paused controller never rescales ReplicaSets.
    const s = await watch.waitFor('creating-new-replicaset', (snap) => snap.observed && !!snap.newRS && (snap.newRS.spec?.replicas ?? 0) >= 1);
    watch.beat('new-replicaset', s);
    if (finish) {
      await patchDeployment(c, input, { metadata: { annotations: { [STEPPED_ANNOTATION]: null } }, spec: restoreSpec(stepped) }, 'resume the rollout', bell);
    } else {
      await patchDeployment(c, input, { spec: { paused: true, minReadySeconds: stepped.minReadySeconds, strategy: { type: 'Recreate', rollingUpdate: null } } }, 'hold the rollout (pause)', bell);
    }
  } else if (stepped && d.spec?.paused && finish) {
    await patchDeployment(c, input, { metadata: { annotations: { [STEPPED_ANNOTATION]: null } }, spec: restoreSpec(stepped) }, 'resume the rollout', bell);
  }

  const final = finish ? await watch.untilComplete() : await watch.stepTo(Math.min(input.targetNewPods, replicas));
  // The last step: the log scan and smoke suite come next; wait (bounded) until the Service routes to the new pods only.
  const endpoints = finish ? await serviceEndpointsReady(c, final.deployment, { namespace: input.namespace, container: input.container, image: input.image, signal: ctx.signal, bell }) : [];
  return {
    newReady: final.newReady,
    oldReady: final.oldReady,
    replicas: final.replicas,
    revision: revisionOf(final.deployment),
    complete: finish,
    events: [...watch.recorder.list(), ...endpoints, ...bellEvents(bell, `step:${input.release}:${input.targetNewPods}`)],
    traffic: watch.recorder.traffic,
  };
}
