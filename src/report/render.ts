/**
 * Renders the seed's Deployment Report from a DeploymentReport (Markdown and JSON). Pure: no I/O,
 * no Node built-ins. Values are written by src/format.ts, the same way the timeline writes them.
 */
import type { DeploymentOutcome, DeploymentReport, EventStatus, MetricsComparison, SmokeResult, TrafficSample } from '../model';
import { formatDate, formatDuration, formatDurationInWords, formatMetric } from '../format';
import { monitoringChecklist, renderMonitoringSection } from '../monitoring/report';
import { entryPointRecommendation } from './entry-point';
import { onCallRecommendation } from './on-call';
import { uptimeRecommendation } from './uptime';

// ------------------------------------------------------------------ the Deployment Report

/** The seed's recovery time objective for a rollback. */
export const ROLLBACK_RTO_MS = 15 * 60_000;

const STATUS: Record<DeploymentOutcome, string> = {
  IN_PROGRESS: '⏳ IN PROGRESS',
  SUCCEEDED: '✅ SUCCESS',
  ROLLED_BACK: '↩️ ROLLED BACK',
  FAILED: '❌ FAILED',
  MANUAL_ACTION_REQUIRED: '🚨 MANUAL ACTION REQUIRED',
};
const EVENT_ICON: Record<EventStatus, string> = { started: '✅', ok: '✅', failed: '❌', warning: '⚠️', info: 'ℹ️' };
const tick = (ok: boolean): string => (ok ? '✅' : '❌');

const hhmm = (iso: string): string => iso.slice(11, 16);

/** The seed's "Smoke Test Results" list. */
export function renderSmokeResults(smoke: SmokeResult): string[] {
  return smoke.steps.map((s) => `- ${tick(s.ok)} ${s.name}: ${s.detail}`);
}

/** The seed's "Comparison to Pre-Deployment (Baseline)" lines and the verdict under them. */
export function renderMetricsComparison(comparison: MetricsComparison): string[] {
  const lines = comparison.rows.map((r) => `- ${r.text} ${r.ok ? '✅' : r.outcome === 'ok' ? '❌' : '⚠️'}${r.reason ? ` — ${r.reason}` : ''}`);
  const degraded = comparison.rows.filter((r) => !r.ok && r.outcome === 'ok');
  const missing = comparison.rows.filter((r) => r.outcome !== 'ok');
  lines.push('');
  if (degraded.length > 0) lines.push(`Performance degradation detected: ${degraded.map((r) => r.name).join(', ')}. ❌`);
  else lines.push('No performance degradation detected. ✅');
  if (missing.length > 0) lines.push(`Not compared (${missing.map((r) => `${r.name}: ${r.outcome}`).join(', ')}). ⚠️`);
  return lines;
}

function renderTraffic(report: DeploymentReport): string[] {
  const old = report.previousRelease ?? report.previousImage ?? 'previous';
  const lines = [`**Before Deployment**: Old version (${old}) - 100%`];
  const samples: TrafficSample[] = report.traffic;
  if (samples.length === 0) {
    lines.push('**During Deployment**: no traffic samples recorded');
  } else {
    lines.push('**During Deployment**:');
    samples.forEach((sample, i) => {
      const next = samples[i + 1];
      const when = next ? `${hhmm(sample.at)}-${hhmm(next.at)}` : `${hhmm(sample.at)}+`;
      const split =
        sample.newPercent >= 100 ? 'New (100%)' : sample.newPercent <= 0 ? 'Old (100%)' : `Old (${100 - sample.newPercent}%) + New (${sample.newPercent}%)`;
      lines.push(`  - ${when}: ${split}`);
    });
    const last = samples[samples.length - 1]!;
    lines.push(`**After Deployment**: ${last.newPercent >= 100 ? `New version (${report.release}) - 100%` : last.newPercent <= 0 ? `Old version (${old}) - 100%` : `Old (${100 - last.newPercent}%) + New (${last.newPercent}%)`}`);
  }
  lines.push('');
  const a = report.availability;
  if (!a) lines.push('Availability was not probed during the transition. ⚠️');
  else if (a.failures === 0) lines.push(`No user-facing errors during transition. ✅ (Zero downtime: ${a.probes} probes, 0 failed; avg ${Math.round(a.averageMs)}ms, p95 ${Math.round(a.p95Ms)}ms)`);
  else {
    lines.push(`User-facing errors during transition. ❌ (${a.probes} probes, ${a.failures} failed; avg ${Math.round(a.averageMs)}ms, p95 ${Math.round(a.p95Ms)}ms)`);
    for (const f of a.failed) lines.push(`  - ${hhmm(f.at)}: ${f.error}`);
  }
  return lines;
}

