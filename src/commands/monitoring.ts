/**
 * `shipwatch monitoring render` and `--apply`: writes the monitoring files generated from a deploy
 * spec, and creates or updates its ServiceMonitor and PrometheusRule in the cluster.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ApiextensionsV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { apiMessage, statusOf } from '../activities/kubernetes/api';
import type { CommandContext } from '../cli/context';
import { ExitCode, ExitError } from '../cli/errors';
import { loadSpecOrExit } from '../cli/spec';
import { monitoredService, monitoringFiles, prometheusRule, serviceMonitor } from '../monitoring';
import { loadSpecFile } from '../spec/load';
import type { DeploySpec } from '../spec/types';

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

/** A deploy spec already loaded, or the path of its file. */
export type SpecSource = { spec: DeploySpec } | { specFile: string };

async function specOf(source: SpecSource): Promise<DeploySpec> {
  return 'spec' in source ? source.spec : loadSpecFile(source.specFile);
}

export type RenderOptions = SpecSource & { outDir: string };

export interface RenderResult {
  /** Paths of the files written, in a stable order. */
  files: string[];
  /** One line per file on what it is for. */
  about: Record<string, string>;
}

export async function renderMonitoring(options: RenderOptions): Promise<RenderResult> {
  const spec = await specOf(options);
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  const about: Record<string, string> = {};
  for (const file of monitoringFiles(spec)) {
    const path = join(outDir, file.name);
    await writeFile(path, file.content);
    files.push(path);
    about[path] = file.about;
  }
  return { files, about };
}

export type ApplyOptions = SpecSource & {
  /** Path of a kubeconfig; default: KUBECONFIG or ~/.kube/config, as kubectl does. */
  kubeconfig?: string;
};

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
      const status = statusOf(err);
      if (status === 404) missing.push(name);
      // 403: not allowed to read CRDs; the apply below tells whether the kinds exist.
      else if (status !== 403) throw err;
    }
  }
  return missing;
}

/** Server-side applies the ServiceMonitor and PrometheusRule (field manager "shipwatch"). */
export async function applyMonitoring(options: ApplyOptions): Promise<ApplyResult> {
  const spec = await specOf(options);
  const kc = kubeConfig(options.kubeconfig);
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
      const result = await client.patch(object, undefined, undefined, 'shipwatch', true, PatchStrategy.ServerSideApply);
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
  return { applied };
}

export interface MonitoringRenderOptions {
  file: string;
  output: string;
  apply?: boolean;
  json?: boolean;
}

/** `shipwatch monitoring render -f spec.yaml -o dir [--apply]`: loads the spec once, writes the files, applies if asked. */
export async function monitoringRenderCommand(opts: MonitoringRenderOptions, ctx: CommandContext): Promise<number> {
  const spec = await loadSpecOrExit(opts.file);
  const rendered = await renderMonitoring({ spec, outDir: opts.output });
  const applied = opts.apply
    ? await applyMonitoring({ spec }).catch((err: Error) => {
        if (err instanceof MissingCrdError) throw new ExitError(ExitCode.REFUSED, err.message);
        throw err;
      })
    : undefined;
  if (opts.json) ctx.out.data({ ...rendered, ...(applied ? { applied: applied.applied } : {}) });
  else {
    for (const file of rendered.files) ctx.out.line(`wrote ${file} — ${rendered.about[file] ?? ''}`);
    for (const a of applied?.applied ?? []) ctx.out.line(`${a.action} ${a.kind} ${a.namespace}/${a.name}`);
  }
  return ExitCode.OK;
}
