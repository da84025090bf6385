/**
 * Waiting for what the next step needs after pods change: a Service's endpoints lag the pods'
 * readiness (the endpoints controller updates them after the kubelet reports Ready), so a smoke
 * suite run the moment a rollout or rollback completes can meet "503, no ready pods behind the
 * service". `serviceEndpointsReady` waits, bounded, until every Service selecting the pods has
 * only pods of the expected image behind it, as many as are ready; what it waited for (or that it
 * gave up) is an event the workflow puts on the timeline. It never throws for a slow controller:
 * the step after it says what it met.
 */
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ActivityEvent } from '../../model';
import { sleep } from '../abort';
import type { KubeClients } from './api';
import { kube, nowIso } from './api';
import { MIRRORED } from './bell';
import type { ChangeBell } from './bell';
import { selectorPods } from './snapshot';

export interface EndpointsWait {
  namespace: string;
  /** The container whose image the endpoints' pods must run. */
  container: string;
  image: string;
  /** How long to wait at most (default 60 s). */
  timeoutMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** Wakes the wait when the endpoints or pods change (./bell.ts); the poll stays its fallback. */
  bell?: ChangeBell;
}

/** "v1.0.0" of "ghcr.io/org/app:v1.0.0" (the whole reference when it has no tag). */
function tagOf(image: string): string {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? image.slice(at + 1) : image;
}

/** Services of the namespace whose selector picks the Deployment's pods. */
async function servicesOf(c: KubeClients, d: V1Deployment, namespace: string): Promise<V1Service[]> {
  const labels = d.spec?.template?.metadata?.labels ?? {};
  const services = await kube(`list services in namespace ${namespace}`, () => c.core.listNamespacedService({ namespace }));
  return services.items.filter((s) => {
    const selector = s.spec?.selector ?? {};
    const keys = Object.keys(selector);
    return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
  });
}

/** Ready endpoint pod names of one Service, and those not ready (terminating, not yet ready). */
async function endpointPods(c: KubeClients, namespace: string, service: string): Promise<{ ready: string[]; notReady: string[] }> {
  const ep = await kube(`read the endpoints of service ${service} in namespace ${namespace}`, () => c.core.readNamespacedEndpoints({ name: service, namespace })).catch(() => undefined);
  const ready: string[] = [];
  const notReady: string[] = [];
  for (const subset of ep?.subsets ?? []) {
    for (const a of subset.addresses ?? []) ready.push(a.targetRef?.name ?? a.ip);
    for (const a of subset.notReadyAddresses ?? []) notReady.push(a.targetRef?.name ?? a.ip);
  }
  return { ready: [...new Set(ready)], notReady: [...new Set(notReady)] };
}

/**
 * Waits until each Service selecting the Deployment's pods lists, as ready, exactly the ready pods
 * running `image` (at least one), or until the timeout. Returns one event per Service.
 */
export async function serviceEndpointsReady(c: KubeClients, d: V1Deployment, w: EndpointsWait): Promise<ActivityEvent[]> {
  try {
    return await waitEndpoints(c, d, w);
  } catch (err) {
    if (w.signal?.aborted) throw err;
    // Not allowed to read Services/Endpoints, or the API failed: said, and the step goes on.
    return [{ at: nowIso(), status: 'warning', title: 'Service endpoints not checked', detail: err instanceof Error ? err.message : String(err), key: `endpoints:unchecked:${w.image}` }];
  }
}

async function waitEndpoints(c: KubeClients, d: V1Deployment, w: EndpointsWait): Promise<ActivityEvent[]> {
  const started = Date.now();
  const timeoutMs = w.timeoutMs ?? 60_000;
  const services = await servicesOf(c, d, w.namespace);
  if (services.length === 0) return [];
  const events: ActivityEvent[] = [];
  for (const svc of services) {
    const name = svc.metadata!.name!;
    let last = '';
    for (;;) {
      w.bell?.heard();
      const pods = (w.bell?.objects<V1Pod>(MIRRORED.pods) ?? (await selectorPods(c, d))).filter((p) => !p.metadata?.deletionTimestamp);
      const wanted = pods
        .filter((p) => p.spec?.containers.find((x) => x.name === w.container)?.image === w.image)
        .filter((p) => (p.status?.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True'))
        .map((p) => p.metadata!.name!);
      const { ready } = await endpointPods(c, w.namespace, name);
      const others = ready.filter((n) => !wanted.includes(n));
      const missing = wanted.filter((n) => !ready.includes(n));
      const waited = Date.now() - started;
      if (wanted.length > 0 && others.length === 0 && missing.length === 0) {
        events.push({ at: nowIso(), status: 'ok', title: `Service ${name}: ${ready.length} ready endpoint(s), all on ${tagOf(w.image)}`, detail: `after ${(waited / 1000).toFixed(1)}s`, key: `endpoints:${name}:${w.image}` });
        break;
      }
      last = `${ready.length} ready endpoint(s); ${missing.length} ready pod(s) of ${w.image} not yet behind it${others.length ? `; ${others.length} other pod(s) still behind it` : ''}`;
      if (waited >= timeoutMs) {
        events.push({ at: nowIso(), status: 'warning', title: `Service ${name}: endpoints not settled after ${Math.round(timeoutMs / 1000)}s`, detail: last, key: `endpoints:${name}:${w.image}` });
        break;
      }
      const pollMs = w.pollMs ?? (w.bell?.live ? 500 : 100);
      await (w.bell ? w.bell.wait(pollMs, w.signal) : sleep(pollMs, w.signal));
    }
  }
  return events;
}