function renderRollback(report: DeploymentReport): string[] {
  const r = report.rollback;
  const lines = [`**Rollback Required**: ${r.required ? 'YES' : 'NO'}`, `**Rollback Readiness**: ${r.readiness}`];
  if (!r.required) return lines;
  if (r.reason) lines.push(`**Reason**: ${r.reason}`);
  if (r.trigger) lines.push(`**Trigger**: ${r.trigger}`);
  if (r.requestedBy) lines.push(`**Requested By**: ${r.requestedBy}`);
  if (r.startedAt) lines.push(`**Started**: ${formatDate(r.startedAt)}${r.finishedAt ? ` — **Finished**: ${formatDate(r.finishedAt)}` : ''}`);
  if (r.durationMs !== undefined) {
    const within = r.durationMs <= ROLLBACK_RTO_MS;
    lines.push(`**Rollback Duration**: ${formatDuration(r.durationMs)} (${within ? 'within' : 'exceeds'} the 15-minute RTO) ${tick(within)}`);
  }
  if (r.succeeded !== undefined) lines.push(`**Rollback Result**: ${r.succeeded ? 'old version restored ✅' : 'INCOMPLETE ❌'}`);
  if (r.migrationsRolledBack !== undefined) lines.push(`**Migrations Rolled Back**: ${r.migrationsRolledBack ? 'YES' : 'NO'}`);
  if (r.failedSteps?.length) lines.push('**Failed Rollback Steps**:', ...r.failedSteps.map((s) => `  - ${s}`));
  if (r.smokeAfterRollback) {
    lines.push('', `**Smoke Tests on ${r.smokeAfterRollback.release}**: ${r.smokeAfterRollback.passed ? 'PASSED ✅' : 'FAILED ❌'}`, ...renderSmokeResults(r.smokeAfterRollback));
  }
  return lines;
}

/** "24 hours", "1 hour", "2 minutes", "90 minutes": the watch window as the seed's recommendation says it. */
function windowInWords(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours >= 1 && Number.isInteger(hours)) return `${hours} hour${hours === 1 ? '' : 's'}`;
  return formatDurationInWords(ms);
}

/** The real restore command for the report's backup (`shipwatch restore`, src/commands/restore.ts). */
export function restoreCommand(report: DeploymentReport): string {
  return `shipwatch restore --backup ${report.backup!.location} --to ${report.databaseRef ?? '<database: env:NAME or file:PATH>'} --yes`;
}

/** Recommendations computed from what happened, most urgent first. */
export function recommendations(report: DeploymentReport): string[] {
  const out: string[] = [];
  const r = report.rollback;
  switch (report.outcome) {
    case 'SUCCEEDED': {
      const windowMs = report.watch ? Date.parse(report.watch.endsAt) - Date.parse(report.watch.startedAt) : 24 * 3_600_000;
      out.push(`✅ Deployment successful, monitor for ${windowInWords(windowMs)}`);
      break;
    }
    case 'ROLLED_BACK':
      out.push(`🔍 Find the cause of the rollback (${r.reason ?? r.trigger ?? 'see timeline'}) and fix it before redeploying ${report.release}`);
      if (report.migrations?.stopped && !r.migrationsRolledBack) {
        out.push(`⚠️ The migration job ${report.migrations.jobName} was stopped while running and not rolled back: check the schema${report.backup ? `; to go back, ${restoreCommand(report)}` : ''}`);
      } else if (r.migrationsRolledBack === false && report.migrations?.applied.length) {
        out.push('⚠️ The schema still has this release\'s migrations: confirm the old version works with it, or run the migration rollback');
      }
      break;
    case 'FAILED':
      if (report.migrations && !report.migrations.succeeded) {
        out.push(`🛠️ Inspect the migration job ${report.migrations.jobName} logs; the schema is as the job left it`);
        if (report.backup) out.push(`💾 If the schema is damaged, restore the backup taken before the migrations: ${restoreCommand(report)}`);
        else out.push('⚠️ No backup was taken before the migrations (no `database` in the spec): repair the schema by hand');
      } else {
        out.push(`🛠️ Fix the failure in phase ${report.phase} and redeploy`);
      }
      break;
    case 'MANUAL_ACTION_REQUIRED':
      out.push('🚨 The rollback did not complete: an engineer must restore the service by hand (see Rollback Status)');
      break;
    case 'IN_PROGRESS':
      out.push(`⏳ Deployment still in phase ${report.phase}`);
      break;
  }
  if (r.durationMs !== undefined && r.durationMs > ROLLBACK_RTO_MS) out.push(`⚠️ Rollback took ${formatDuration(r.durationMs)}, beyond the 15-minute RTO: review the rollback procedure`);
  if (r.smokeAfterRollback && !r.smokeAfterRollback.passed) out.push(`🚨 Smoke tests fail on ${r.smokeAfterRollback.release} too: the problem may not be the release`);
  if (report.availability && report.availability.failures > 0) {
    out.push(`⚠️ ${report.availability.failures} of ${report.availability.probes} health probes failed during the transition: review readiness probes and maxUnavailable`);
  }
  for (const row of report.comparison?.rows ?? []) {
    if (!row.ok) out.push(row.outcome === 'ok' ? `⚠️ ${row.name} regressed: ${row.reason ?? row.text}` : `⚠️ ${row.name} could not be compared (${row.outcome}): check the query and Prometheus`);
  }
  if (report.watch?.alertsFired.length) out.push(`🔔 Review the alerts that fired during the watch window: ${report.watch.alertsFired.map((a) => a.rule).join(', ')}`);
  out.push(...watchRecommendations(report));
  out.push(onCallRecommendation(report.timeline));
  out.push(...entryPointRecommendation(report.timeline));
  out.push(...uptimeRecommendation(report.timeline));
  if (report.outcome === 'SUCCEEDED' || report.monitoring) out.push(...monitoringChecklist(report.monitoring));
  if (report.reviewAt) out.push(`🔔 Post-deployment review scheduled for ${formatDate(report.reviewAt)}`);
  else if (report.outcome !== 'IN_PROGRESS') out.push('🔔 No post-deployment review scheduled (watch.reviewAfter is off): hold one if anything here needs it');
  return out.map((line, i) => `${i + 1}. ${line}`);
}

