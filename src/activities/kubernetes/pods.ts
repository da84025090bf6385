/**
 * The pods of a Deployment: verification (image, Ready, restarts — naming the wrong pod), the log
 * scan for error lines after a rollout, and command execution inside a pod (pg_dump for backups).
 */
import { Exec } from '@kubernetes/client-node';
import type { V1Pod, V1Status } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { InvalidInputError } from '../errors';
import type { PodExec } from '../database';
import type { LogScanResult, PodCheck, PodVerification } from '../../model';
import type { LogScanInput, VerifyPodsInput } from '../types';
import type { KubeClients } from './api';
import { KubernetesApiError, kube, mapApiError } from './api';
import { isReady, readDeployment, selectorPods } from './snapshot';

function live(pods: V1Pod[]): V1Pod[] {
  return pods.filter((p) => !p.metadata?.deletionTimestamp);
}

function containerImage(pod: V1Pod, container: string): string {
  return pod.spec?.containers?.find((c) => c.name === container)?.image ?? '';
}

export function checkPod(pod: V1Pod, input: VerifyPodsInput): PodCheck {
  const name = pod.metadata?.name ?? '?';
  const image = containerImage(pod, input.container);
  const status = pod.status?.containerStatuses?.find((c) => c.name === input.container);
  const restarts = status?.restartCount ?? 0;
  const ready = isReady(pod);
  const phase = pod.status?.phase ?? 'Unknown';
  const problems: string[] = [];
  if (image !== input.image) problems.push(`runs ${image || 'no such container'}, expected ${input.image}`);
  if (!ready) {
    const why = status?.state?.waiting?.reason ?? status?.state?.terminated?.reason ?? phase;
    problems.push(`not Ready (${why})`);
  }
  if (restarts > input.maxRestarts) problems.push(`restarted ${restarts} times (max ${input.maxRestarts})`);
  return { name, image, ready, phase, restarts, ...(problems.length ? { problem: problems.join('; ') } : {}) };
}

export async function verifyPods(c: KubeClients, input: VerifyPodsInput): Promise<PodVerification> {
  const d = await readDeployment(c, input);
  const expected = d.spec?.replicas ?? 1;
  const pods = live(await selectorPods(c, d)).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const checks = pods.map((p) => checkPod(p, input));
  const bad = checks.filter((p) => p.problem);
  const good = checks.length - bad.length;
  const countProblem = checks.length !== expected ? `${checks.length} pods found, ${expected} expected` : '';
  const ok = bad.length === 0 && !countProblem;
  const summary = ok
    ? `${good}/${expected} pods running ${input.image}, Ready, restarts within ${input.maxRestarts}`
    : [countProblem, ...bad.map((p) => `pod ${p.name}: ${p.problem}`)].filter(Boolean).join('; ');
  return { ok, expected, pods: checks, summary };
}

