/**
 * Server-side applies the service's ServiceMonitor and PrometheusRule (field manager "shipwatch"),
 * after checking that the cluster has the Prometheus Operator's CRDs. Shared by
 * `shipwatch monitoring render --apply` and the deployment's alerts-configured check.
 */
import { ApiextensionsV1Api, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { monitoredService, prometheusRule, serviceMonitor } from '../../monitoring';
import type { DeploySpec } from '../../spec/types';
import { apiMessage, FIELD_MANAGER, statusOf } from '../kubernetes/api';

/** The Prometheus Operator's CRDs that an apply needs, by resource kind. */
export const MONITORING_CRDS = {
  ServiceMonitor: 'servicemonitors.monitoring.coreos.com',
  PrometheusRule: 'prometheusrules.monitoring.coreos.com',
} as const;

/** The cluster lacks the Prometheus Operator's CRDs: nothing was applied. */
export class MissingCrdError extends Error {
  constructor(readonly missing: string[]) {
    super(
      `the cluster has no ${missing.join(' and ')} CustomResourceDefinition${missing.length > 1 ? 's' : ''}: ` +
        'install the Prometheus Operator (or its CRDs, e.g. deploy/crds/) first, or use the rendered ' +
        'prometheus-alerts.yml with a plain Prometheus. Nothing was applied.',
    );
    this.name = 'MissingCrdError';
  }
}

/** The API server refused an object; `status` is its HTTP status. */
export class MonitoringApplyError extends Error {
  constructor(
    readonly kind: string,
    readonly status: number,
    detail: string,
  ) {
    super(`applying the ${kind} failed (HTTP ${status}): ${detail}`);
    this.name = 'MonitoringApplyError';
  }
}

export interface AppliedObject {
  kind: string;
  namespace: string;
  name: string;
  /** created, or updated when it existed before. */
  action: 'created' | 'updated';
  resourceVersion?: string;
}

/** The Operator CRDs the cluster lacks (none: the kinds exist, or we may not read CRDs and the apply will tell). */
export async function missingCrds(kc: KubeConfig): Promise<string[]> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const missing: string[] = [];
  for (const name of Object.values(MONITORING_CRDS)) {
    try {
      await api.readCustomResourceDefinition({ name });
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) missing.push(name);
      // 403: not allowed to read CRDs; the apply below tells whether the kinds exist.
      else if (status !== 403) throw err;
    }
  }
  return missing;
}

/** Applies the two objects generated from the spec; throws MissingCrdError or MonitoringApplyError. */
export async function applyMonitoringObjects(kc: KubeConfig, spec: DeploySpec): Promise<AppliedObject[]> {
  const missing = await missingCrds(kc);
  if (missing.length) throw new MissingCrdError(missing);
  const client = KubernetesObjectApi.makeApiClient(kc);
  const objects = [serviceMonitor(spec, monitoredService(spec)), prometheusRule(spec)] as unknown as KubernetesObject[];
  const applied: AppliedObject[] = [];
  for (const object of objects) {
    const kind = object.kind!;
    const name = object.metadata!.name!;
    const namespace = object.metadata!.namespace!;
    try {
      const existed = await client
        .read({ apiVersion: object.apiVersion!, kind, metadata: { name, namespace } })
        .then(() => true)
        .catch((err: unknown) => {
          if (statusOf(err) === 404) return false;
          throw err;
        });
      const result = await client.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      applied.push({
        kind,
        namespace,
        name,
        action: existed ? 'updated' : 'created',
        ...(result.metadata?.resourceVersion ? { resourceVersion: result.metadata.resourceVersion } : {}),
      });
    } catch (err) {
      const status = statusOf(err);
      if (status !== undefined) {
        const detail = apiMessage(err);
        // Without CRD read access, a missing kind only shows here, as an unknown resource.
        if (status === 404 && /resource|kind/i.test(detail) && !/namespaces? "/.test(detail)) {
          throw new MissingCrdError([MONITORING_CRDS[kind as keyof typeof MONITORING_CRDS] ?? kind]);
        }
        throw new MonitoringApplyError(kind, status, detail);
      }
      // The client's discovery step names an unknown kind this way before any request is made.
      if (err instanceof Error && /Unrecognized API version and kind/i.test(err.message)) {
        throw new MissingCrdError([MONITORING_CRDS[kind as keyof typeof MONITORING_CRDS] ?? kind]);
      }
      throw err;
    }
  }
  return applied;
}

/** Reads the PrometheusRule back from the cluster: what the Operator hands to Prometheus. */
export async function readPrometheusRule(kc: KubeConfig, spec: DeploySpec): Promise<{ spec?: { groups?: { rules?: { alert?: string; expr?: string; for?: string }[] }[] } }> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  const rule = prometheusRule(spec);
  const object = await client.read({ apiVersion: rule.apiVersion, kind: rule.kind, metadata: { name: rule.metadata.name, namespace: rule.metadata.namespace } });
  return object as unknown as { spec?: { groups?: { rules?: { alert?: string; expr?: string; for?: string }[] }[] } };
}
