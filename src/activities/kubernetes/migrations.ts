/**
 * The migration Job (the seed's `kubectl run migration-job … migrate --no-input` + `kubectl wait
 * --for=condition=complete`): created under a deterministic name so a retried activity finds the Job
 * it already started, waited for with heartbeats, its logs collected and its `[X] name` lines parsed.
 * A Job that ran and failed (or ran out of time) is an outcome, not an error: `succeeded: false` with
 * the migrations applied before the failure, the failing one and the log tail, as the fakes answer
 * (test/integration/migration-contract.test.ts keeps both the same). A Job found under the name that
 * belongs to another deployment (its run-ID label or image differ) is never adopted.
 */
import type { V1EnvVar, V1Job } from '@kubernetes/client-node';
import { MigrationFailedError } from '../errors';
import { readHeartbeat } from '../heartbeat';
import type { MigrationHeartbeat } from '../heartbeat';
import { isSecretRef, resolveSecret } from '../secrets';
import type { MigrationResult } from '../../model';
import type { MigrationJobInput, ProgressContext } from '../types';
import type { KubeClients } from './api';
import { sleep, throwIfAborted } from '../abort';
import { kube, mapApiError, statusOf } from './api';
import { podLogs } from './pods';

export const MIGRATION_LABEL = 'shipwatch.dev/migration';
/** The deployment (its first run ID) a migration Job belongs to. */
export const RUN_ID_LABEL = 'shipwatch.dev/run-id';

/** The migration the log shows being applied last without an OK ("Applying users.0003_user_roles..."), if any. */
export function parseFailingMigration(log: string): string | undefined {
  let failing: string | undefined;
  for (const raw of log.split('\n')) {
    const line = stripCri(raw);
    const m = /^\s*Applying\s+(\S+?)\.\.\.(.*)$/.exec(line);
    if (m) failing = /\bOK\b/.test(m[2]!) ? undefined : m[1];
    // A migrate that names the failing step only in its error ("error: applying users.0005_x failed: …").
    const e = /\bapplying\s+(\S+)\s+failed\b/i.exec(line);
    if (e && !failing) failing = e[1];
  }
  return failing;
}

/** The names after `Migrations applied:` marked `[X]` (docs/verification.md, "Migrate command output"). */
export function parseAppliedMigrations(log: string): string[] {
  const lines = log.split('\n');
  let start = -1;
  lines.forEach((line, i) => {
    if (/^\s*(?:\S+\s+stdout\s+\S+\s+)?Migrations applied:\s*$/.test(stripCri(line))) start = i;
  });
  const applied: string[] = [];
  if (start < 0) return applied;
  for (const raw of lines.slice(start + 1)) {
    const line = stripCri(raw);
    const m = /^\s*\[([ Xx])\]\s+(\S+)\s*$/.exec(line);
    if (!m) {
      if (line.trim() === '') continue;
      break;
    }
    if (m[1] !== ' ') applied.push(m[2]!);
  }
  return applied;
}

/** Kubelet CRI log lines ("<time> stdout F text") when a log is read raw from a file. */
function stripCri(line: string): string {
  const m = /^\d{4}-\d\d-\d\dT\S+ (?:stdout|stderr) [FP] (.*)$/.exec(line);
  return m ? m[1]! : line;
}

function jobCondition(job: V1Job, type: string): { message?: string; reason?: string } | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** The Secret holding the Job's resolved secret references: values never sit in the Job spec. */
export function envSecretName(jobName: string): string {
  return `${jobName}-env`.slice(0, 253);
}

/**
 * The Job's env: plain values as they are, secret references (`env:NAME`, `file:PATH`, resolved on
 * the worker) through a Secret of their own, as a kubelet would read them.
 */
function jobEnv(input: MigrationJobInput): V1EnvVar[] {
  return Object.entries(input.env).map(([name, value]) =>
    isSecretRef(value) ? { name, valueFrom: { secretKeyRef: { name: envSecretName(input.jobName), key: name } } } : { name, value },
  );
}

