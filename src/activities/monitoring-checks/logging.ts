/**
 * Logging: the new pods' logs are readable through the Kubernetes API (what the log scan reads),
 * and, where the spec names a log pipeline, its filebeat config is in the cluster and ships this
 * service's container logs somewhere.
 */
import { parse } from 'yaml';
import type { LogPipelineRef, MonitoringCheckResult } from '../../model';
import { filebeatConfig } from '../../monitoring';
import type { DeploySpec } from '../../spec/types';
import type { KubeClients } from '../kubernetes/api';
import { apiMessage } from '../kubernetes/api';
import type { MonitoringCheckInput } from '../types';
import { result } from './context';
import type { MonitoringChecksOptions } from './context';
import { newReleasePods, podName } from './pods';

interface FilebeatConfig {
  'filebeat.inputs'?: { paths?: string[] }[];
  [key: string]: unknown;
}

/** Turns a filebeat glob into a RegExp (`*` any run of characters but "/"). */
function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
}

/** What is wrong with an installed filebeat.yml for this service; empty when it ships the service's logs. */
export function filebeatProblems(spec: DeploySpec, installedYaml: string): string[] {
  let installed: FilebeatConfig;
  try {
    installed = (parse(installedYaml) ?? {}) as FilebeatConfig;
  } catch (err) {
    return [`it is not YAML: ${err instanceof Error ? err.message : String(err)}`];
  }
  const wanted = ((parse(filebeatConfig(spec)) as FilebeatConfig)['filebeat.inputs'] ?? []).flatMap((i) => i.paths ?? []);
  // A pod log file of the service, as the kubelet names it: <pod>_<namespace>_<container>-<id>.log.
  const sample = `/var/log/containers/${spec.kubernetes.deployment}-7d9f8-abcde_${spec.namespace}_${spec.kubernetes.container}-0123456789ab.log`;
  const paths = (installed['filebeat.inputs'] ?? []).flatMap((i) => i.paths ?? []);
  const problems: string[] = [];
  if (!paths.some((p) => wanted.includes(p) || globToRegExp(p).test(sample))) {
    problems.push(`no filebeat input reads the service's container logs (expected a path like ${wanted[0] ?? sample}; found ${paths.length ? paths.join(', ') : 'none'})`);
  }
  if (!Object.keys(installed).some((k) => k.startsWith('output.'))) problems.push('no output.* section: the logs go nowhere');
  return problems;
}

async function pipelineFound(c: KubeClients, spec: DeploySpec, ref: LogPipelineRef): Promise<{ ok: boolean; line: string }> {
  const where = `configmap ${ref.namespace}/${ref.configMap}`;
  let data: Record<string, string> | undefined;
  try {
    data = (await c.core.readNamespacedConfigMap({ name: ref.configMap, namespace: ref.namespace })).data;
  } catch (err) {
    return { ok: false, line: `log pipeline: cannot read ${where}: ${apiMessage(err)}` };
  }
  const text = data?.[ref.key];
  if (text === undefined) return { ok: false, line: `log pipeline: ${where} has no key ${ref.key}` };
  const problems = filebeatProblems(spec, text);
  return problems.length ? { ok: false, line: `log pipeline: ${where} (${ref.key}): ${problems.join('; ')}` } : { ok: true, line: `log pipeline: ${where} ships the service's container logs` };
}

export async function logging(input: MonitoringCheckInput, options: MonitoringChecksOptions): Promise<MonitoringCheckResult> {
  const { spec, settings } = input;
  const pipeline = settings.logPipeline;
  const checked = `the logs of the pods running ${spec.image} (container ${spec.kubernetes.container})${pipeline ? ` and the filebeat config in configmap ${pipeline.namespace}/${pipeline.configMap}` : ''}`;
  const pods = await newReleasePods(spec, options);
  if (!pods.ok) return result('logging', checked, { status: 'not_run', detail: pods.why });
  if (pods.pods.length === 0) return result('logging', checked, { status: 'failed', detail: `no pod runs ${spec.image}: no log of the new release to read` });
  const found: string[] = [];
  const unreadable: string[] = [];
  for (const pod of pods.pods) {
    const name = podName(pod);
    try {
      const text = await pods.clients.core.readNamespacedPodLog({ name, namespace: spec.namespace, container: spec.kubernetes.container, tailLines: 20 });
      const lines = String(text ?? '').split('\n').filter(Boolean).length;
      found.push(`pod ${name}: log readable (${lines} of the last 20 lines)`);
    } catch (err) {
      unreadable.push(name);
      found.push(`pod ${name}: log NOT readable: ${apiMessage(err)}`);
    }
  }
  const pipe = pipeline ? await pipelineFound(pods.clients, spec, pipeline) : undefined;
  found.push(pipe?.line ?? 'log pipeline: none named in the spec (monitoring.logPipeline), so only the pod logs were checked');
  if (unreadable.length) return result('logging', checked, { status: 'failed', detail: `the logs of ${unreadable.join(', ')} cannot be read: the log scan and log shipping see nothing of them`, found });
  if (pipe && !pipe.ok) return result('logging', checked, { status: 'failed', detail: pipe.line, found });
  return result('logging', checked, { status: 'passed', detail: `the logs of all ${pods.pods.length} new pods are readable${pipe ? ' and the log pipeline ships them' : ''}`, found });
}
