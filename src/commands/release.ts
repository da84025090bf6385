/**
 * `shipwatch release …`: start a release train from a release spec and steer it by name —
 * `release -f release.yaml [--wait]`, `release status|timeline|report|rollback|approve <name>`.
 * Typed command functions; `registerRelease(program, dispatch)` adds them to the CLI.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { readTimeline, withClient } from '../cli/context';
import type { CommandContext } from '../cli/context';
import type { CliClient } from '../cli/connect';
import { ExitCode, ExitError } from '../cli/errors';
import { currentUser } from '../cli/user';
import { ReleaseAlreadyActiveError, startRelease } from '../releases';
import { ReleaseSpecError, loadReleaseFile } from '../spec/release';
import { approveUpdate, releaseReportQuery, releaseStatusQuery, releaseTimelineQuery, releaseWorkflowId, rollbackUpdate } from '../workflows/release/messages';
import type { ReleaseStatus } from '../workflows/release/messages';
import { mergeTimelines } from '../workflows/release/report';
import { renderReleaseMarkdown, timelineLine } from '../workflows/release/render';
import type { ReleaseOutcome } from '../workflows/release/types';

export function exitCodeForRelease(outcome: ReleaseOutcome): number {
  switch (outcome) {
    case 'IN_PROGRESS':
    case 'SUCCEEDED':
      return ExitCode.OK;
    case 'ROLLED_BACK':
      return ExitCode.ROLLED_BACK;
    case 'MANUAL_ACTION_REQUIRED':
      return ExitCode.MANUAL_ACTION;
    case 'HALTED':
    case 'PARTIAL':
      return ExitCode.FAILED;
  }
}

const handleOf = (cli: CliClient, name: string) => cli.client.workflow.getHandle(name.startsWith('release-') ? name : releaseWorkflowId(name));

export async function releaseStartCommand(opts: { file: string; wait?: boolean; json?: boolean }, ctx: CommandContext): Promise<number> {
  const spec = await loadReleaseFile(opts.file).catch((err: unknown) => {
    throw err instanceof ReleaseSpecError ? new ExitError(ExitCode.USAGE, err.message) : err;
  });
  return withClient(ctx, async (cli) => {
    const handle = await startRelease(cli.client, spec, { requestedBy: currentUser(ctx.env), ...(ctx.env.SHIPWATCH_TASK_QUEUE ? { taskQueue: ctx.env.SHIPWATCH_TASK_QUEUE } : {}) }).catch((err: unknown) => {
      throw err instanceof ReleaseAlreadyActiveError ? new ExitError(ExitCode.REFUSED, err.message) : err;
    });
    if (!opts.json) ctx.out.line(`Release ${spec.name} started: ${handle.workflowId} (${spec.services.map((s) => s.name).join(', ')}; onFailure ${spec.onFailure}, watch ${spec.watch.mode})`);
    if (!opts.wait) {
      if (opts.json) ctx.out.data({ releaseId: handle.workflowId, runId: handle.firstExecutionRunId });
      return ExitCode.OK;
    }
    const report = await handle.result();
    if (opts.json) ctx.out.data(report);
    else ctx.out.line(renderReleaseMarkdown(report));
    return exitCodeForRelease(report.outcome);
  });
}

export function formatReleaseStatus(status: ReleaseStatus): string[] {
  const lines = [`Release ${status.name} (${status.releaseId}): ${status.outcome}, phase ${status.phase}`];
  for (const s of status.services) {
    lines.push(`  ${s.name.padEnd(20)} ${s.stage.padEnd(18)} ${s.release}${s.after.length ? `  after ${s.after.join(', ')}` : ''}${s.note ? `  — ${s.note}` : ''}`);
  }
  if (status.awaitingApproval.length) lines.push(`Waiting for approval: ${status.awaitingApproval.join(', ')} — shipwatch release approve ${status.name} --service <name>`);
  if (status.watch) lines.push(`Shared watch window: ${status.watch.startedAt} → ${status.watch.endsAt}${status.watch.outcome ? ` (${status.watch.outcome})` : ''}`);
  if (status.failure) lines.push(`First failure: ${status.failure.service} — ${status.failure.reason}`);
  return lines;
}

export async function releaseStatusCommand(opts: { name: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  const status = await withClient(ctx, (cli) => handleOf(cli, opts.name).query(releaseStatusQuery));
  if (opts.json) ctx.out.data(status);
  else for (const line of formatReleaseStatus(status)) ctx.out.line(line);
  return exitCodeForRelease(status.outcome);
}

/** The release's own events merged with each started service's timeline (read from its memo, else queried live). */
export async function releaseTimelineCommand(opts: { name: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  const merged = await withClient(ctx, async (cli) => {
    const handle = handleOf(cli, opts.name);
    const [own, status] = await Promise.all([handle.query(releaseTimelineQuery, {}), handle.query(releaseStatusQuery)]);
    const children = await Promise.all(
      status.services
        .filter((s) => s.runId)
        .map(async (s) => ({ service: s.name, events: await readTimeline(cli, cli.client.workflow.getHandle(s.workflowId, s.runId)) })),
    );
    return mergeTimelines(own, children);
  });
  if (opts.json) ctx.out.data(merged);
  else for (const e of merged) ctx.out.line(timelineLine(e));
  return ExitCode.OK;
}

export async function releaseReportCommand(opts: { name: string; format?: 'md' | 'json'; json?: boolean }, ctx: CommandContext): Promise<number> {
  const report = await withClient(ctx, (cli) => handleOf(cli, opts.name).query(releaseReportQuery));
  if (opts.json || opts.format === 'json') ctx.out.data(report);
  else ctx.out.line(renderReleaseMarkdown(report));
  return exitCodeForRelease(report.outcome);
}

async function answerOf(handle: WorkflowHandle, run: () => Promise<{ accepted: boolean; message: string }>): Promise<{ accepted: boolean; message: string }> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return { accepted: false, message: err.cause?.message ?? err.message };
    if (/already completed/i.test(String((err as Error).message))) return { accepted: false, message: 'too late: the release has already ended (`shipwatch release report <name>` says how)' };
    const closed = err instanceof WorkflowNotFoundError ? await handle.describe().then((d) => d.status.name !== 'RUNNING', () => false) : false;
    if (closed) return { accepted: false, message: `too late: the release has already ended (\`shipwatch release report ${handle.workflowId.replace(/^release-/, '')}\` says how)` };
    if (err instanceof WorkflowNotFoundError) throw new ExitError(ExitCode.NOT_FOUND, `No such release: ${err.workflowId} (\`shipwatch list --releases\` lists them).`);
    throw err;
  }
}

