/**
 * The second sample service on the local stack: audit-log (examples/audit-log) at its old release,
 * in the same namespace as user-management, on its own database of the same PostgreSQL, behind its
 * own pod runner whose cluster DNS points `user-management.production:8080` at user-management's
 * local Service — so audit-log really calls user-management's API, as it would in a cluster.
 * Used by the stack when started with `auditLog: true` (the release demo and its e2e test).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify as stringifyYaml } from 'yaml';
import { startPodRunner } from './pod-runner';
import type { PodRunner } from './pod-runner';
import type { LocalPostgres } from './postgres';

const run = promisify(execFile);
export const AUDIT_LOG = 'audit-log' as const;
export const AUDIT_LOG_REPLICAS = 2;

export interface AuditLogSetup {
  repo: string;
  namespace: string;
  kubeconfig: string;
  kubectl(args: string[], input?: string): Promise<string>;
  postgres: LocalPostgres;
  /** The manifest of the old release (the stack's deploymentManifest for audit-log). */
  manifest: string;
  /** user-management's in-cluster address and the local URL serving it. */
  userManagement: { address: string; url: string };
  secrets: { 'admin-token': string; 'sentry-dsn': string };
  logDir?: string;
  log(line: string): void;
}

export interface LocalAuditLog {
  runner: PodRunner;
  databaseUrl: string;
}

/** Creates audit-log's database (old schema: 0001), secret, Service and Deployment, and serves its pods. */
export async function startAuditLog(setup: AuditLogSetup): Promise<LocalAuditLog> {
  const { namespace } = setup;
  const kubectl = (args: string[], input?: string) => setup.kubectl(args, input);
  await setup.postgres.createDatabase('audit');
  const databaseUrl = setup.postgres.url('audit');
  await kubectl(
    ['apply', '-f', '-'],
    stringifyYaml({ apiVersion: 'v1', kind: 'Secret', metadata: { name: AUDIT_LOG, namespace }, stringData: { 'database-url': databaseUrl, ...setup.secrets } }),
  );
  await run(process.execPath, [join(setup.repo, 'dist', 'examples', 'audit-log', 'src', 'migrate.js'), 'audit', '0001'], { env: { ...process.env, DATABASE_URL: databaseUrl } });
  await kubectl(['apply', '-f', join(setup.repo, 'examples', AUDIT_LOG, 'k8s', 'service.yaml')]);
  await kubectl(['apply', '-f', '-'], setup.manifest);
  await kubectl(['-n', namespace, 'rollout', 'status', `deployment/${AUDIT_LOG}`, '--timeout=120s']);
  const runner = await startPodRunner({
    kubeconfigPath: setup.kubeconfig,
    namespace,
    deployment: AUDIT_LOG,
    selector: `app=${AUDIT_LOG}`,
    container: 'app',
    cwd: setup.repo,
    // user-management's runner plays the kubelet for every Job pod of the namespace.
    jobs: false,
    services: { [setup.userManagement.address]: setup.userManagement.url },
    ...(setup.logDir ? { logDir: setup.logDir } : {}),
    onEvent: (line) => setup.log(`  [audit-log pods] ${line}`),
  });
  return { runner, databaseUrl };
}
