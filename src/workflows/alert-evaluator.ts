/**
 * Alert rules as Prometheus evaluates them, in workflow state: a breaching rule is `pending`
 * until it has breached for its `for` duration, then `firing`; a rule that clears before its
 * `for` never fires. On top, the seed runbook's escalation for critical alerts: page after
 * `pageAfterMs` of firing, roll back after `rollbackAfterMs` (or, with auto-rollback off or the
 * deployment paused, page again and wait for a person). Pure: plain data in, plain data out.
 */
import type { RuleEvaluation } from '../activities/types';
import type { ResolvedAlertRule } from '../spec/types';
import type { AlertState } from './messages';

export interface EscalationPolicy {
  pageAfterMs: number;
  rollbackAfterMs: number;
  autoRollback: boolean;
}

export type AlertAction =
  | { kind: 'pending'; rule: string; severity: AlertState['severity']; value: number | null }
  | { kind: 'fired'; rule: string; severity: AlertState['severity']; value: number | null }
  | { kind: 'cleared'; rule: string; wasFiring: boolean }
  | { kind: 'page'; rule: string; firingForMs: number; value: number | null }
  /** Auto-rollback is off or held: a person has to decide. */
  | { kind: 'decide'; rule: string; firingForMs: number; why: 'auto-rollback off' | 'paused' }
  | { kind: 'rollback'; rule: string; firingForMs: number; value: number | null }
  | { kind: 'unknown'; rule: string; outcome: RuleEvaluation['outcome']; error?: string };

export interface AlertStep {
  alerts: AlertState[];
  actions: AlertAction[];
}

/** Initial states, one per rule, all inactive. */
export function initialAlertStates(rules: ResolvedAlertRule[]): AlertState[] {
  return rules.map((r) => ({ rule: r.name, severity: r.severity, state: 'inactive', value: null }));
}

/** What one evaluation round is judged by: the rules, the time, the escalation policy, whether rollback is held. */
export interface EvaluationRound {
  rules: ResolvedAlertRule[];
  nowMs: number;
  policy: EscalationPolicy;
  /** Paused: a rollback the policy would start becomes a `decide` action instead. */
  holdRollback: boolean;
}

/**
 * One evaluation round at `round.nowMs`. A rule whose value could not be read keeps its state (as
 * Prometheus does on an evaluation error) and yields an `unknown` action: never a silent pass.
 */
export function evaluateAlerts(previous: AlertState[], evaluations: RuleEvaluation[], round: EvaluationRound): AlertStep {
  const { rules, nowMs } = round;
  const now = new Date(nowMs).toISOString();
  const actions: AlertAction[] = [];
  const alerts = rules.map((rule): AlertState => {
    const before: AlertState = previous.find((a) => a.rule === rule.name) ?? {
      rule: rule.name,
      severity: rule.severity,
      state: 'inactive',
      value: null,
    };
    const evaluation = evaluations.find((e) => e.rule === rule.name);
    if (!evaluation || evaluation.outcome !== 'ok') {
      actions.push({
        kind: 'unknown',
        rule: rule.name,
        outcome: evaluation?.outcome ?? 'no-data',
        ...(evaluation?.error !== undefined ? { error: evaluation.error } : {}),
      });
      return { ...before };
    }
    const value = evaluation.value;
    if (!evaluation.breaching) {
      if (before.state !== 'inactive') actions.push({ kind: 'cleared', rule: rule.name, wasFiring: before.state === 'firing' });
      return { rule: rule.name, severity: rule.severity, state: 'inactive', value };
    }
    // Breaching.
    const activeSince = before.state === 'inactive' ? now : (before.activeSince ?? now);
    const pendingForMs = nowMs - Date.parse(activeSince);
    if (before.state !== 'firing' && pendingForMs < rule.forMs) {
      if (before.state === 'inactive') actions.push({ kind: 'pending', rule: rule.name, severity: rule.severity, value });
      return { rule: rule.name, severity: rule.severity, state: 'pending', activeSince, value };
    }
    const next: AlertState = {
      ...before,
      rule: rule.name,
      severity: rule.severity,
      state: 'firing',
      activeSince,
      firingSince: before.state === 'firing' ? (before.firingSince ?? now) : now,
      value,
    };
    if (before.state !== 'firing') actions.push({ kind: 'fired', rule: rule.name, severity: rule.severity, value });
    if (rule.severity === 'critical') escalate(next, round, actions);
    return next;
  });
  return { alerts, actions };
}

function escalate(alert: AlertState, round: EvaluationRound, actions: AlertAction[]): void {
  const { nowMs, policy } = round;
  const firingForMs = nowMs - Date.parse(alert.firingSince!);
  if (!alert.paged && firingForMs >= policy.pageAfterMs) {
    alert.paged = true;
    actions.push({ kind: 'page', rule: alert.rule, firingForMs, value: alert.value });
  }
  if (alert.escalated || firingForMs < policy.rollbackAfterMs) return;
  if (!policy.autoRollback) {
    alert.escalated = true;
    actions.push({ kind: 'decide', rule: alert.rule, firingForMs, why: 'auto-rollback off' });
  } else if (round.holdRollback) {
    // Not marked escalated: once resumed, the next round rolls back if the alert still fires.
    actions.push({ kind: 'decide', rule: alert.rule, firingForMs, why: 'paused' });
  } else {
    alert.escalated = true;
    actions.push({ kind: 'rollback', rule: alert.rule, firingForMs, value: alert.value });
  }
}

/** Critical alerts firing now: in a rollout step's health window any of them rolls back at once. */
export function firingCritical(alerts: AlertState[]): AlertState[] {
  return alerts.filter((a) => a.state === 'firing' && a.severity === 'critical');
}