/** Turns the spec's patterns into one case-sensitive matcher ("ERROR", "FATAL", "panic" by default). */
function matcher(patterns: string[]): RegExp {
  try {
    return new RegExp(patterns.map((p) => `(?:${p})`).join('|'));
  } catch (err) {
    throw new InvalidInputError(`invalid log error pattern: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function scanLogs(c: KubeClients, input: LogScanInput, tailLines = 2000): Promise<LogScanResult> {
  const re = matcher(input.patterns);
  const d = await readDeployment(c, input);
  const pods = live(await selectorPods(c, d)).filter((p) => containerImage(p, input.container) === input.image);
  const errorLines: LogScanResult['errorLines'] = [];
  const waited: NonNullable<LogScanResult['waited']> = [];
  for (const pod of pods) {
    const name = pod.metadata!.name!;
    const read = await readLogWhenThere(c, { name, namespace: input.namespace, container: input.container, tailLines });
    if (read.waited) waited.push({ pod: name, ...read.waited });
    for (const line of read.text.split('\n')) {
      if (line && re.test(line)) errorLines.push({ pod: name, line: line.slice(0, 500) });
    }
  }
  return { podsScanned: pods.length, errorLines, ...(waited.length ? { waited } : {}) };
}

/** How long the log scan waits for a started container's log to be readable. */
export const LOG_READY_TIMEOUT_MS = 30_000;

/** A log read refused because the log is not there yet (container starting, log file not written), as the API words it. */
function logNotThereYet(message: string): boolean {
  return /no logs? (found|available)|waiting to start|ContainerCreating|PodInitializing|container .* is not (valid|running)|previous terminated container .* not found/i.test(message);
}

/**
 * Reads one container's log; a log that is not there yet (the kubelet writes it after the
 * container starts) is read again, bounded by LOG_READY_TIMEOUT_MS, and the wait is returned so
 * the timeline can say it. After the bound, the API's own error is thrown, as before.
 */
async function readLogWhenThere(c: KubeClients, r: { name: string; namespace: string; container: string; tailLines: number }): Promise<{ text: string; waited?: { ms: number; why: string } }> {
  const started = Date.now();
  let why = '';
  for (;;) {
    try {
      const text = await kube(`read the log of pod ${r.name} (container ${r.container}) in namespace ${r.namespace}`, () =>
        c.core.readNamespacedPodLog({ name: r.name, namespace: r.namespace, container: r.container, tailLines: r.tailLines }),
      );
      return { text: String(text ?? ''), ...(why ? { waited: { ms: Date.now() - started, why } } : {}) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!logNotThereYet(message) || Date.now() - started >= LOG_READY_TIMEOUT_MS) throw err;
      why = message.slice(0, 200);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** The last `limit` characters of every log of the pods matching `labelSelector`. */
export async function podLogs(c: KubeClients, namespace: string, labelSelector: string, limit = 8000): Promise<string> {
  const pods = await kube(`list pods ${labelSelector} in namespace ${namespace}`, () => c.core.listNamespacedPod({ namespace, labelSelector }));
  const parts: string[] = [];
  for (const pod of pods.items) {
    const name = pod.metadata!.name!;
    try {
      const text = await c.core.readNamespacedPodLog({ name, namespace });
      parts.push(String(text ?? ''));
    } catch (err) {
      parts.push(`(log of pod ${name} unavailable: ${mapApiError('read pod log', err).message})`);
    }
  }
  const all = parts.join('\n');
  return all.length > limit ? all.slice(all.length - limit) : all;
}

/** Runs a command in a pod through the exec API; stdout streams to the caller, stderr is kept for the error. */
export function createPodExec(c: KubeClients): PodExec {
  const exec = new Exec(c.kc);
  return async ({ namespace, pod, command, stdout, signal }) => {
    let stderr = '';
    const errStream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (stderr.length < 8000) stderr += chunk.toString('utf8');
        cb();
      },
    });
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      exec
        .exec(namespace, pod, '', command, stdout, errStream, null, false, (status: V1Status) => {
          if (status.status === 'Success') finish();
          else finish(new KubernetesApiError(`command ${command[0]} in pod ${pod} failed: ${status.message ?? status.reason ?? 'unknown'}${stderr ? `: ${stderr.trim()}` : ''}`));
        })
        .then((opened: unknown) => {
          // The ws WebSocket (its types are not a dependency of ours): close and 'close' are all we use.
          const ws = opened as { close(): void; on(event: 'close', fn: () => void): void };
          signal.addEventListener('abort', () => {
            ws.close();
            finish(signal.reason instanceof Error ? signal.reason : new Error('exec cancelled'));
          }, { once: true });
          ws.on('close', () => setTimeout(() => finish(new KubernetesApiError(`exec in pod ${pod} closed without a status${stderr ? `: ${stderr.trim()}` : ''}`)), 100));
        })
        .catch((err: unknown) => finish(mapApiError(`exec ${command[0]} in pod ${pod} in namespace ${namespace}`, err)));
    });
  };
}
