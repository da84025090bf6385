/**
 * Rollback of a Deployment: `kubectl rollout undo --to-revision` (the template of that revision,
 * resumed, and a stepped rollout's strategy restored), watched to completion by the rollout watch
 * with the traffic counted from the release being left.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { throwIfAborted } from '../abort';
import { RollbackImpossibleError } from '../errors';
import type { ProgressContext, RollbackInput, RollbackResult } from '../types';
import type { KubeClients } from './api';
import { releaseOfImage } from '../../format';
import { FIELD_MANAGER, kube, revisionOf } from './api';
import { serviceEndpointsReady } from './endpoints';
import { bellEvents, MIRRORED, rolloutBell } from './bell';
import type { ChangeBell } from './bell';
import { RolloutRecorder } from './recorder';
import { ownedReplicaSets, readDeployment, sameTemplate, STEPPED_ANNOTATION, steppedState, templateImage } from './snapshot';
import { restoreSpec } from './stepped';
import { RolloutWatch } from './watch';
import type { RolloutOptions } from './watch';

const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

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
  let written: V1Deployment | undefined;
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
    written = await kube(`roll back (patch deployment/${input.deployment} in namespace ${input.namespace})`, () =>
      c.apps.patchNamespacedDeployment({ name: input.deployment, namespace: input.namespace, body: ops, fieldManager: FIELD_MANAGER }, jsonPatch),
    );
  }
  // The watch's first look sees what the write did, the bell what follows (its mirror not read before it has the write).
  const bell = rolloutBell(c, d);
  if (written) bell.wrote(MIRRORED.deployment, written);
  try {
    return await followUndo(c, o, input, ctx, { started, what, bell });
  } finally {
    bell.close();
  }
}

async function followUndo(c: KubeClients, o: RolloutOptions, input: RollbackInput, ctx: ProgressContext, u: { started: number; what: string; bell: ChangeBell }): Promise<RollbackResult> {
  const { started, what, bell } = u;
  const watch = new RolloutWatch({
    clients: c,
    options: o,
    input,
    ctx,
    recorder: new RolloutRecorder({ release: releaseOfImage(input.expectedImage), since: started - 1000, direction: 'undo' }),
    identity: { kind: 'rollback', toRevision: input.toRevision },
    what,
    bell,
  });
  watch.beat('applied');
  const final = await watch.untilComplete();
  const running = templateImage(final.deployment, input.container);
  if (running !== input.expectedImage) {
    throw new RollbackImpossibleError(`${what}: after the undo deployment/${input.deployment} runs ${running}, not ${input.expectedImage}`);
  }
  // The smoke suite on the old version comes next: wait (bounded) until the Service routes to the old pods only.
  const endpoints = await serviceEndpointsReady(c, final.deployment, { namespace: input.namespace, container: input.container, image: input.expectedImage, signal: ctx.signal, bell });
  return {
    revision: revisionOf(final.deployment),
    image: running,
    durationMs: Date.now() - started,
    events: [...watch.recorder.list(), ...endpoints, ...bellEvents(bell, `rollback:${input.toRevision}`)],
    traffic: watch.recorder.traffic,
  };
}
