/** The release report as Markdown (pure): outcome, per service what ran and what was undone, the merged timeline. */
import type { MergedEvent, ReleaseReport } from './report';

const ICON: Record<MergedEvent['status'], string> = { started: '▶', ok: '✓', failed: '✗', warning: '!', info: '·' };

export function timelineLine(e: MergedEvent): string {
  return `${e.at.slice(11, 19)}  ${ICON[e.status]} [${e.source}] ${e.title}${e.detail ? ` — ${e.detail}` : ''}`;
}

export function renderReleaseMarkdown(report: ReleaseReport): string {
  const lines = [
    `# Release ${report.name}: ${report.outcome}`,
    '',
    `- Release workflow: \`${report.releaseId}\`, requested by ${report.requestedBy}`,
    `- Started ${report.startedAt}${report.finishedAt ? `, finished ${report.finishedAt} (${Math.round((report.durationMs ?? 0) / 1000)} s)` : ''}`,
    `- On failure: \`${report.onFailure}\`; watch windows: \`${report.watchMode}\``,
  ];
  if (report.watch) lines.push(`- Shared watch window: ${report.watch.startedAt} → ${report.watch.endedAt ?? report.watch.endsAt} (${report.watch.outcome ?? 'open'})`);
  if (report.failure) lines.push(`- First failure: **${report.failure.service}** — ${report.failure.reason}`);
  if (report.rollbackRequest) lines.push(`- Rollback of the release requested by ${report.rollbackRequest.requestedBy}: ${report.rollbackRequest.reason}`);
  lines.push('', '## Services', '', '| service | release | after | outcome | what ran | what was undone | report |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const s of report.services) {
    const link = s.report.markdownPath ? `[${s.workflowId}](${s.report.markdownPath})` : `\`${s.report.command}\``;
    lines.push(`| ${s.name} | ${s.release} | ${s.after.join(', ') || '—'} | ${s.outcome ?? s.stage}${s.note ? ` (${s.note})` : ''} | ${s.ran} | ${s.undone} | ${link} |`.replace(/\n/g, ' '));
  }
  lines.push('', '## Timeline', '', '```');
  for (const e of report.timeline) lines.push(timelineLine(e));
  lines.push('```', '');
  return lines.join('\n');
}