function printAnswer(answer: { accepted: boolean; message: string }, opts: { json?: boolean }, ctx: CommandContext): number {
  if (opts.json) ctx.out.data(answer);
  else if (answer.accepted) ctx.out.line(answer.message);
  if (!answer.accepted) throw new ExitError(ExitCode.REFUSED, answer.message);
  return ExitCode.OK;
}

export async function releaseRollbackCommand(opts: { name: string; reason: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  if (!opts.reason.trim()) throw new ExitError(ExitCode.USAGE, 'Say why: shipwatch release rollback <name> --reason "audit-log loses events since the release".');
  const answer = await withClient(ctx, (cli) => answerOf(handleOf(cli, opts.name), () => handleOf(cli, opts.name).executeUpdate(rollbackUpdate, { args: [{ reason: opts.reason, requestedBy: currentUser(ctx.env) }] })));
  return printAnswer(answer, opts, ctx);
}

export async function releaseApproveCommand(opts: { name: string; service?: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  const answer = await withClient(ctx, (cli) =>
    answerOf(handleOf(cli, opts.name), () => handleOf(cli, opts.name).executeUpdate(approveUpdate, { args: [{ ...(opts.service ? { service: opts.service } : {}), requestedBy: currentUser(ctx.env) }] })),
  );
  return printAnswer(answer, opts, ctx);
}

/** How the CLI hands parsed options to a command (src/client.ts's `dispatch`). */
export type Dispatch = <O extends { json?: boolean }>(opts: Omit<O, 'json'>, load: () => Promise<(opts: O, ctx: CommandContext) => Promise<number>>) => Promise<void>;

/** Adds `shipwatch release …` to the program. */
export function registerRelease(program: Command, dispatch: Dispatch): void {
  const release = program
    .command('release')
    .description('release trains: several services released in order as one release, rolled back together')
    .option('-f, --file <release>', 'start a release from a release spec (YAML, kind: Release)')
    .option('--wait', 'wait until the release ends, print its report; the exit code says how it ended')
    .action((o: { file?: string; wait?: boolean }) => {
      if (!o.file) {
        release.help();
        return;
      }
      return dispatch({ file: o.file, ...(o.wait ? { wait: true } : {}) }, async () => releaseStartCommand);
    });
  release.command('status <name>').description('each service’s stage, approvals awaited, the shared watch window').action((name: string) => dispatch({ name }, async () => releaseStatusCommand));
  release.command('timeline <name>').description('the release’s events merged with every service’s timeline').action((name: string) => dispatch({ name }, async () => releaseTimelineCommand));
  release
    .command('report <name>')
    .description('the release report: per service what ran and what was undone')
    .option('--format <format>', 'md or json', 'md')
    .action((name: string, o: { format: 'md' | 'json' }) => dispatch({ name, format: o.format }, async () => releaseReportCommand));
  release
    .command('rollback <name>')
    .description('roll back every deployment of the release, latest first')
    .requiredOption('--reason <reason>', 'why (recorded in every timeline and report)')
    .action((name: string, o: { reason: string }) => dispatch({ name, reason: o.reason }, async () => releaseRollbackCommand));
  release
    .command('approve <name>')
    .description('open the approval gate of the service waiting for it')
    .option('--service <service>', 'which service, when several wait')
    .action((name: string, o: { service?: string }) => dispatch({ name, ...(o.service ? { service: o.service } : {}) }, async () => releaseApproveCommand));
}
