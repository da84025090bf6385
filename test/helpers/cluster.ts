/**
 * A real local Kubernetes control plane (kwok, tools/cluster.sh) for one test file: `startCluster`
 * in beforeAll brings up a cluster under a name unique to the file, `stop` in afterAll takes it
 * down. Helpers run the pinned kubectl and play the kubelet (pod log files, Job exit codes).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';

const run = promisify(execFile);
const CLUSTER_SH = resolve(__dirname, '../../tools/cluster.sh');

/** The annotation a Job's pod needs before kwok completes it (tools/kwok/job-stages.yaml). */
export const EXIT_CODE_ANNOTATION = 'shipwatch.dev/exit-code';

export interface TestCluster {
  name: string;
  env: Record<string, string>;
  kubeconfigPath: string;
  kc: KubeConfig;
  /** How long `tools/cluster.sh up` took. */
  upMs: number;
  /** Runs the pinned kubectl against the cluster; resolves with stdout. */
  kubectl(...args: string[]): Promise<string>;
  /** kubectl apply -f - with the given YAML/JSON text. */
  apply(text: string): Promise<string>;
  /** Writes a pod's log file (CRI format) and points kwok at it, as a kubelet would hold it. */
  writePodLog(namespace: string, pod: string, lines: string[], container?: string): Promise<void>;
  /** Ends a Job's pod: its log first, then the exit code kwok turns into Succeeded/Failed. */
  finishJobPod(namespace: string, pod: string, exitCode: number, lines: string[]): Promise<void>;
  stop(): Promise<void>;
}

function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** `tools/cluster.sh up <name>`; `name` must be unique per test file (1-40 of [a-z0-9-]). */
export async function startCluster(name: string): Promise<TestCluster> {
  const started = Date.now();
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [CLUSTER_SH, 'up', name], { maxBuffer: 16 << 20, timeout: 15 * 60_000, env: { ...process.env, SHIPWATCH_CLUSTER_FRESH: '1' } }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`tools/cluster.sh up ${name} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
  const upMs = Date.now() - started;
  const env = parseEnv(stdout);
  const kubeconfigPath = env.KUBECONFIG;
  const kubectlPath = env.KUBECTL;
  const logsDir = env.POD_LOGS_DIR;
  if (!kubeconfigPath || !kubectlPath || !logsDir) throw new Error(`tools/cluster.sh up printed no KUBECONFIG/KUBECTL/POD_LOGS_DIR:\n${stdout}`);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);

  const kubectl = async (...args: string[]): Promise<string> => {
    try {
      const { stdout: out } = await run(kubectlPath, ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 16 << 20 });
      return out;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
    }
  };
  const apply = async (text: string): Promise<string> => {
    const file = join(logsDir, `.apply-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return kubectl('apply', '-f', file);
  };
  const writePodLog = async (namespace: string, pod: string, lines: string[], container?: string) => {
    mkdirSync(logsDir, { recursive: true });
    const file = join(logsDir, `${namespace}_${pod}.log`);
    const now = new Date().toISOString();
    writeFileSync(file, lines.map((l) => `${now} stdout F ${l}\n`).join(''));
    await apply(
      JSON.stringify({
        apiVersion: 'kwok.x-k8s.io/v1alpha1',
        kind: 'Logs',
        metadata: { name: pod, namespace },
        spec: { logs: [{ ...(container ? { containers: [container] } : {}), logsFile: file }] },
      }),
    );
  };
  const finishJobPod = async (namespace: string, pod: string, exitCode: number, lines: string[]) => {
    await writePodLog(namespace, pod, lines);
    // kwok loads a Logs object asynchronously: like a kubelet, serve the log before the container exits.
    if (lines.length) {
      await eventually(`kwok to serve the log of pod ${namespace}/${pod}`, async () =>
        (await kubectl('-n', namespace, 'logs', pod).catch(() => '')).trim() ? true : undefined,
      10_000);
    }
    await kubectl('-n', namespace, 'annotate', '--overwrite', `pod/${pod}`, `${EXIT_CODE_ANNOTATION}=${exitCode}`);
  };
  const stop = async () => {
    await run('bash', [CLUSTER_SH, 'down', name], { maxBuffer: 16 << 20, timeout: 120_000 });
  };
  return { name, env, kubeconfigPath, kc, upMs, kubectl, apply, writePodLog, finishJobPod, stop };
}

/** Polls `fn` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
