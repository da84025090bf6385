/**
 * The deployment report's "Monitoring" section and the seed's "Monitoring Configured" checklist
 * lines for its recommendations, from the checks the deployment ran. Pure (no I/O), so the report
 * renderer calls it and tests read it. A line is ticked only when the checks behind it passed.
 */
import { formatDate } from '../format';
import { checklistState, MONITORING_CHECKLIST } from '../model/monitoring';
import type { MonitoringCheckName, MonitoringCheckStatus, MonitoringRecord } from '../model/monitoring';

export const CHECK_TITLE: Record<MonitoringCheckName, string> = {
  scrape: 'Scrape',
  'alerts-configured': 'Alerts configured',
  'alerts-tested': 'Alerts tested',
  logging: 'Logging',
  'error-tracking': 'Error tracking',
  dashboards: 'Dashboards',
};

const ICON: Record<MonitoringCheckStatus, string> = { passed: '✅', failed: '❌', not_run: '⚠️ not run —' };

/** The "Monitoring" section: each check with what it checked and what it found. */
export function renderMonitoringSection(record: MonitoringRecord | undefined): string[] {
  if (!record || record.checks.length === 0) return ['Monitoring was not checked in this deployment.'];
  const lines = [`**Checked**: ${formatDate(record.checkedAt)}`, ''];
  for (const c of record.checks) {
    lines.push(`- ${ICON[c.status]} **${CHECK_TITLE[c.check]}**: ${c.detail}`, `  - Checked: ${c.checked}`);
    for (const f of c.found) lines.push(`  - ${f}`);
  }
  return lines;
}

/** The seed's four "Monitoring Configured" lines, for the recommendations (without numbering). */
export function monitoringChecklist(record: MonitoringRecord | undefined): string[] {
  return MONITORING_CHECKLIST.map(({ line, checks }) => {
    const state = checklistState(record, checks);
    if (state === 'passed') return `✅ ${line}`;
    if (state === 'not checked') return `⚠️ ${line}: not checked`;
    const failed = checks.filter((name) => record?.checks.find((c) => c.check === name)?.status === 'failed').map((name) => CHECK_TITLE[name]);
    return `❌ ${line}: ${failed.join(', ')} failed (see Monitoring)`;
  });
}