async function createEnvSecret(c: KubeClients, input: MigrationJobInput): Promise<void> {
  const refs = Object.entries(input.env).filter(([, value]) => isSecretRef(value));
  if (!refs.length) return;
  const stringData = Object.fromEntries(await Promise.all(refs.map(async ([name, ref]) => [name, await resolveSecret(ref)] as const)));
  const name = envSecretName(input.jobName);
  try {
    await c.core.createNamespacedSecret({
      namespace: input.namespace,
      body: { metadata: { name, namespace: input.namespace, labels: { [MIGRATION_LABEL]: input.jobName, 'app.kubernetes.io/managed-by': 'shipwatch' } }, stringData },
    });
  } catch (err) {
    // 409: a previous attempt created it for the same Job.
    if (statusOf(err) !== 409) throw mapApiError(`create secret/${name} in namespace ${input.namespace}`, err);
  }
}

function jobBody(input: MigrationJobInput, timeoutMs: number): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: input.jobName, namespace: input.namespace, labels: { [MIGRATION_LABEL]: input.jobName, 'app.kubernetes.io/managed-by': 'shipwatch', ...(input.runId ? { [RUN_ID_LABEL]: input.runId } : {}) } },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)),
      // Kept a day so the report and a person can read its logs; deleted by the TTL controller after.
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: { [MIGRATION_LABEL]: input.jobName } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'migrate',
              image: input.image,
              command: input.command,
              env: jobEnv(input),
            },
          ],
        },
      },
    },
  };
}

export async function runMigrationJob(c: KubeClients, input: MigrationJobInput, ctx: ProgressContext, pollMs: number): Promise<MigrationResult> {
  // A retry of the same Job keeps the first attempt's start, so the timeout spans attempts.
  const resume = readHeartbeat(ctx.resumeFrom);
  const startedAt = resume?.kind === 'migration-job' && resume.jobName === input.jobName ? resume.startedAt : new Date().toISOString();
  const started = new Date(startedAt).getTime();
  const where = `job/${input.jobName} in namespace ${input.namespace}`;

  await createEnvSecret(c, input);
  let job: V1Job;
  try {
    job = await c.batch.createNamespacedJob({ namespace: input.namespace, body: jobBody(input, input.timeoutMs) });
  } catch (err) {
    // 409: a previous attempt created it; this one waits for the same Job.
    if (statusOf(err) !== 409) throw mapApiError(`create ${where}`, err);
    job = await kube(`read ${where}`, () => c.batch.readNamespacedJob({ name: input.jobName, namespace: input.namespace }));
    assertOwnJob(job, input, where);
  }
  const jobStarted = job.metadata?.creationTimestamp ? new Date(job.metadata.creationTimestamp).getTime() : started;
  const beat = (details: Pick<MigrationHeartbeat, 'phase' | 'active'>) => ctx.heartbeat({ kind: 'migration-job', jobName: input.jobName, startedAt, ...details } satisfies MigrationHeartbeat);
  beat({ phase: 'created', active: job.status?.active ?? 0 });

  try {
    return await waitForJob(c, input, { ctx, pollMs, started, jobStarted, beat });
  } catch (err) {
    // Cancelled (a rollback was requested): the Job must not go on changing the schema afterwards.
    if (ctx.signal.aborted) await stopJob(c, input, ctx);
    throw err;
  }
}

interface JobWait {
  ctx: ProgressContext;
  pollMs: number;
  started: number;
  jobStarted: number;
  beat: (details: Pick<MigrationHeartbeat, 'phase' | 'active'>) => void;
}

async function waitForJob(c: KubeClients, input: MigrationJobInput, w: JobWait): Promise<MigrationResult> {
  const { ctx, pollMs, started, jobStarted, beat } = w;
  const where = `job/${input.jobName} in namespace ${input.namespace}`;
  let job: V1Job;
  for (;;) {
    throwIfAborted(ctx.signal);
    job = await kube(`read ${where}`, () => c.batch.readNamespacedJob({ name: input.jobName, namespace: input.namespace }));
    const complete = jobCondition(job, 'Complete');
    const failed = jobCondition(job, 'Failed');
    if (complete || failed) {
      const log = await podLogs(c, input.namespace, `job-name=${input.jobName}`);
      const applied = parseAppliedMigrations(log);
      const finishedAt = job.status?.completionTime ? new Date(job.status.completionTime).getTime() : Date.now();
      const durationMs = Math.max(0, finishedAt - jobStarted);
      if (failed) return failedResult(input, { log, durationMs, reason: `${where} failed (${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''})` });
      return { jobName: input.jobName, succeeded: true, applied, durationMs, logTail: log.slice(-2000) };
    }
    if (Date.now() - started > input.timeoutMs) {
      const log = await podLogs(c, input.namespace, `job-name=${input.jobName}`).catch(() => '');
      return failedResult(input, { log, durationMs: Date.now() - jobStarted, reason: `${where} did not finish within ${Math.round(input.timeoutMs / 1000)}s` });
    }
    beat({ phase: 'waiting', active: job.status?.active ?? 0 });
    await sleep(pollMs, ctx.signal);
  }
}