/**
 * "Alert thresholds configured" is ticked only when checks actually evaluated the rules; a watch
 * that was blind, or had nothing to watch, says so.
 */
function watchRecommendations(report: DeploymentReport): string[] {
  const w = report.watch;
  if (!w) return report.outcome === 'SUCCEEDED' ? ['⚠️ No watch window ran: alert thresholds were not evaluated'] : [];
  const sight = w.sight;
  if (sight?.unwatched) return [`⚠️ Nothing was watched after the rollout (${sight.unwatched}): add metrics and alert rules to the spec`];
  if (sight && sight.evaluated === 0 && sight.checks > 0) return [`⚠️ Alert rules were never evaluated (${w.watched ?? sight.reasons.join('; ')}): fix Prometheus or the rules' queries`];
  const out: string[] = [];
  if (sight && (sight.blindMs > 0 || sight.blind)) out.push(`⚠️ The watch was partly blind (${w.watched ?? sight.reasons.join('; ')}): fix what kept the rules from being evaluated`);
  if (report.outcome === 'SUCCEEDED' && (sight ? sight.evaluated > 0 : w.checks > 0)) out.push(`✅ Alert thresholds configured and evaluated (${sight ? sight.evaluated : w.checks} checks)`);
  return out;
}

function renderHealthWindows(report: DeploymentReport): string[] {
  if (!report.healthWindows?.length) return [];
  return [
    '**Step Health Windows**:',
    ...report.healthWindows.map(
      (h) =>
        `  - step ${h.step}: alert rules evaluated in ${h.evaluated} of ${h.checks} checks${h.blindMs > 0 ? `; blind ${formatDuration(h.blindMs)}: ${h.reasons.join('; ')} ⚠️` : h.evaluated === h.checks ? ' ✅' : ' ⚠️'}`,
    ),
  ];
}

function renderMetrics(report: DeploymentReport): string[] {
  const lines: string[] = ['**Immediately After Deployment**:'];
  if (report.pods) {
    const ready = report.pods.pods.filter((p) => p.ready).length;
    lines.push(`- Active Pods: ${ready}/${report.pods.expected} running`);
  }
  if (report.comparison) {
    for (const row of report.comparison.rows) {
      lines.push(`- ${row.name}: ${row.after === null ? row.outcome.replace('-', ' ') : formatMetric(row.after, row.unit)}`);
    }
    lines.push('', '**Comparison to Pre-Deployment (Baseline)**:', ...renderMetricsComparison(report.comparison));
  } else {
    lines.push(`- Metrics not compared${report.baseline ? ' (baseline captured, deployment ended before the comparison)' : ''}`);
  }
  return lines;
}

