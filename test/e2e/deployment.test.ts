/**
 * shipwatch end to end on the real local stack: the Temporal dev server, a kwok Kubernetes
 * cluster, PostgreSQL, Prometheus, the sample service as real processes, a worker process, and
 * the `shipwatch` CLI as a user runs it. The tests run in order on one stack; each deploys the
 * next release of user-management.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { renderMarkdown } from '../../src/report/render';
import { CHECK_TITLE } from '../../src/monitoring/report';
import { MONITORING_CHECKS } from '../../src/model';
import type { DeploymentReport } from '../../src/model';
import { startStack } from '../../tools/local/stack';
import type { LocalStack, WorkerProcess } from '../../tools/local/stack';
import { shipwatch, timeline, timelineProblems, waitForStatus } from './helpers';

jest.setTimeout(600_000);

const ID = 'deploy-production-user-management';
let stack: LocalStack;
let worker: WorkerProcess;
let env: Record<string, string>;

const spec = (release: string, watch = '30s') => stack.writeSpec({ release, stepWindow: '4s', watch, interval: '3s' });
const report = async (): Promise<DeploymentReport> => {
  const r = await shipwatch(['report', ID, '--format', 'json'], env);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as DeploymentReport;
};

beforeAll(async () => {
  stack = await startStack({ name: `e2e-${process.pid}`, stateDir: mkdtempSync(join(tmpdir(), 'shipwatch-e2e-')) });
  worker = await stack.startWorker();
  env = { TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: 'default', SHIPWATCH_USER: 'e2e-tester', TEMPORAL_UI_URL: stack.uiUrl };
});

afterAll(async () => {
  await stack?.stop();
});

test('a full deploy runs every phase, and a second deploy of the service meanwhile is refused', async () => {
  const started = await shipwatch(['deploy', '-f', spec('v1.0.0')], env);
  expect(started.code).toBe(0);
  expect(started.stdout).toContain(ID);

  const second = await shipwatch(['deploy', '-f', spec('v1.0.1')], env);
  expect(second.code).toBe(7);
  expect(second.stderr).toContain('already has an active deployment');
  expect(second.stderr).toContain('v1.0.0');

  const followed = await shipwatch(['timeline', ID, '--follow'], env, 540_000);
  expect(followed.code).toBe(0);
  expect(followed.stdout).toContain('ended: SUCCEEDED');

  const events = await timeline(ID, env);
  const phases = new Set(events.map((e) => e.phase));
  for (const phase of ['PRECHECK', 'BACKUP', 'MIGRATE', 'ROLLOUT', 'VERIFY_PODS', 'SMOKE', 'METRICS', 'REPORT', 'WATCH', 'DONE']) {
    expect(phases).toContain(phase);
  }
  expect(timelineProblems(events)).toEqual([]);

  const r = await report();
  expect(r.outcome).toBe('SUCCEEDED');
  expect(r.migrations?.applied).toEqual(['0001_initial', '0002_roles', '0003_user_roles']);
  expect(r.backup?.sizeBytes).toBeGreaterThan(0);
  expect(r.smoke?.passed).toBe(true);
  expect(r.traffic.map((t) => t.newPercent)).toEqual(expect.arrayContaining([33, 67, 100]));
  expect(r.availability?.failures).toBe(0);
  expect(stack.runner.pods().map((p) => p.version)).toEqual(['v1.0.0', 'v1.0.0', 'v1.0.0']);
  expect(renderMarkdown(r)).toContain('Deployment Report');
  expect(stack.receiver.received.length).toBeGreaterThanOrEqual(2); // started, completed

  // Hour 3: every line of the Monitoring section was checked on the local stack, and passed.
  expect(r.monitoring?.checks.map((c) => `${c.check}: ${c.status}`)).toEqual(MONITORING_CHECKS.map((c) => `${c}: passed`));
  const md = (await shipwatch(['report', ID], env)).stdout;
  const from = md.indexOf('### Monitoring\n');
  expect(from).toBeGreaterThan(0);
  const next = md.indexOf('\n### ', from + 1);
  const section = md.slice(from, next < 0 ? undefined : next);
  for (const check of MONITORING_CHECKS) expect(section).toContain(`- ✅ **${CHECK_TITLE[check]}**`);
  expect(section).not.toMatch(/not run|❌/);
  expect(md).toMatch(/✅ Alerts configured and tested/);
  // The launch checks: who is on call, the public host routing to the new release, the uptime probe, the trace.
  expect(md).toContain('✅ On-call engineer assigned: Priya Raman <priya@example.com> (rotation user-management-primary)');
  expect(md).toContain('✅ Public entry point users.shipwatch.test/ routes to the new release');
  expect(md).toContain('✅ Uptime probe green');
  const written = (await timeline(ID, env)).filter((e) => e.title === 'Final report written').pop();
  const file = readFileSync(written!.detail!, 'utf8');
  const trace = /\*\*Trace\*\*: ([0-9a-f]{32}) — (http\S+)/.exec(file);
  expect(trace).not.toBeNull();
  const spans = (await (await fetch(trace![2]!)).json()) as { data: { spans: { operationName: string }[] }[] };
  expect(spans.data[0]!.spans.map((x) => x.operationName)).toEqual(expect.arrayContaining(['Phase:ROLLOUT', 'Phase:WATCH']));
  // The tracker stand-in received the error-tracking check's test event, tagged with the release.
  expect(stack.receiver.received.some((q) => /\/store\/$/.test(q.path) && (q.body as { release?: string }).release === 'user-management@v1.0.0')).toBe(true);
});

test('a rollback from the CLI during the watch window restores the old version, with its smoke suite passing', async () => {
  expect((await shipwatch(['deploy', '-f', spec('v1.1.0', '10m')], env)).code).toBe(0);
  await waitForStatus(ID, env, (s) => s.phase === 'WATCH', 'the watch window');

  const rollback = await shipwatch(['rollback', ID, '--reason', 'error rate doubled after v1.1.0'], env);
  expect(rollback.code).toBe(0);
  const ended = await waitForStatus(ID, env, (s) => s.outcome !== 'IN_PROGRESS', 'the rollback to finish');
  expect(ended.outcome).toBe('ROLLED_BACK');
  expect((await shipwatch(['status', ID], env)).code).toBe(3);

  const again = await shipwatch(['rollback', ID, '--reason', 'twice'], env);
  expect(again.code).toBe(7);

  const r = await report();
  expect(r.rollback).toMatchObject({ required: true, reason: 'error rate doubled after v1.1.0', requestedBy: 'e2e-tester', succeeded: true });
  expect(r.rollback.durationMs).toBeGreaterThan(0);
  expect(r.rollback.smokeAfterRollback?.passed).toBe(true);
  expect(r.rollback.smokeAfterRollback?.release).toBe('v1.0.0');
  await waitFor(() => stack.runner.pods().every((p) => p.version === 'v1.0.0') && stack.runner.pods().length === 3);
  const markdown = (await shipwatch(['report', ID], env)).stdout;
  expect(markdown).toContain('error rate doubled after v1.1.0');
});

test('a worker killed with SIGKILL mid-rollout: its timeline is read while no worker runs; restarted, the deployment completes with no gaps or duplicates in its timeline', async () => {
  expect((await shipwatch(['deploy', '-f', stack.writeSpec({ release: 'v1.2.0', stepWindow: '6s', watch: '20s', interval: '3s' })], env)).code).toBe(0);
  await waitForStatus(ID, env, (s) => s.phase === 'ROLLOUT' && s.rollout.newReady >= 1, 'the first new pod');
  await worker.stop('SIGKILL');
  const downAt = Date.now();
  // No worker runs: the timeline is still read, from the deployment's memo (a query would wait for a worker and fail).
  const whileDown = await timeline(ID, env);
  expect(whileDown.some((e) => e.phase === 'ROLLOUT')).toBe(true);
  expect(timelineProblems(whileDown)).toEqual([]);
  await new Promise((r) => setTimeout(r, Math.max(0, 3_000 - (Date.now() - downAt))));
  worker = await stack.startWorker();

  const ended = await waitForStatus(ID, env, (s) => s.outcome !== 'IN_PROGRESS', 'the deployment to finish');
  expect(ended.outcome).toBe('SUCCEEDED');
  const events = await timeline(ID, env);
  expect(timelineProblems(events)).toEqual([]);
  expect(events.filter((e) => /^Health check passed – Pod \d/.test(e.title))).toHaveLength(3);
  expect(stack.runner.pods().map((p) => p.version)).toEqual(['v1.2.0', 'v1.2.0', 'v1.2.0']);
});

test('the Temporal server restarted during the watch window: the deployment continues and answers queries', async () => {
  expect((await shipwatch(['deploy', '-f', spec('v1.3.0', '40s')], env)).code).toBe(0);
  await waitForStatus(ID, env, (s) => s.phase === 'WATCH', 'the watch window');
  const before = (await timeline(ID, env)).length;
  await stack.restartTemporal();

  const during = await waitForStatus(ID, env, () => true, 'a status answer after the restart', 120_000);
  expect(during.release).toBe('v1.3.0');
  const ended = await waitForStatus(ID, env, (s) => s.outcome !== 'IN_PROGRESS', 'the deployment to finish');
  expect(ended.outcome).toBe('SUCCEEDED');
  const events = await timeline(ID, env);
  expect(events.length).toBeGreaterThan(before);
  expect(timelineProblems(events)).toEqual([]);
});

test('the Temporal Web UI finds the deployment by service', async () => {
  const artifacts = join(__dirname, '..', '..', 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const query = encodeURIComponent(`ShipwatchService="user-management"`);
    await page.goto(`${stack.uiUrl}/namespaces/default/workflows?query=${query}`);
    const link = page.getByRole('link', { name: ID }).first();
    await link.waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(artifacts, 'web-ui-deployments.png'), fullPage: true });
    await link.click();
    await page.waitForURL(/\/workflows\/deploy-production-user-management\//, { timeout: 60_000 });
    await page.getByText('deploymentWorkflow').first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(artifacts, 'web-ui-deployment.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

async function waitFor(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}
