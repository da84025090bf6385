/** The new release's pods: the live pods of the Deployment whose container runs the spec's image. */
import type { V1Pod } from '@kubernetes/client-node';
import type { DeploySpec } from '../../spec/types';
import { makeClients } from '../kubernetes/api';
import type { KubeClients } from '../kubernetes/api';
import { readDeployment, selectorPods } from '../kubernetes/snapshot';
import type { MonitoringChecksOptions } from './context';
import { messageOf } from './context';

export type NewPods = { ok: true; clients: KubeClients; pods: V1Pod[] } | { ok: false; why: string };

export async function newReleasePods(spec: DeploySpec, options: MonitoringChecksOptions): Promise<NewPods> {
  if (!options.kubeConfig) return { ok: false, why: 'no Kubernetes cluster configured for the checks' };
  const clients = makeClients(options.kubeConfig);
  const ref = { namespace: spec.namespace, deployment: spec.kubernetes.deployment, container: spec.kubernetes.container };
  try {
    const deployment = await readDeployment(clients, ref);
    const pods = (await selectorPods(clients, deployment))
      .filter((p) => !p.metadata?.deletionTimestamp)
      .filter((p) => p.spec?.containers?.find((c) => c.name === ref.container)?.image === spec.image)
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    return { ok: true, clients, pods };
  } catch (err) {
    return { ok: false, why: `cannot list the pods of deployment/${ref.deployment}: ${messageOf(err)}` };
  }
}

export const podName = (pod: V1Pod): string => pod.metadata?.name ?? '?';
