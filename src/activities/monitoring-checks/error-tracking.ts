/**
 * Error tracking: the new pods carry the tracker's DSN (an env var, an envFrom Secret or ConfigMap
 * holding the key, or a mounted Secret holding it), and a test event reaches the tracker: reported
 * by the service itself when the spec names its test path (it proves the service's own reporting),
 * else sent by the worker to the DSN it resolves (Sentry's store endpoint; a local receiver in tests).
 */
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { V1Pod } from '@kubernetes/client-node';
import type { ErrorTrackingRef, MonitoringCheckResult } from '../../model';
import type { DeploySpec } from '../../spec/types';
import type { KubeClients } from '../kubernetes/api';
import { apiMessage } from '../kubernetes/api';
import { resolveSecret } from '../secrets';
import type { MonitoringCheckInput } from '../types';
import { messageOf, result } from './context';
import type { MonitoringChecksOptions } from './context';
import { newReleasePods, podName } from './pods';

async function keysOf(c: KubeClients, kind: 'secret' | 'configmap', namespace: string, name: string): Promise<string[] | string> {
  try {
    const obj = kind === 'secret' ? await c.core.readNamespacedSecret({ name, namespace }) : await c.core.readNamespacedConfigMap({ name, namespace });
    return Object.keys(obj.data ?? {});
  } catch (err) {
    return `cannot read ${kind} ${name}: ${apiMessage(err)}`;
  }
}

/** How a pod's container gets the DSN, or why it does not. */
export async function dsnSource(c: KubeClients, pod: V1Pod, container: string, env: string): Promise<{ ok: boolean; how: string }> {
  const ctr = pod.spec?.containers?.find((x) => x.name === container);
  if (!ctr) return { ok: false, how: `no container ${container}` };
  const namespace = pod.metadata?.namespace ?? '';
  const direct = ctr.env?.find((e) => e.name === env);
  if (direct) {
    const from = direct.valueFrom?.secretKeyRef ? ` from secret ${direct.valueFrom.secretKeyRef.name}` : direct.valueFrom?.configMapKeyRef ? ` from configmap ${direct.valueFrom.configMapKeyRef.name}` : '';
    return { ok: direct.value !== '' || direct.valueFrom !== undefined, how: `env ${env}${from}` };
  }
  const notes: string[] = [];
  for (const source of ctr.envFrom ?? []) {
    const ref = source.secretRef ? { kind: 'secret' as const, name: source.secretRef.name } : source.configMapRef ? { kind: 'configmap' as const, name: source.configMapRef.name } : undefined;
    if (!ref?.name) continue;
    const keys = await keysOf(c, ref.kind, namespace, ref.name);
    if (typeof keys === 'string') notes.push(keys);
    else if ((source.prefix ?? '') === '' ? keys.includes(env) : env.startsWith(source.prefix!) && keys.includes(env.slice(source.prefix!.length))) return { ok: true, how: `envFrom ${ref.kind} ${ref.name} (key ${env})` };
  }
  const mounted = new Set((ctr.volumeMounts ?? []).map((m) => m.name));
  for (const volume of pod.spec?.volumes ?? []) {
    if (!volume.secret?.secretName || !mounted.has(volume.name)) continue;
    const items = volume.secret.items?.map((i) => i.key);
    const keys = items ?? (await keysOf(c, 'secret', namespace, volume.secret.secretName));
    if (typeof keys === 'string') notes.push(keys);
    else if (keys.includes(env)) return { ok: true, how: `secret ${volume.secret.secretName} mounted (key ${env})` };
  }
  return { ok: false, how: `no env ${env}, no envFrom or mounted secret with key ${env}${notes.length ? ` (${notes.join('; ')})` : ''}` };
}

/** Sends one test event to the tracker behind a Sentry DSN (https://KEY@host/PROJECT). */
export async function sendTestEvent(dsn: string, spec: DeploySpec, options: MonitoringChecksOptions): Promise<{ ok: boolean; line: string }> {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    return { ok: false, line: 'the DSN is not a URL (expected https://KEY@host/PROJECT); its value is not shown' };
  }
  const project = url.pathname.replace(/^\/+|\/+$/g, '').split('/').pop();
  if (!url.username || !project) return { ok: false, line: `the DSN for ${url.host} has no key or project (expected https://KEY@host/PROJECT)` };
  const path = url.pathname.replace(/\/?[^/]*\/?$/, '');
  const store = `${url.protocol}//${url.host}${path}/api/${project}/store/`;
  const event = {
    event_id: randomUUID().replace(/-/g, ''),
    timestamp: new Date().toISOString(),
    level: 'info',
    logger: 'shipwatch',
    platform: 'other',
    message: `shipwatch test event: error tracking of ${spec.service} ${spec.release} (${spec.namespace})`,
    release: `${spec.service}@${spec.release}`,
    environment: spec.namespace,
    tags: { 'shipwatch.check': 'error-tracking' },
  };
  try {
    const res = await request(store, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sentry-auth': `Sentry sentry_version=7, sentry_client=shipwatch/1, sentry_key=${url.username}` },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    await res.body.text();
    const where = `${url.protocol}//${url.host}`;
    return res.statusCode >= 200 && res.statusCode < 300
      ? { ok: true, line: `test event ${event.event_id} accepted by ${where} (HTTP ${res.statusCode})` }
      : { ok: false, line: `the tracker at ${where} refused the test event (HTTP ${res.statusCode})` };
  } catch (err) {
    return { ok: false, line: `the tracker at ${url.protocol}//${url.host} is unreachable: ${messageOf(err)}` };
  }
}

