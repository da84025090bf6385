/** Text forms of timeline events and deployment status, for terminals and plain logs. */
import { formatDuration } from '../format';
import type { DeploymentStatus, TimelineEvent } from '../model';
import { paint } from './output';
import type { Output } from './output';

const ICON: Record<TimelineEvent['status'], string> = {
  started: '▶',
  ok: '✅',
  failed: '❌',
  warning: '⚠️',
  info: 'ℹ️',
};

export function timeOf(iso: string): string {
  return iso.slice(11, 19);
}

export function formatEvent(out: Output, event: TimelineEvent): string {
  const color = event.status === 'failed' ? 'red' : event.status === 'warning' ? 'yellow' : event.status === 'ok' ? 'green' : 'cyan';
  const detail = event.detail ? paint(out, 'dim', ` — ${event.detail}`) : '';
  return `${timeOf(event.at)}  ${event.phase.padEnd(11)} ${paint(out, color, ICON[event.status])} ${event.title}${detail}`;
}

export function formatStatusLine(status: DeploymentStatus): string {
  const parts = [
    `${status.service} ${status.release}`,
    status.outcome === 'IN_PROGRESS' ? status.phase : status.outcome,
  ];
  if (status.phase === 'ROLLOUT' || status.rollout.newReady > 0) {
    parts.push(`pods ${status.rollout.newReady}/${status.rollout.replicas} new`, `traffic ${status.trafficNewPercent}% new`);
  }
  const firing = status.alerts.filter((a) => a.state === 'firing');
  const pending = status.alerts.filter((a) => a.state === 'pending');
  if (firing.length) parts.push(`FIRING: ${firing.map((a) => a.rule).join(', ')}`);
  if (pending.length) parts.push(`pending: ${pending.map((a) => a.rule).join(', ')}`);
  if (status.watch && status.outcome === 'IN_PROGRESS') parts.push(`watch ends in ${formatDuration(status.watch.timeLeftMs)}`);
  if (status.paused) parts.push('PAUSED');
  return parts.join(' │ ');
}

export function formatStatus(out: Output, status: DeploymentStatus): string[] {
  const lines = [
    `${paint(out, 'bold', status.deploymentId)}: ${status.service} in ${status.namespace}`,
    `  Release:   ${status.release} (${status.image})${status.previousRelease ? `, replacing ${status.previousRelease}` : ''}`,
    `  State:     ${status.outcome === 'IN_PROGRESS' ? `in progress, phase ${status.phase}` : status.outcome}${status.paused ? ' (paused)' : ''}`,
    `  Started:   ${status.startedAt}`,
    `  Rollout:   step ${status.rollout.step}/${status.rollout.steps}, ${status.rollout.newReady}/${status.rollout.replicas} pods on the new version, traffic ${status.trafficNewPercent}% new`,
  ];
  if (status.watch) {
    lines.push(
      `  Watch:     ${status.watch.checks} checks since ${status.watch.startedAt}, ends ${status.watch.endsAt}` +
        (status.outcome === 'IN_PROGRESS' ? ` (${formatDuration(status.watch.timeLeftMs)} left)` : ''),
    );
    // How much of it was actually watched: a blind watch is never shown as a pass.
    if (status.watch.watched) lines.push(`  Watched:   ${status.watch.watched}`);
  }
  const active = status.alerts.filter((a) => a.state !== 'inactive');
  lines.push(
    `  Alerts:    ${
      active.length
        ? active.map((a) => `${a.rule} ${a.state.toUpperCase()} (${a.severity}, value ${a.value ?? 'n/a'})`).join('; ')
        : 'none firing'
    }`,
  );
  if (status.lastEvent) lines.push(`  Last:      ${formatEvent(out, status.lastEvent)}`);
  return lines;
}
