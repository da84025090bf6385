/**
 * Makes a kwok cluster's fake pods real for the demo and the end-to-end tests. kwok gives pods a
 * Running/Ready status but runs nothing; this runner plays the parts a real node and cluster add:
 * - kubelet: for every Ready pod of the selector, a real process of the service (the version
 *   taken from the pod's image tag, the pod's container env passed through), stopped when the
 *   pod goes away;
 * - Service: a round-robin proxy over the processes that answer their health check, so traffic
 *   really splits between old and new pods during a rollout;
 * - cAdvisor and kube-state-metrics: one /metrics endpoint with each process's own metrics
 *   labelled by pod, container memory/CPU read from /proc, memory limits from the pod spec, and
 *   the Deployment's available replicas — so the seed's four alert rules have real series.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { freePort } from './ports';

export interface PodRunnerOptions {
  kubeconfigPath: string;
  namespace: string;
  deployment: string;
  /** Label selector of the Deployment's pods, e.g. "app=user-management". */
  selector: string;
  /** The container whose command, image and env define the process. */
  container: string;
  /**
   * Directory the container's command runs in: the "image" is this checkout (its compiled
   * dist/), so `node dist/examples/user-management/src/main.js` runs as written in the manifest.
   */
  cwd: string;
  /** Environment added under the pod's own (its env values and secretKeyRefs are resolved). */
  env?: Record<string, string>;
  /**
   * Cluster DNS for the pods' env: a Service's address as the manifests name it
   * ("user-management.production:8080") → the local URL serving it (another runner's serviceUrl).
   * A URL in an env value that names one is rewritten; any other host is left as written (and,
   * like a Service that does not exist, does not resolve).
   */
  services?: Record<string, string>;
  /**
   * Also play the kubelet for Job pods in the namespace (migrations): run the command, write its
   * log, and set the `shipwatch.dev/exit-code` annotation that completes the pod in kwok.
   */
  jobs?: boolean;
  /** Port of the Service proxy (0: a free one). */
  servicePort?: number;
  /** Port of the metrics endpoint (0: a free one). */
  metricsPort?: number;
  /** Where each pod's process writes its log (`<dir>/<pod>.log`), e.g. the files kwok serves as pod logs. */
  logDir?: string;
  pollMs?: number;
  healthPath?: string;
  onEvent?: (text: string) => void;
}

interface PodProcess {
  pod: string;
  version: string;
  port: number;
  child: ChildProcess;
  ready: boolean;
  memoryLimitBytes?: number;
  /** Requests the Service forwarded to it that have not finished yet. */
  inFlight: number;
}

export interface PodRunner {
  serviceUrl: string;
  metricsUrl: string;
  /** Pods with a running process, and whether each answers its health check. */
  pods(): { pod: string; version: string; port: number; ready: boolean }[];
  stop(): Promise<void>;
}

