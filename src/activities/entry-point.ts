/**
 * The public entry point check: reads the spec's Ingress or HTTPRoute from the cluster, checks that
 * it routes the public host and path to the spec's Service, then runs the smoke suite's health step
 * once through the entry point (the request goes to `entryPoint.url` with `Host: <host>`), so a
 * route that exists but sends users elsewhere, or to the old release, fails with what it found.
 */
import { CustomObjectsApi, NetworkingV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import { mapApiError } from './kubernetes/api';
import { NotFoundError } from './errors';
import { backendText, describeRoutes, routeFor } from './entry-point-route';
import type { RouteObject } from './entry-point-route';
import { createSmokeRunner } from './smoke';
import type { EntryPointInput, EntryPointPort, EntryPointResult } from './types';

export interface EntryPointCheckerOptions {
  /** Reads the route object; the real one reads the cluster (tests may pass their own). */
  readRoute: (kind: 'Ingress' | 'HTTPRoute', namespace: string, name: string) => Promise<RouteObject>;
  dispatcher?: Dispatcher;
  stepTimeoutMs?: number;
}

/** Reads Ingresses (networking.k8s.io/v1) and HTTPRoutes (gateway.networking.k8s.io/v1) from the cluster. */
export function clusterRouteReader(kc: KubeConfig): EntryPointCheckerOptions['readRoute'] {
  const networking = kc.makeApiClient(NetworkingV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  return async (kind, namespace, name) => {
    const what = `read ${kind === 'Ingress' ? 'ingress' : 'httproute'}/${name} in ${namespace}`;
    try {
      if (kind === 'Ingress') return { kind, ...(await networking.readNamespacedIngress({ name, namespace })) } as RouteObject;
      return { kind, ...((await custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace, plural: 'httproutes', name })) as object) };
    } catch (err) {
      throw mapApiError(what, err);
    }
  };
}

/** What the route sends host + path to, against what the spec expects: undefined when it is right. */
export function routeProblem(object: RouteObject, input: EntryPointInput): { found: string; problem?: string } {
  const e = input.entryPoint;
  const where = `${e.kind} ${e.namespace}/${e.name}`;
  const match = routeFor(object, e.host, e.path);
  if (!match) {
    const routes = describeRoutes(object);
    return { found: `${where} has no rule for ${e.host}${e.path} (its rules: ${routes.join('; ') || 'none'})`, problem: `${where} does not route ${e.host}${e.path}` };
  }
  const found = `${where} routes ${e.host}${e.path} (${match.rule}) to ${match.backends.map(backendText).join(', ') || 'no Service backend'}`;
  const wrong = match.backends.filter((b) => b.service !== e.service || (e.port !== undefined && b.port !== undefined && b.port !== e.port));
  if (match.backends.length === 0) return { found, problem: `${where} routes ${e.host}${e.path} to no Service` };
  if (wrong.length) return { found, problem: `${where} routes ${e.host}${e.path} to ${wrong.map(backendText).join(', ')}, not Service ${e.service}${e.port !== undefined ? `:${e.port}` : ''}` };
  return { found };
}

export function createEntryPointChecker(options: EntryPointCheckerOptions): EntryPointPort {
  const smoke = createSmokeRunner({ ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}), stepTimeoutMs: options.stepTimeoutMs ?? 10_000 });
  return {
    async check(input: EntryPointInput, signal: AbortSignal): Promise<EntryPointResult> {
      const e = input.entryPoint;
      let object: RouteObject;
      try {
        object = await options.readRoute(e.kind, e.namespace, e.name);
      } catch (err) {
        if (err instanceof NotFoundError) {
          return { status: 'failed', found: `no ${e.kind} ${e.namespace}/${e.name} in the cluster`, detail: `the entry point ${e.kind} ${e.namespace}/${e.name} does not exist: create it (entryPoint in the spec names it)` };
        }
        return { status: 'not_run', found: 'the route could not be read', detail: `could not read ${e.kind} ${e.namespace}/${e.name}: ${(err as Error).message}` };
      }
      const route = routeProblem(object, input);
      if (route.problem) return { status: 'failed', found: route.found, detail: route.problem };
      const step = e.healthStep;
      const expectJson = { ...step.expect.json, ...(e.releaseField ? { [e.releaseField]: input.release } : {}) };
      const result = await smoke.run(
        {
          suite: { name: 'entry point', steps: [{ ...step, headers: { ...step.headers, host: e.host }, expect: { ...step.expect, json: expectJson } }] },
          baseUrl: e.url,
          secrets: {},
          release: input.release,
        },
        { heartbeat: () => undefined, signal },
      );
      const answer = result.steps[0]!;
      const request = `${step.method} ${e.url}${step.path} with Host: ${e.host} → ${answer.status ?? 'no answer'} in ${answer.latencyMs}ms`;
      if (!answer.ok) return { status: 'failed', found: route.found, request, detail: `${step.name} through ${e.host}: ${answer.detail}` };
      const release = e.releaseField ? ` answered as ${input.release} (${e.releaseField})` : ' answered (no entryPoint.releaseField: which release answered is not checked)';
      return { status: 'passed', found: route.found, request, detail: `${e.host}${e.path} routes to Service ${e.service}; ${step.name}${release}` };
    },
  };
}
