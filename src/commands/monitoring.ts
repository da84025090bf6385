/**
 * `shipwatch monitoring render` and `--apply`: writes the monitoring files generated from a deploy
 * spec, and creates or updates its ServiceMonitor and PrometheusRule in the cluster.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ApiException, ApiextensionsV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { loadSpecFile } from '../spec/load';
import type { DeploySpec } from '../spec/types';
import { monitoringFiles, monitoringTarget, prometheusRule, serviceMonitor } from '../monitoring';
import type { MonitoringTarget } from '../monitoring';

/** The Prometheus Operator's CRDs that `--apply` needs, by resource kind. */
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

export interface RenderOptions {
  specFile: string;
  outDir: string;
}

export interface RenderResult {
  /** Paths of the files written, in a stable order. */
  files: string[];
  /** One line per file on what it is for. */
  about: Record<string, string>;
}

/** Reads the spec file and the one setting the resolved spec does not carry: `metrics.selector`. */
async function loadTarget(specFile: string): Promise<{ spec: DeploySpec; target: MonitoringTarget }> {
  const spec = await loadSpecFile(specFile);
  const raw = parseYaml(await readFile(specFile, 'utf8')) as { metrics?: { selector?: unknown } } | null;
  const selector = typeof raw?.metrics?.selector === 'string' ? raw.metrics.selector : undefined;
  return { spec, target: monitoringTarget(spec, selector ? { selector } : {}) };
}

export async function renderMonitoring(options: RenderOptions): Promise<RenderResult> {
  const { spec, target } = await loadTarget(options.specFile);
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  const about: Record<string, string> = {};
  for (const file of monitoringFiles(spec, target)) {
    const path = join(outDir, file.name);
    await writeFile(path, file.content);
    files.push(path);
    about[path] = file.about;
  }
  return { files, about };
}

export interface ApplyOptions {
  specFile: string;
  /** Path of a kubeconfig; default: KUBECONFIG or ~/.kube/config, as kubectl does. */
  kubeconfig?: string;
}

export interface AppliedObject {
  kind: string;
  namespace: string;
  name: string;
  /** created, or updated when it existed before. */
  action: 'created' | 'updated';
  resourceVersion?: string;
}

export interface ApplyResult {
  applied: AppliedObject[];
}

function kubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

async function missingCrds(kc: KubeConfig): Promise<string[]> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const missing: string[] = [];
  for (const name of Object.values(MONITORING_CRDS)) {
    try {
      await api.readCustomResourceDefinition({ name });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) missing.push(name);
      // 403: not allowed to read CRDs; the apply below tells whether the kinds exist.
      else if (!(err instanceof ApiException && err.code === 403)) throw err;
    }
  }
  return missing;
}

function apiDetail(err: ApiException<unknown>): string {
  const body = err.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      return body;
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String((body).message);
  return err.message.split('\n')[0] ?? 'unknown error';
}

/** Server-side applies the ServiceMonitor and PrometheusRule (field manager "shipwatch"). */
export async function applyMonitoring(options: ApplyOptions): Promise<ApplyResult> {
  const { spec, target } = await loadTarget(options.specFile);
  const kc = kubeConfig(options.kubeconfig);
  const missing = await missingCrds(kc);
  if (missing.length) throw new MissingCrdError(missing);

  const client = KubernetesObjectApi.makeApiClient(kc);
  const objects = [serviceMonitor(spec, target), prometheusRule(spec)] as unknown as KubernetesObject[];
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
          if (err instanceof ApiException && err.code === 404) return false;
          throw err;
        });
      const result = await client.patch(object, undefined, undefined, 'shipwatch', true, PatchStrategy.ServerSideApply);
      applied.push({
        kind,
        namespace,
        name,
        action: existed ? 'updated' : 'created',
        ...(result.metadata?.resourceVersion ? { resourceVersion: result.metadata.resourceVersion } : {}),
      });
    } catch (err) {
      if (err instanceof ApiException) {
        const detail = apiDetail(err as ApiException<unknown>);
        // Without CRD read access, a missing kind only shows here, as an unknown resource.
        if (err.code === 404 && /resource|kind/i.test(detail) && !/namespaces? "/.test(detail)) {
          throw new MissingCrdError([MONITORING_CRDS[kind as keyof typeof MONITORING_CRDS] ?? kind]);
        }
        throw new MonitoringApplyError(kind, err.code, detail);
      }
      // The client's discovery step names an unknown kind this way before any request is made.
      if (err instanceof Error && /Unrecognized API version and kind/i.test(err.message)) {
        throw new MissingCrdError([MONITORING_CRDS[kind as keyof typeof MONITORING_CRDS] ?? kind]);
      }
      throw err;
    }
  }
  return { applied };
}
