/**
 * `shipwatch monitoring render` and `--apply`: writes the monitoring files generated from a deploy
 * spec, and creates or updates its ServiceMonitor and PrometheusRule in the cluster.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { applyMonitoringObjects, MissingCrdError } from '../activities/monitoring-checks/apply';
import type { AppliedObject } from '../activities/monitoring-checks/apply';
import type { CommandContext } from '../cli/context';
import { ExitCode, ExitError } from '../cli/errors';
import { loadSpecOrExit } from '../cli/spec';
import { monitoringFiles } from '../monitoring';
import { loadSpecFile } from '../spec/load';
import type { DeploySpec } from '../spec/types';

export { MONITORING_CRDS, MissingCrdError, MonitoringApplyError } from '../activities/monitoring-checks/apply';
export type { AppliedObject } from '../activities/monitoring-checks/apply';

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

export interface ApplyResult {
  applied: AppliedObject[];
}

function kubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** Server-side applies the ServiceMonitor and PrometheusRule (field manager "shipwatch"). */
export async function applyMonitoring(options: ApplyOptions): Promise<ApplyResult> {
  const spec = await specOf(options);
  return { applied: await applyMonitoringObjects(kubeConfig(options.kubeconfig), spec) };
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