export async function startPodRunner(options: PodRunnerOptions): Promise<PodRunner> {
  const kc = new KubeConfig();
  kc.loadFromFile(options.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const processes = new Map<string, PodProcess>();
  const healthPath = options.healthPath ?? '/health';
  const say = options.onEvent ?? (() => undefined);
  let stopped = false;
  let roundRobin = 0;

  /** The container's env as the kubelet would give it: values and secretKeyRefs resolved. */
  const containerEnv = async (container: V1Container): Promise<Record<string, string>> => {
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      const ref = e.valueFrom?.secretKeyRef;
      if (ref?.name && ref.key) {
        const secret = await core.readNamespacedSecret({ name: ref.name, namespace: options.namespace }).catch(() => undefined);
        const data = secret?.data?.[ref.key];
        if (data !== undefined) env[e.name] = Buffer.from(data, 'base64').toString('utf8');
        else if (!ref.optional) say(`pod: secret ${ref.name}/${ref.key} for ${e.name} not found`);
      }
    }
    return env;
  };

  /**
   * Points kwok's `kubectl logs` for the pod at its log file, as soon as the pod is scheduled (a
   * kubelet has a log from the container's start, so a log scan right after Ready finds one).
   */
  const registered = new Map<string, string>();
  const registerLogs = async (pod: V1Pod, containerName: string): Promise<string> => {
    const name = pod.metadata!.name!;
    const known = registered.get(name);
    if (known) return known;
    mkdirSync(options.logDir!, { recursive: true });
    const logsFile = join(options.logDir!, `${options.namespace}_${name}_${containerName}.log`);
    writeFileSync(logsFile, '', { flag: 'a' });
    registered.set(name, logsFile);
    await custom
      .createNamespacedCustomObject({
        group: 'kwok.x-k8s.io',
        version: 'v1alpha1',
        namespace: options.namespace,
        plural: 'logs',
        body: {
          apiVersion: 'kwok.x-k8s.io/v1alpha1',
          kind: 'Logs',
          metadata: { name, namespace: options.namespace },
          spec: { logs: [{ containers: [containerName], logsFile, follow: true }] },
        },
      })
      .catch((err: Error) => say(`pod ${name}: could not register its log file with kwok: ${err.message}`));
    return logsFile;
  };

  const spawnContainer = async (pod: V1Pod, extra: Record<string, string>) => {
    const name = pod.metadata!.name!;
    const container = pod.spec!.containers.find((c) => c.name === options.container) ?? pod.spec!.containers[0]!;
    const image = container.image ?? '';
    const podEnv = resolveServiceUrls(await containerEnv(container), options.services ?? {});
    const version = podEnv.VERSION ?? (image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : 'latest');
    const [command, ...args] = [...(container.command ?? []), ...(container.args ?? [])];
    if (!command) throw new Error(`pod ${name}: container ${container.name} has no command to run`);
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, ...podEnv, VERSION: version, POD_NAME: name, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.on('error', (err) => say(`pod ${name}: ${err.message}`));
    // Its exit, observed from the spawn on: a command that fails at once (a bad flag) exits before
    // the log file below is registered, and a listener added after that would wait forever.
    const exited = new Promise<number>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('close', (c) => resolve(c ?? 1));
    });
    // The container log, in the CRI format kwok serves to `kubectl logs` (and the log scan) once a
    // kwok `Logs` object names the file.
    const log = options.logDir ? createWriteStream(await registerLogs(pod, container.name), { flags: 'a' }) : undefined;
    const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) log?.write(`${criLine(stream, line)}\n`);
    };
    child.stdout.on('data', collect('stdout'));
    child.stderr.on('data', collect('stderr'));
    child.once('close', () => log?.end());
    return { name, container, version, child, exited };
  };

  const startProcess = async (pod: V1Pod) => {
    const port = await freePort();
    const { name, container, version, child } = await spawnContainer(pod, { PORT: String(port), HOST: '127.0.0.1' });
    const entry: PodProcess = { pod: name, version, port, child, ready: false, inFlight: 0, memoryLimitBytes: parseQuantity(container.resources?.limits?.memory) };
    processes.set(name, entry);
    child.once('exit', () => {
      entry.ready = false;
      if (processes.get(name) === entry) processes.delete(name);
    });
    say(`pod ${name}: started ${version} on 127.0.0.1:${port}`);
    // kwok marked the pod Ready before this process existed: let the Service use it as soon as it
    // answers, not at the reconcile loop's next pass (a probe held meanwhile could time out).
    void (async () => {
      for (const until = Date.now() + 10_000; !stopped && processes.get(name) === entry && !entry.ready && Date.now() < until; ) {
        if (await healthy(port, healthPath)) entry.ready = processes.get(name) === entry;
        else await new Promise((r) => setTimeout(r, 25));
      }
    })();
  };

  const jobsRun = new Set<string>();
  /** Job pods whose process runs, and those whose pod was deleted under it (the process killed). */
  const jobProcesses = new Map<string, ChildProcess>();
  const jobsKilled = new Set<string>();
  const runJobPod = async (pod: V1Pod) => {
    const { name, child, exited } = await spawnContainer(pod, {});
    jobProcesses.set(name, child);
    say(`job pod ${name}: running ${pod.spec!.containers[0]?.command?.join(' ') ?? ''}`);
    const code = await exited;
    jobProcesses.delete(name);
    say(`job pod ${name}: exited ${code}`);
    if (jobsKilled.has(name)) return; // the pod is gone: nothing to complete
    await core
      .patchNamespacedPod(
        { name, namespace: options.namespace, body: { metadata: { annotations: { [EXIT_CODE_ANNOTATION]: String(code) } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .catch((err: Error) => say(`job pod ${name}: could not set its exit code: ${err.message}`));
  };

  const reconcileJobs = async () => {
    const list = await core.listNamespacedPod({ namespace: options.namespace, labelSelector: 'batch.kubernetes.io/job-name' });
    // A deleted Job pod's container is stopped, as the kubelet does (a rollback stopping a
    // migration Job must stop the migration, not only the Kubernetes objects).
    const present = new Set(list.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name));
    for (const [name, child] of jobProcesses) {
      if (present.has(name)) continue;
      jobsKilled.add(name);
      child.kill('SIGTERM');
      say(`job pod ${name}: deleted, its process stopped`);
    }
    for (const pod of list.items) {
      const name = pod.metadata?.name;
      if (!name || jobsRun.has(name) || pod.metadata?.deletionTimestamp) continue;
      if (pod.metadata?.annotations?.[EXIT_CODE_ANNOTATION] !== undefined) continue;
      if (pod.status?.phase !== 'Running' && pod.status?.phase !== 'Pending') continue;
      if (!pod.spec?.nodeName) continue;
      jobsRun.add(name);
      void runJobPod(pod).catch((err: Error) => say(`job pod ${name}: ${err.message}`));
    }
  };

  /** Ready and not terminating: what the endpoints controller puts behind the Service. */
  const routable = (pod: V1Pod): boolean =>
    !pod.metadata?.deletionTimestamp && pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

  // Like a kubelet behind a Service with a preStop hook: the pod leaves the Service at once, and its
  // process is stopped once the requests already forwarded to it have finished (at most 2 s).
  const stopProcess = (entry: PodProcess) => {
    entry.ready = false;
    processes.delete(entry.pod);
    const deadline = Date.now() + 2_000;
    const stop = () => {
      if (entry.inFlight > 0 && Date.now() < deadline) {
        setTimeout(stop, 25);
        return;
      }
      entry.child.kill('SIGTERM');
      say(`pod ${entry.pod}: stopped`);
    };
    stop();
  };

  const reconcile = async () => {
    const list = await core.listNamespacedPod({ namespace: options.namespace, labelSelector: options.selector });
    const live = new Set<string>();
    const toStart: V1Pod[] = [];
    for (const pod of list.items) {
      const name = pod.metadata?.name;
      if (!name) continue;
      if (options.logDir && pod.spec?.nodeName) {
        const container = pod.spec.containers.find((c) => c.name === options.container) ?? pod.spec.containers[0]!;
        await registerLogs(pod, container.name);
      }
      if (routable(pod)) {
        live.add(name);
        if (!processes.has(name)) toStart.push(pod);
      }
    }
    // Pods going away leave the Service first (the endpoints controller drops a terminating pod at
    // once); starting the new ones takes API calls, and a rollback's smoke must not meet the old ones.
    for (const entry of [...processes.values()]) if (!live.has(entry.pod)) stopProcess(entry);
    for (const pod of toStart) await startProcess(pod);
    if (options.jobs) await reconcileJobs();
    await Promise.all(
      [...processes.values()].map(async (entry) => {
        entry.ready = await healthy(entry.port, healthPath);
      }),
    );
  };

  let loop: Promise<void> = Promise.resolve();
  const tick = async () => {
    while (!stopped) {
      await reconcile().catch((err: Error) => say(`pod runner: ${err.message}`));
      await new Promise((r) => setTimeout(r, options.pollMs ?? 300));
    }
  };
  loop = tick();

  // Routing as kube-proxy does, from the cluster's view rather than from the reconcile loop's: a
  // request goes only to a pod that the latest pod list (read every 100 ms by a loop of its own)
  // shows Ready and not terminating. The reconcile loop stops a deleted pod's process only on its
  // next pass, after starting the new ones; on a busy machine that took long enough for a
  // rollback's smoke suite, sent once the Service's endpoints held only the old pods, to meet a bad
  // pod still running.
  let routableNames: Set<string> | undefined;
  const refreshRoutable = async (): Promise<void> => {
    while (!stopped) {
      const list = await core.listNamespacedPod({ namespace: options.namespace, labelSelector: options.selector }).catch(() => undefined);
      if (list) routableNames = new Set(list.items.filter(routable).map((p) => p.metadata?.name ?? ''));
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const routing = refreshRoutable();

  // The Service: round robin over the routable processes that answer their health check (before the
  // first pod list, every process that answers).
  // kwok marks a pod Ready without a process behind it; a real readiness probe would not. So when
  // no process answers yet (the first seconds after a rollout or rollback), hold the request up to
  // 10 s for one to come up instead of failing it, as traffic behind real readiness gates would.
  const readyProcess = async (): Promise<PodProcess | undefined> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ready = [...processes.values()].filter((p) => p.ready && (!routableNames || routableNames.has(p.pod)));
      if (ready.length) return ready[roundRobin++ % ready.length];
      if (Date.now() > deadline || stopped) return undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const service = createServer((req, res) => {
    req.pause();
    void readyProcess().then((target) => {
      if (!target) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('no ready pods behind the service\n');
        return;
      }
      forward(req, res, target);
    });
  });

  const forward = (req: IncomingMessage, res: ServerResponse, target: PodProcess) => {
    target.inFlight++;
    res.once('close', () => target.inFlight--);
    const upstream = request(
      { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, { ...up.headers, 'x-served-by-pod': target.pod });
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`pod ${target.pod} failed: ${err.message}\n`);
    });
    req.pipe(upstream);
    req.resume();
  };

  // cAdvisor + kube-state-metrics + the pods' own metrics, labelled by pod.
  const metrics = createServer((req, res) => {
    void collectMetrics()
      .then((text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text))
      .catch((err: Error) => res.writeHead(500).end(err.message));
  });

  const collectMetrics = async (): Promise<string> => {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const entry of processes.values()) {
      const text = await fetchText(entry.port, '/metrics').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line) continue;
        if (line.startsWith('#')) {
          if (!seen.has(line)) {
            seen.add(line);
            out.push(line);
          }
          continue;
        }
        out.push(addLabel(line, 'pod', entry.pod));
      }
    }
    const ns = options.namespace;
    out.push('# TYPE container_memory_usage_bytes gauge', '# TYPE container_spec_memory_limit_bytes gauge', '# TYPE container_cpu_usage_seconds_total counter');
    for (const entry of processes.values()) {
      const labels = `namespace="${ns}",pod="${entry.pod}",container="${options.container}"`;
      const usage = procUsage(entry.child.pid);
      if (usage) {
        out.push(`container_memory_usage_bytes{${labels}} ${usage.rssBytes}`);
        out.push(`container_cpu_usage_seconds_total{${labels}} ${usage.cpuSeconds}`);
      }
      if (entry.memoryLimitBytes) out.push(`container_spec_memory_limit_bytes{${labels}} ${entry.memoryLimitBytes}`);
    }
    const deployment = await apps.readNamespacedDeployment({ name: options.deployment, namespace: ns }).catch(() => undefined);
    if (deployment) {
      const s = deployment.status ?? {};
      const labels = `namespace="${ns}",deployment="${options.deployment}"`;
      out.push(
        '# TYPE kube_deployment_status_replicas_available gauge',
        `kube_deployment_status_replicas_available{${labels}} ${s.availableReplicas ?? 0}`,
        '# TYPE kube_deployment_spec_replicas gauge',
        `kube_deployment_spec_replicas{${labels}} ${deployment.spec?.replicas ?? 0}`,
      );
    }
    return `${out.join('\n')}\n`;
  };

  const servicePort = await listen(service, options.servicePort ?? 0);
  const metricsPort = await listen(metrics, options.metricsPort ?? 0);

  return {
    serviceUrl: `http://127.0.0.1:${servicePort}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    pods: () => [...processes.values()].map(({ pod, version, port, ready }) => ({ pod, version, port, ready })),
    async stop() {
      stopped = true;
      await loop;
      await routing;
      for (const entry of [...processes.values()]) stopProcess(entry);
      for (const child of jobProcesses.values()) child.kill('SIGTERM');
      service.closeAllConnections();
      metrics.closeAllConnections();
      await Promise.all([new Promise((r) => service.close(r)), new Promise((r) => metrics.close(r))]);
    },
  };
}

/** Set on a Job's pod when its command has exited; kwok's stages complete the pod on it. */
export const EXIT_CODE_ANNOTATION = 'shipwatch.dev/exit-code';

/** One line of a container log in the CRI format kwok serves (`<time> <stream> F <text>`). */
export function criLine(stream: 'stdout' | 'stderr', text: string, at = new Date()): string {
  return `${at.toISOString()} ${stream} F ${text}`;
}

/**
 * The pods' env with in-cluster Service URLs replaced by the local URLs serving them:
 * `http://user-management.production:8080/x` → `http://127.0.0.1:41234/x` for the key
 * "user-management.production:8080". Hosts not in `services` stay as written.
 */
export function resolveServiceUrls(env: Record<string, string>, services: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    out[name] = value.replace(/\b(https?):\/\/([^/\s]+)/g, (whole, _scheme: string, host: string) => {
      const local = services[host];
      return local ? local.replace(/\/+$/, '') : whole;
    });
  }
  return out;
}

/** Puts a label into one exposition-format sample line. */
export function addLabel(line: string, name: string, value: string): string {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (brace !== -1 && (space === -1 || brace < space)) {
    const inner = line.slice(brace + 1, line.indexOf('}'));
    const rest = line.slice(line.indexOf('}'));
    return `${line.slice(0, brace)}{${name}="${value}"${inner ? `,${inner}` : ''}${rest}`;
  }
  return `${line.slice(0, space)}{${name}="${value}"}${line.slice(space)}`;
}

/** Kubernetes quantities for memory ("256Mi", "1G", "512000"). */
export function parseQuantity(q: string | undefined): number | undefined {
  if (!q) return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T|k)?$/.exec(q.trim());
  if (!m) return undefined;
  const factor: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(Number(m[1]) * (m[2] ? factor[m[2]]! : 1));
}

function procUsage(pid: number | undefined): { rssBytes: number; cpuSeconds: number } | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    return { rssBytes: rssKb * 1024, cpuSeconds: ticks / 100 };
  } catch {
    return undefined;
  }
}

function fetchText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function healthy(port: number, path: string): Promise<boolean> {
  return fetchText(port, path).then(
    () => true,
    () => false,
  );
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

