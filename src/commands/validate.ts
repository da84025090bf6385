/** `shipwatch validate -f spec.yaml`: checks a deploy spec without starting anything. */
import type { CommandContext } from '../cli/context';
import { ExitCode } from '../cli/errors';
import { loadSpecOrExit } from '../cli/spec';
import { formatDuration } from '../format';
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

export async function validateCommand(opts: { file: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  const spec = await loadSpecOrExit(opts.file);
  if (opts.json) ctx.out.data({ valid: true, spec });
  else {
    ctx.out.line(`${opts.file}: valid.`);
    for (const line of describeSpec(spec)) ctx.out.line(line);
  }
  return ExitCode.OK;
}
