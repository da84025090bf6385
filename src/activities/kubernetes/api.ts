/**
 * The Kubernetes API as the adapter's modules see it: typed clients from one KubeConfig, every call
 * wrapped so an API failure becomes the named error retrying can or cannot fix, and small helpers
 * (label selectors, revisions, timestamps) shared by the rollout, pod and migration modules.
 */
import { ApiException, AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig, V1LabelSelector, V1ReplicaSet } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import { sleep } from '../abort';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../errors';

/** An API failure that may succeed on retry (5xx, 409 after our own retries, 429, timeouts, resets). */
export class KubernetesApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KubernetesApiError';
  }
}

/** The permission a 403 names, parsed from the API server's Status message. */
export interface MissingPermission {
  user?: string;
  verb: string;
  resource: string;
  group: string;
  namespace?: string;
}

export interface KubeClients {
  kc: KubeConfig;
  apps: AppsV1Api;
  core: CoreV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
}

type AgentFactory = (cluster: unknown, options: Record<string, unknown>) => Agent;

const SHARED = Symbol('shipwatch.sharedConnections');

/** Agents kept per KubeConfig: one per distinct TLS identity (server, CA, client certificate). */
const AGENTS_KEPT = 8;

/**
 * Makes every client of `kc` reuse its connections. The client library builds a new agent, so a
 * new TCP connection and TLS handshake, for every API call (a rollout's look, three calls, took
 * 90–170 ms on the local stack); `kubectl` keeps its connection. This keeps one keep-alive agent
 * per TLS identity instead (a rotated client certificate gets its own). Idempotent; a library
 * without the hook it wraps is left as it is.
 */
export function shareConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createAgent?: AgentFactory; [SHARED]?: true };
  const original = target.createAgent;
  if (typeof original !== 'function' || target[SHARED]) return kc;
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    const identity = createHash('sha256');
    identity.update(String((cluster as { server?: string } | null)?.server ?? ''));
    for (const key of Object.keys(options).sort()) {
      const value = options[key];
      if (value !== undefined) identity.update(`${key}=${Buffer.isBuffer(value) ? value.toString('base64') : JSON.stringify(value)};`);
    }
    const key = identity.digest('hex');
    let agent = agents.get(key);
    if (!agent) {
      agent = original.call(kc, cluster, { ...options, keepAlive: true });
      agents.set(key, agent);
      for (const [old, a] of agents) {
        if (agents.size <= AGENTS_KEPT) break;
        agents.delete(old);
        a.destroy();
      }
    }
    return agent;
  };
  target[SHARED] = true;
  return kc;
}

export function makeClients(kc: KubeConfig): KubeClients {
  shareConnections(kc);
  return {
    kc,
    apps: kc.makeApiClient(AppsV1Api),
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
}

/** The API server's own sentence for a failed call (its Status `message`), else the client's. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === 'string' && parsed.message) return parsed.message;
      } catch {
        if (body.trim()) return body.trim().slice(0, 500);
      }
    } else if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
      return (body as { message: string }).message;
    }
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/**
 * Parses `User "x" cannot patch resource "deployments" in API group "apps" in the namespace "p"`
 * (the authorizer's wording since Kubernetes 1.11).
 */
export function parseForbidden(message: string): MissingPermission | undefined {
  const m = /(?:User "([^"]*)" )?cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)")?/.exec(message);
  if (!m) return undefined;
  return {
    ...(m[1] ? { user: m[1] } : {}),
    verb: m[2]!,
    resource: m[3]!,
    group: m[4]!,
    ...(m[5] ? { namespace: m[5] } : {}),
  };
}

/**
 * Runs one API call; `what` says what it was for ("patch deployment/x in production"). Permanent
 * failures become named errors: 401/403 ForbiddenError naming the missing permission, 404
 * NotFoundError, 400/422 InvalidInputError. Anything else stays retryable.
 */
export async function kube<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapApiError(what, err);
  }
}

export function mapApiError(what: string, err: unknown): Error {
  const status = statusOf(err);
  const message = apiMessage(err);
  if (status === 401) {
    return new ForbiddenError(`cannot ${what}: the API server rejected the credentials (401 Unauthorized): ${message}`, { cause: err, details: { status } });
  }
  if (status === 403) {
    const permission = parseForbidden(message);
    const named = permission
      ? `missing permission: ${permission.verb} ${permission.group ? `${permission.resource}.${permission.group}` : permission.resource}${permission.namespace ? ` in namespace ${permission.namespace}` : ' (cluster-wide)'}${permission.user ? ` for ${permission.user}` : ''}`
      : 'forbidden';
    return new ForbiddenError(`cannot ${what}: ${named} (${message})`, { cause: err, details: { status, ...(permission ? { permission } : {}) } });
  }
  if (status === 404 || status === 410) return new NotFoundError(`cannot ${what}: ${message}`, { cause: err, details: { status } });
  if (status === 400 || status === 422) return new InvalidInputError(`cannot ${what}: invalid: ${message}`, { cause: err, details: { status } });
  if (err instanceof KubernetesApiError) return err;
  return new KubernetesApiError(`cannot ${what}: ${status ? `HTTP ${status}: ` : ''}${message}`, status, { cause: err });
}

/**
 * An optimistic update (read, change, write with resourceVersion) retried on 409 Conflict a few
 * times before the conflict is left to the activity's retry policy.
 */
export async function withConflictRetries<T>(what: string, fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (statusOf(err) === 409 && attempt < attempts) {
        await sleep(50 * attempt);
        continue;
      }
      throw mapApiError(what, err);
    }
  }
}

export function labelSelector(selector: V1LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** The field manager of every write shipwatch makes (server-side apply and patches). */
export const FIELD_MANAGER = 'shipwatch';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } }): number {
  const n = Number(obj.metadata?.annotations?.[REVISION_ANNOTATION] ?? '0');
  return Number.isFinite(n) ? n : 0;
}

export function ownedBy(rs: V1ReplicaSet, uid: string | undefined): boolean {
  return (rs.metadata?.ownerReferences ?? []).some((o) => o.uid === uid && o.controller === true);
}

export function nowIso(): string {
  return new Date().toISOString();
}

export function isoOf(date: Date | string | undefined): string {
  if (!date) return nowIso();
  return typeof date === 'string' ? new Date(date).toISOString() : date.toISOString();
}
