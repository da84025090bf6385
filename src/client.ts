#!/usr/bin/env node
/**
 * The `shipwatch` CLI. This file only parses arguments; each command lives in
 * src/commands/<name>.ts and is loaded when used. One top-level catch turns an ExitError into its
 * exit code and sentence (docs/cli.md lists the codes).
 *
 * Adding a command is one `program.command(…)` block: its arguments and flags, then
 * `.action((…) => dispatch(options, async () => (await import('./commands/<name>')).<name>Command))`,
 * where the command function takes `(options & { json?: boolean }, ctx: CommandContext)` and
 * returns its exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { version as packageVersion } from '../package.json';
import { defaultContext } from './cli/context';
import type { CommandContext } from './cli/context';
import { ExitCode, isExitError } from './cli/errors';
import { createOutput } from './cli/output';
import { registerRelease } from './commands/release';

/** A command function as every src/commands/<name>.ts exports it. */
type CommandFn<O> = (opts: O, ctx: CommandContext) => Promise<number>;
type Run = (action: (json: boolean) => Promise<number>, json: boolean) => Promise<void>;

export function buildProgram(run: Run): Command {
  const program = new Command('shipwatch')
    .description(
      'Durable deployments on Temporal: pre-deploy checks, backup, migrations, stepped rollout, smoke tests, metrics against a baseline, a report, and a 24-hour watch window with one-command rollback.',
    )
    .version(packageVersion)
    .option('--json', 'machine-readable output')
    .showHelpAfterError()
    .exitOverride();
  /** Loads the command's module only when it runs, and calls it with the parsed options, `json` and a context. */
  const dispatch = <O extends { json?: boolean }>(opts: Omit<O, 'json'>, load: () => Promise<CommandFn<O>>): Promise<void> => {
    const json = Boolean(program.opts<{ json?: boolean }>().json);
    return run(async (j) => (await load())({ ...opts, json: j } as O, defaultContext(createOutput({ json: j }))), json);
  };

  program
    .command('deploy')
    .description('start a deployment from a deploy spec')
    .requiredOption('-f, --file <spec>', 'deploy spec (YAML)')
    .option('--release <release>', 'override the spec’s release')
    .option('--image <image>', 'override the spec’s image')
    .option('--wait', 'follow the deployment until it ends; the exit code says how it ended')
    .option('--supersede', 'if this service has a deployment in its watch window, accept (promote) it and start this one')
    .action((o: { file: string; release?: string; image?: string; wait?: boolean; supersede?: boolean }) =>
      dispatch(o, async () => (await import('./commands/deploy')).deployCommand),
    );

  program
    .command('status <id>')
    .description('phase, rollout progress, traffic split, alerts and time left in the watch window')
    .action((id: string) => dispatch({ id }, async () => (await import('./commands/status')).statusCommand));

  program
    .command('timeline <id>')
    .description('every event of a deployment')
    .option('--follow', 'keep printing new events until the deployment ends')
    .action((id: string, o: { follow?: boolean }) => dispatch({ id, ...o }, async () => (await import('./commands/timeline')).timelineCommand));

  program
    .command('rollback <id>')
    .description('roll the release back now (rollout undo, verify, migration rollback, smoke tests on the old version, notify)')
    .requiredOption('--reason <text>', 'why, for the report and the notifications')
    .action((id: string, o: { reason: string }) => dispatch({ id, ...o }, async () => (await import('./commands/control')).rollbackCommand));

  program
    .command('promote <id>')
    .description('accept the release and end the watch window early')
    .action((id: string) => dispatch({ id }, async () => (await import('./commands/control')).promoteCommand));

  program
    .command('pause <id>')
    .description('hold the stepped rollout before its next step, and hold automatic rollback in the watch window')
    .action((id: string) => dispatch({ id }, async () => (await import('./commands/control')).pauseCommand));

  program
    .command('resume <id>')
    .description('continue a paused deployment')
    .action((id: string) => dispatch({ id }, async () => (await import('./commands/control')).resumeCommand));

  program
    .command('extend <id>')
    .description('lengthen the watch window')
    .requiredOption('--by <duration>', 'how much longer, e.g. 2h')
    .action((id: string, o: { by: string }) => dispatch({ id, ...o }, async () => (await import('./commands/control')).extendCommand));

  program
    .command('report <id>')
    .description('the deployment report')
    .addOption(new Option('--format <format>', 'md or json').choices(['md', 'json']).default('md'))
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action((id: string, o: { format: 'md' | 'json'; output?: string }) => dispatch({ id, ...o }, async () => (await import('./commands/report')).reportCommand));

  program
    .command('list')
    .description('deployments, newest first')
    .option('--service <name>', 'only this service')
    .option('--namespace <name>', 'only this Kubernetes namespace')
    .option('--state <state>', 'running, succeeded, rolled-back, failed or manual-action')
    .option('--limit <n>', 'at most this many (default 50, or 20 release trains)')
    .option('--releases', 'release trains instead of deployments (shipwatch release)')
    .action((o: { service?: string; namespace?: string; state?: string; limit?: string; releases?: boolean }) =>
      o.releases
        ? dispatch({ limit: o.limit }, async () => (await import('./commands/release-list')).releaseListCommand)
        : dispatch(o, async () => (await import('./commands/list')).listCommand),
    );

  program
    .command('worker')
    .description('run a shipwatch worker (deployment workflows and their activities) with the settings of `npm run worker`: TEMPORAL_*, KUBECONFIG, SHIPWATCH_* and the secrets specs reference (docs/production.md)')
    .option('--task-queue <name>', 'task queue to poll (default: SHIPWATCH_TASK_QUEUE, else "shipwatch")')
    .option('--queues <list>', 'poll "deployments", "evaluators" (the watch evaluators, on the task queue + "-evaluators") or both, comma-separated (default: SHIPWATCH_WORKER_QUEUES, else both)')
    .option('--metrics-address <host:port>', '/metrics, /healthz and /readyz, or "off" (default: SHIPWATCH_METRICS_ADDRESS, else 0.0.0.0:9464)')
    .action((o: { taskQueue?: string; queues?: string; metricsAddress?: string }) => dispatch(o, async () => (await import('./commands/worker')).workerCommand));

  program
    .command('validate')
    .description('check a deploy spec without starting anything')
    .requiredOption('-f, --file <spec>', 'deploy spec (YAML)')
    .option('--online', "also run every rule and metric query once against the spec's Prometheus and report the series each returns")
    .action((o: { file: string; online?: boolean }) => dispatch(o, async () => (await import('./commands/validate')).validateCommand));

  program
    .command('restore')
    .description('restore a database from a backup taken by a deployment (pg_restore; verifies the dump’s sha256 first)')
    .requiredOption('--backup <path-or-id>', 'the .dump file (the deployment report names it), or its id in --store')
    .requiredOption('--to <database>', 'database to overwrite: env:NAME, file:PATH or postgres://user:password@host:5432/db')
    .option('--yes', 'really overwrite it; without --yes nothing changes and the command says what would be overwritten')
    .option('--store <dir>', 'backup store to look an id up in (the spec’s database.backup.store)', './backups')
    .option('--sha256 <digest>', 'expected sha256, for a dump without its manifest (<dump>.json)')
    .action((o: { backup: string; to: string; yes?: boolean; store: string; sha256?: string }) =>
      dispatch(o, async () => (await import('./commands/restore')).restoreCommand),
    );

  const monitoring = program.command('monitoring').description('monitoring as code, generated from the deploy spec');
  monitoring
    .command('render')
    .description('ServiceMonitor, alert rules, Grafana dashboard, log shipping, error tracking and runbook for the service')
    .requiredOption('-f, --file <spec>', 'deploy spec (YAML)')
    .requiredOption('-o, --output <dir>', 'directory to write into')
    .option('--apply', 'also create or update the ServiceMonitor and PrometheusRule in the cluster (KUBECONFIG)')
    .action((o: { file: string; output: string; apply?: boolean }) => dispatch(o, async () => (await import('./commands/monitoring')).monitoringRenderCommand));

  registerRelease(program, dispatch);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.OK;
  const out = createOutput();
  const program = buildProgram(async (action, json) => {
    code = await action(json);
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (isExitError(err)) {
      out.error(err.message);
      return err.code;
    }
    out.error(`shipwatch failed unexpectedly: ${(err as Error).stack ?? String(err)}`);
    return ExitCode.FAILED;
  }
  return code;
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