/** Asks the service to report a test event (GET serviceUrl + testPath) and reads what its tracker said. */
export async function serviceTestEvent(spec: DeploySpec, testPath: string, options: MonitoringChecksOptions): Promise<{ ok: boolean; line: string }> {
  const url = `${spec.serviceUrl.replace(/\/+$/, '')}${testPath}`;
  try {
    const res = await request(url, { method: 'GET', signal: AbortSignal.timeout(options.timeoutMs ?? 10_000), ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
    const text = await res.body.text();
    const pod = res.headers['x-served-by-pod'];
    const by = `the service${typeof pod === 'string' ? ` (pod ${pod})` : ''}`;
    let body: { eventId?: unknown; error?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // Not JSON: said below with the status.
    }
    if (res.statusCode >= 200 && res.statusCode < 300 && typeof body.eventId === 'string') return { ok: true, line: `${by} reported test event ${body.eventId} and its tracker accepted it (GET ${url}: HTTP ${res.statusCode})` };
    const why = typeof body.error === 'string' ? body.error : text.slice(0, 200) || 'no body';
    return { ok: false, line: `${by} did not report a test event (GET ${url}: HTTP ${res.statusCode}: ${why})` };
  } catch (err) {
    return { ok: false, line: `the service did not answer GET ${url}: ${messageOf(err)}` };
  }
}

export async function errorTracking(input: MonitoringCheckInput, options: MonitoringChecksOptions): Promise<MonitoringCheckResult> {
  const { spec } = input;
  const ref: ErrorTrackingRef | undefined = input.settings.errorTracking;
  const how = ref?.testPath ? `a test event reported by the service (GET ${ref.testPath})` : `a test event from the worker to the DSN ${ref?.dsn ?? ''}`;
  const checked = ref ? `env ${ref.env} in the pods running ${spec.image}, and ${how}` : 'the error-tracking DSN of the spec (monitoring.errorTracking)';
  if (!ref) return result('error-tracking', checked, { status: 'not_run', detail: 'the spec names no error tracker (monitoring.errorTracking): nothing to check' });
  const pods = await newReleasePods(spec, options);
  if (!pods.ok) return result('error-tracking', checked, { status: 'not_run', detail: pods.why });
  if (pods.pods.length === 0) return result('error-tracking', checked, { status: 'failed', detail: `no pod runs ${spec.image}` });
  const found: string[] = [];
  const without: string[] = [];
  for (const pod of pods.pods) {
    const source = await dsnSource(pods.clients, pod, spec.kubernetes.container, ref.env);
    found.push(`pod ${podName(pod)}: ${source.ok ? source.how : `DSN MISSING: ${source.how}`}`);
    if (!source.ok) without.push(podName(pod));
  }
  let sent: { ok: boolean; line: string };
  if (ref.testPath) {
    sent = await serviceTestEvent(spec, ref.testPath, options);
  } else {
    let dsn: string;
    try {
      dsn = await resolveSecret(ref.dsn!);
    } catch (err) {
      return result('error-tracking', checked, { status: 'not_run', detail: `no test event sent: ${messageOf(err)}`, found });
    }
    sent = await sendTestEvent(dsn, spec, options);
  }
  found.push(sent.line);
  if (without.length) return result('error-tracking', checked, { status: 'failed', detail: `${without.length} of ${pods.pods.length} new pods do not carry ${ref.env}: ${without.join(', ')}`, found });
  if (!sent.ok) return result('error-tracking', checked, { status: 'failed', detail: sent.line, found });
  const by = ref.testPath ? 'the service reported a test event its tracker accepted' : 'the tracker accepted a test event from the worker (not from the service: set monitoring.errorTracking.testPath to prove its own reporting)';
  return result('error-tracking', checked, { status: 'passed', detail: `all ${pods.pods.length} new pods carry ${ref.env} and ${by}`, found });
}
