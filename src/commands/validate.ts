/** `shipwatch validate -f spec.yaml`: checks a deploy spec without starting anything. */
import type { CommandContext } from '../cli/context';
import { ExitCode } from '../cli/errors';
import { loadSpecOrExit } from '../cli/spec';
import { formatDuration } from '../format';
import { checkOnline, formatOnline } from '../spec/online';
import type { DeploySpec } from '../spec/types';

export function describeSpec(spec: DeploySpec): string[] {
  const k = spec.kubernetes;
  return [
    `${spec.service} ${spec.release} → namespace ${spec.namespace}, Deployment ${k.deployment} (container ${k.container}), image ${spec.image}`,
    `  rollout:    ${k.stepPods === 0 ? 'one rolling update' : `${k.stepPods} pod(s) per step, ${formatDuration(k.stepWindowMs)} health window each`}, progress deadline ${formatDuration(k.progressDeadlineMs)}`,
    `  backup:     ${spec.database ? `pg_dump (${spec.database.backup.mode}) to ${spec.database.backup.store}` : 'none (no database in the spec)'}`,
    `  migrations: ${spec.migrations ? `${spec.migrations.command.join(' ')}${spec.migrations.rollbackCommand ? `; rollback: ${spec.migrations.rollbackCommand.join(' ')}` : ''}` : 'none'}`,
    `  smoke:      ${spec.smoke ? `${spec.smoke.suite.steps.length} steps against ${spec.smoke.baseUrl}` : 'none'}`,
    `  metrics:    ${spec.metrics ? `${spec.metrics.checks.length} checks against the baseline from ${spec.metrics.prometheusUrl}` : 'none'}`,
    `  watch:      ${formatDuration(spec.watch.durationMs)}, every ${formatDuration(spec.watch.intervalMs)}, rules ${spec.watch.rules.map((r) => r.name).join(', ')}; page after ${formatDuration(spec.watch.pageAfterMs)}, ${spec.watch.autoRollback ? `roll back after ${formatDuration(spec.watch.rollbackAfterMs)}` : 'no automatic rollback'}`,
  ];
}

/**
 * Exit 2 for an invalid spec (every bad field named); with --online, exit 1 when an expression
 * fails, returns no series, or Prometheus cannot be reached: a check that could not run is no pass.
 */
export async function validateCommand(opts: { file: string; online?: boolean; json?: boolean }, ctx: CommandContext): Promise<number> {
  const spec = await loadSpecOrExit(opts.file);
  const online = opts.online ? await checkOnline(spec) : undefined;
  if (opts.json) ctx.out.data({ valid: true, spec, ...(online ? { online } : {}) });
  else {
    ctx.out.line(`${opts.file}: valid.`);
    for (const line of describeSpec(spec)) ctx.out.line(line);
    if (online) for (const line of formatOnline(online)) ctx.out.line(line);
  }
  return online && !online.ok ? ExitCode.FAILED : ExitCode.OK;
}
