/**
 * When a window told only of changes has to look again without being told: the instants at
 * which ./alert-evaluator.ts would act on unchanged evaluations (a pending rule reaching its
 * `for`, a firing critical one reaching pageAfter or rollbackAfter), so the deployment wakes then
 * and runs the same `evaluateAlerts` on the evaluations it holds. Pure. The thresholds are the
 * alert evaluator's; test/unit/deployment-evaluator.test.ts checks that `evaluateAlerts` acts at
 * the instant given here and not a millisecond before.
 */
import type { AlertState } from './messages';
import type { EscalationPolicy } from './alert-evaluator';
import type { ResolvedAlertRule } from '../spec/types';

/** The next instant after `nowMs` (the last round) at which an alert rule's state or escalation changes with unchanged values, or undefined. */
export function alertDecisionAt(alerts: AlertState[], round: { rules: ResolvedAlertRule[]; policy: EscalationPolicy; paused: boolean; nowMs: number }): number | undefined {
  const { rules, policy, paused, nowMs } = round;
  const due: number[] = [];
  for (const alert of alerts) {
    const rule = rules.find((r) => r.name === alert.rule);
    if (!rule) continue;
    if (alert.state === 'pending' && alert.activeSince) due.push(Date.parse(alert.activeSince) + rule.forMs);
    if (alert.state !== 'firing' || rule.severity !== 'critical' || !alert.firingSince) continue;
    const firing = Date.parse(alert.firingSince);
    if (!alert.paged) due.push(firing + policy.pageAfterMs);
    if (alert.escalated) continue;
    // Paused with auto-rollback on: the round at rollbackAfter says the rollback is held; then resume decides.
    const held = paused && policy.autoRollback && nowMs >= firing + policy.rollbackAfterMs;
    if (!held) due.push(firing + policy.rollbackAfterMs);
  }
  const later = due.filter((t) => t > nowMs);
  return later.length ? Math.min(...later) : undefined;
}