function renderMigrations(report: DeploymentReport): string[] {
  const lines: string[] = [];
  if (report.backup) {
    const b = report.backup;
    lines.push(`**Backup**: \`${b.location}\` (${formatMetric(b.sizeBytes, 'bytes')}, ${b.tocEntries} entries, sha256 ${b.sha256.slice(0, 12)}…, ${formatDuration(b.durationMs)})`, '');
  }
  const m = report.migrations;
  if (!m) return [...lines, 'No migrations ran in this deployment.'];
  lines.push('```', m.succeeded ? 'Migrations applied:' : m.stopped ? `Migration job ${m.jobName} STOPPED by the rollback while running (it may have applied part); applied as far as known:` : `Migration job ${m.jobName} FAILED; applied before the failure:`);
  lines.push(...(m.applied.length ? m.applied.map((n) => `  [X] ${n}`) : ['  (none)']));
  lines.push('', `Migration duration: ${formatDuration(m.durationMs)}`, '```');
  if (!m.succeeded && m.failed) lines.push('', `**Failing migration**: ${m.failed}`);
  if (!m.succeeded && m.logTail) lines.push('', 'Last lines of the job log:', '```', m.logTail.trimEnd(), '```');
  if (!m.succeeded) lines.push('', report.backup ? `**Restore**: \`${restoreCommand(report)}\`` : '**Restore**: no backup was taken before the migrations');
  return lines;
}

function renderIssues(report: DeploymentReport): string[] {
  if (report.issues.length === 0) {
    const lines = ['**None** ✅', ''];
    if (report.smoke?.passed) lines.push('All smoke tests passed on first attempt.');
    if (!report.rollback.required) lines.push('No rollback required.');
    return lines;
  }
  return report.issues.map((issue, i) => `${i + 1}. ${issue}`);
}

/** "4bf92f35… — http://jaeger/trace/4bf92f35…", or why there is no trace. */
export function traceText(trace: NonNullable<DeploymentReport['trace']>): string {
  if (!trace.traceId) return `not recorded (${trace.off ?? 'no trace'})`;
  return trace.url ? `${trace.traceId} — ${trace.url}` : `${trace.traceId} (${trace.off ?? 'no link'})`;
}

/** The seed's Deployment Report, every section, as Markdown. */
export function renderMarkdown(report: DeploymentReport): string {
  const header = ['## Deployment Report', '', `**Release**: ${report.release}`, `**Service**: ${report.service} (namespace ${report.namespace})`, `**Image**: ${report.image}`];
  if (report.change) header.push(`**Change**: ${report.change.reference}${report.change.approvedBy ? ` (approved by ${report.change.approvedBy})` : ''}${report.change.url ? ` — ${report.change.url}` : ''}`);
  header.push(`**Date**: ${formatDate(report.startedAt)}`);
  header.push(`**Deployment Duration**: ${report.durationMs !== undefined ? formatDurationInWords(report.durationMs) : 'in progress'}`);
  header.push(`**Status**: ${STATUS[report.outcome]}`);
  if (report.trace) header.push(`**Trace**: ${traceText(report.trace)}`);

  const timeline = ['| Time | Event | Status |', '|------|-------|--------|', ...report.timeline.map((e) => `| ${hhmm(e.at)} | ${(e.detail ? `${e.title} (${e.detail})` : e.title).replace(/\|/g, '\\|')} | ${EVENT_ICON[e.status]} |`)];

  const sections: [string, string[]][] = [
    ['Deployment Timeline', timeline],
    ['Smoke Test Results', report.smoke ? [...renderSmokeResults(report.smoke)] : ['Smoke tests did not run.']],
    ['Post-Deployment Metrics', renderMetrics(report)],
    ['Issues Encountered', renderIssues(report)],
    ['Database Migration Results', renderMigrations(report)],
    ['Traffic Routing', renderTraffic(report)],
    ['Rollback Status', renderRollback(report)],
  ];
  if (report.watch) {
    const w = report.watch;
    sections.push([
      'Watch Window',
      [
        `**Window**: ${formatDate(w.startedAt)} → ${formatDate(w.endsAt)}${w.outcome ? ` (${w.outcome.replace('_', ' ')})` : ' (running)'}`,
        `**Checks**: ${w.checks}`,
        ...(w.watched ? [`**Watched**: ${w.watched}${w.sight && (w.sight.blindMs > 0 || w.sight.unwatched || w.sight.evaluated === 0) ? ' ⚠️' : ' ✅'}`] : []),
        `**Alerts Fired**: ${w.alertsFired.length === 0 ? 'none ✅' : ''}`,
        ...w.alertsFired.map((a) => `  - ${hhmm(a.firedAt)} ${a.rule} (${a.severity})${a.value !== null ? `: ${a.value}` : ''}`),
      ],
    ]);
  }
  const health = renderHealthWindows(report);
  if (health.length) sections.push(['Rollout Health Windows', health]);
  sections.push(['Monitoring', renderMonitoringSection(report.monitoring)]);
  sections.push(['Recommendations', recommendations(report)]);

  const out = [...header];
  for (const [title, body] of sections) out.push('', '---', '', `### ${title}`, '', ...body);
  return out.join('\n').replace(/[ \t]+$/gm, '') + '\n';
}

/** The report as JSON (the same object, stable key order as built), for scripts. */
export function renderJson(report: DeploymentReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
