/**
 * The `shipwatch release` commands against a release on the time-skipping server: start from a
 * release file and wait, status, the merged timeline, the report, and refusals with exit codes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { CommandContext } from '../../src/cli/context';
import { ExitCode, ExitError } from '../../src/cli/errors';
import { releaseApproveCommand, releaseReportCommand, releaseRollbackCommand, releaseStartCommand, releaseStatusCommand, releaseTimelineCommand } from '../../src/commands/release';
import { specDocument } from './fixtures/spec';
import { bundleWorkflows, createDeploymentEnv } from './harness';
import { createReleaseWorker, nextQueue, registerReleaseSearchAttributes, releaseOf } from './release-harness';

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  [env, bundle] = await Promise.all([createDeploymentEnv(), bundleWorkflows()]);
  await registerReleaseSearchAttributes(env);
});
afterAll(async () => env?.teardown());

function context(taskQueue: string): { ctx: CommandContext; lines: string[]; data: unknown[] } {
  const lines: string[] = [];
  const data: unknown[] = [];
  const out = { tty: false, json: false, line: (t = '') => void lines.push(t), data: (v: unknown) => void data.push(v), status: (t: string) => void lines.push(t), error: (t: string) => void lines.push(t) };
  return { ctx: { out, env: { SHIPWATCH_TASK_QUEUE: taskQueue, SHIPWATCH_USER: 'dana' }, connect: async () => ({ client: env.client, address: 'test', namespace: 'default', close: async () => undefined }) }, lines, data };
}

test('release -f file --wait, then status, timeline and report by name; a rollback after the end is refused', async () => {
  // Services as inline deploy specs in the release file, renamed per service (the harness's worlds route by name).
  const { spec, worlds } = await releaseOf('cli-train', [{ name: 'user-management' }, { name: 'audit-log', after: ['user-management'], fake: { smokeFails: true } }]);
  const dir = mkdtempSync(join(tmpdir(), 'release-cli-'));
  const doc = {
    kind: 'Release',
    name: 'cli-train',
    watch: { duration: '30m' },
    services: spec.services.map((s) => ({
      inline: { ...specDocument(), service: s.name, namespace: s.spec.namespace, image: s.spec.image, kubernetes: { deployment: s.name, container: 'app', stepPods: 0 }, serviceUrl: s.spec.serviceUrl, metrics: { prometheusUrl: s.spec.metrics!.prometheusUrl }, smoke: { suite: { name: `${s.name} smoke`, steps: [{ name: 'Health endpoint', path: '/health' }] } }, watch: { duration: '1h', reviewAfter: '0s' } },
      after: s.after,
    })),
  };
  writeFileSync(join(dir, 'release.yaml'), JSON.stringify(doc));
  const taskQueue = nextQueue();
  const worker = await createReleaseWorker(env, bundle, worlds, { taskQueue });
  await worker.runUntil(async () => {
    const start = context(taskQueue);
    expect(await releaseStartCommand({ file: join(dir, 'release.yaml'), wait: true }, start.ctx)).toBe(ExitCode.ROLLED_BACK);
    expect(start.lines[0]).toBe('Release cli-train started: release-cli-train (user-management, audit-log; onFailure rollback-all, watch together)');
    expect(start.lines.join('\n')).toContain('# Release cli-train: ROLLED_BACK');

    const status = context(taskQueue);
    expect(await releaseStatusCommand({ name: 'cli-train' }, status.ctx)).toBe(ExitCode.ROLLED_BACK);
    expect(status.lines[0]).toBe('Release cli-train (release-cli-train): ROLLED_BACK, phase DONE');
    expect(status.lines.join('\n')).toContain('First failure: audit-log');

    const timeline = context(taskQueue);
    await releaseTimelineCommand({ name: 'cli-train' }, timeline.ctx);
    const text = timeline.lines.join('\n');
    for (const source of ['[release]', '[user-management]', '[audit-log]']) expect(text).toContain(source);
    expect(text).toContain('[audit-log] Smoke tests failed');

    const report = context(taskQueue);
    await releaseReportCommand({ name: 'cli-train', format: 'json' }, report.ctx);
    expect((report.data[0] as { services: { name: string; outcome: string }[] }).services.map((s) => [s.name, s.outcome])).toEqual([
      ['user-management', 'ROLLED_BACK'],
      ['audit-log', 'ROLLED_BACK'],
    ]);

    const late = context(taskQueue);
    const refused = await releaseRollbackCommand({ name: 'cli-train', reason: 'too late' }, late.ctx).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ExitError);
    expect((refused as ExitError).code).toBe(ExitCode.REFUSED);
    expect((refused as ExitError).message).toMatch(/^too late: the release has already ended/);
    const missing = await releaseStatusCommand({ name: 'no-such-train' }, late.ctx).then(() => undefined, (e: unknown) => e);
    expect(missing).toBeDefined();
    const approve = await releaseApproveCommand({ name: 'cli-train' }, late.ctx).catch((err: unknown) => err);
    expect((approve as ExitError).code).toBe(ExitCode.REFUSED);
  });
});

test('a bad release file exits with USAGE and names the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'release-cli-bad-'));
  writeFileSync(join(dir, 'release.yaml'), 'kind: Release\nname: r\nonFailure: shrug\nservices: [{ spec: nowhere.yaml }]\n');
  const err = await releaseStartCommand({ file: join(dir, 'release.yaml') }, context('unused').ctx).catch((e: unknown) => e);
  expect((err as ExitError).code).toBe(ExitCode.USAGE);
  expect((err as Error).message).toContain('onFailure');
});