/** A Job that ran and failed: what it applied first, which migration failed, its log's tail. */
function failedResult(input: MigrationJobInput, run: { log: string; durationMs: number; reason: string }): MigrationResult {
  const failing = parseFailingMigration(run.log);
  return {
    jobName: input.jobName,
    succeeded: false,
    applied: parseAppliedMigrations(run.log).length ? parseAppliedMigrations(run.log) : parseOkMigrations(run.log),
    ...(failing ? { failed: failing } : {}),
    reason: run.reason,
    durationMs: Math.max(0, run.durationMs),
    logTail: run.log.slice(-2000),
  };
}

/** "Applying users.0001_initial... OK" lines: what a failed run applied before it stopped. */
function parseOkMigrations(log: string): string[] {
  const out: string[] = [];
  for (const raw of log.split('\n')) {
    const m = /^\s*Applying\s+(\S+?)\.\.\.\s*OK\b/.exec(stripCri(raw));
    if (m) out.push(m[1]!);
  }
  return out;
}

/**
 * A Job already under this name is adopted only if it is this deployment's: the same run-ID label
 * (when the input names one) and the same image. Another deployment's Job is never taken as ours.
 */
function assertOwnJob(job: V1Job, input: MigrationJobInput, where: string): void {
  const runId = job.metadata?.labels?.[RUN_ID_LABEL];
  const image = job.spec?.template?.spec?.containers?.[0]?.image;
  const problems: string[] = [];
  if (input.runId && runId !== input.runId) problems.push(`its ${RUN_ID_LABEL} label is ${runId ?? 'absent'}, this deployment is ${input.runId}`);
  if (image !== input.image) problems.push(`it runs ${image ?? 'no image'}, this deployment ${input.image}`);
  if (problems.length) {
    throw new MigrationFailedError(`${where} already exists and belongs to another deployment (${problems.join('; ')}): not adopted; delete it or wait for its TTL, then deploy again`, {
      details: { jobName: input.jobName, foreign: true },
    });
  }
}

/** How long a stopped Job may take to go away with its pods (foreground deletion) before that is an error. */
const STOP_TIMEOUT_MS = 120_000;

/**
 * Stops a migration Job: deletes it with its pods (foreground propagation: the Job object stays
 * until its pods are gone) and waits until the Job and its pods are gone. Throws, naming what to
 * run by hand, when it cannot.
 */
export async function stopJob(c: KubeClients, input: MigrationJobInput, ctx: Pick<ProgressContext, 'heartbeat'>, pollMs = 500): Promise<void> {
  const where = `job/${input.jobName} in namespace ${input.namespace}`;
  const byHand = `kubectl -n ${input.namespace} delete job ${input.jobName} --cascade=foreground`;
  try {
    await c.batch.deleteNamespacedJob({ name: input.jobName, namespace: input.namespace, propagationPolicy: 'Foreground', gracePeriodSeconds: 0 });
  } catch (err) {
    if (statusOf(err) !== 404) throw new Error(`could not stop ${where}: ${mapApiError(`delete ${where}`, err).message}; stop it by hand: ${byHand}`);
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (;;) {
    const jobGone = await c.batch.readNamespacedJob({ name: input.jobName, namespace: input.namespace }).then(
      () => false,
      (err: unknown) => statusOf(err) === 404,
    );
    const pods = await c.core.listNamespacedPod({ namespace: input.namespace, labelSelector: `job-name=${input.jobName}` });
    if (jobGone && pods.items.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${where} still ${jobGone ? `has ${pods.items.length} pod(s)` : 'exists'} ${STOP_TIMEOUT_MS / 1000}s after it was deleted; check it: ${byHand}`);
    ctx.heartbeat({ kind: 'migration-job', jobName: input.jobName, startedAt: new Date().toISOString(), phase: 'waiting', active: pods.items.length } satisfies MigrationHeartbeat);
    await sleep(pollMs);
  }
}
