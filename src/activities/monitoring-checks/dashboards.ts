/**
 * Dashboards: the generated Grafana dashboard is a valid dashboard model (the fields Grafana
 * requires, checked structurally) and every panel's query returns data through Prometheus, so
 * "dashboards showing green" means their queries answer for the running release.
 */
import type { MonitoringCheckResult } from '../../model';
import { grafanaDashboard, monitoredService } from '../../monitoring';
import { queryPrometheus } from '../metrics';
import type { MonitoringCheckInput } from '../types';
import { prometheusOf, result } from './context';
import type { MonitoringChecksOptions } from './context';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** What Grafana would refuse or misdraw in a dashboard model; empty when it is valid. */
export function dashboardModelProblems(model: unknown): string[] {
  if (!isObject(model)) return ['the dashboard is not a JSON object'];
  const problems: string[] = [];
  if (typeof model.title !== 'string' || !model.title.trim()) problems.push('title: missing (Grafana requires a title)');
  if (model.uid !== undefined && (typeof model.uid !== 'string' || !/^[A-Za-z0-9._-]{1,40}$/.test(model.uid))) problems.push('uid: at most 40 letters, digits, ".", "_" or "-"');
  if (!isInt(model.schemaVersion) || model.schemaVersion < 1) problems.push('schemaVersion: missing or not a positive integer');
  if (!isObject(model.time) || typeof model.time.from !== 'string' || typeof model.time.to !== 'string') problems.push('time: needs from and to');
  if (!Array.isArray(model.tags) || model.tags.some((t) => typeof t !== 'string')) problems.push('tags: must be a list of strings');
  const templating = isObject(model.templating) && Array.isArray(model.templating.list) ? (model.templating.list as unknown[]) : undefined;
  if (!templating) problems.push('templating.list: missing');
  if (!isObject(model.annotations) || !Array.isArray(model.annotations.list)) problems.push('annotations.list: missing');
  const variables = new Set((templating ?? []).filter(isObject).map((v) => String(v.name)));
  if (!Array.isArray(model.panels)) return [...problems, 'panels: missing'];
  const ids = new Set<number>();
  model.panels.forEach((panel: unknown, i) => {
    const at = `panels[${i}]`;
    if (!isObject(panel)) return problems.push(`${at}: not an object`);
    const name = typeof panel.title === 'string' ? `${at} "${panel.title}"` : at;
    if (typeof panel.type !== 'string' || !panel.type) problems.push(`${name}: type missing`);
    if (!isInt(panel.id)) problems.push(`${name}: id missing`);
    else if (ids.has(panel.id)) problems.push(`${name}: id ${panel.id} used twice`);
    else ids.add(panel.id);
    const g = panel.gridPos;
    if (!isObject(g) || ![g.x, g.y, g.w, g.h].every(isInt)) problems.push(`${name}: gridPos needs integer x, y, w, h`);
    else if ((g.w as number) < 1 || (g.h as number) < 1 || (g.x as number) < 0 || (g.y as number) < 0 || (g.x as number) + (g.w as number) > 24) problems.push(`${name}: gridPos outside Grafana's 24-column grid`);
    if (panel.type === 'row') return;
    const targets = Array.isArray(panel.targets) ? (panel.targets as unknown[]) : [];
    if (targets.length === 0) problems.push(`${name}: no query (targets)`);
    const refIds = new Set<string>();
    for (const t of targets) {
      if (!isObject(t) || typeof t.refId !== 'string' || !t.refId) problems.push(`${name}: a query without refId`);
      else if (refIds.has(t.refId)) problems.push(`${name}: refId ${t.refId} used twice`);
      else refIds.add(t.refId);
      if (isObject(t) && (typeof t.expr !== 'string' || !t.expr.trim())) problems.push(`${name}: a query without expr`);
    }
    const uid = isObject(panel.datasource) ? panel.datasource.uid : undefined;
    const variable = typeof uid === 'string' ? /^\$\{?(\w+)\}?$/.exec(uid)?.[1] : undefined;
    if (variable && !variables.has(variable)) problems.push(`${name}: datasource variable $${variable} is not defined in templating`);
  });
  return problems;
}

export async function dashboards(input: MonitoringCheckInput, options: MonitoringChecksOptions): Promise<MonitoringCheckResult> {
  const { spec } = input;
  const dashboard = grafanaDashboard(spec, monitoredService(spec));
  const checked = `the generated Grafana dashboard "${dashboard.title}" (model fields Grafana requires) and each panel's query through Prometheus`;
  const problems = dashboardModelProblems(JSON.parse(JSON.stringify(dashboard)));
  if (problems.length) return result('dashboards', checked, { status: 'failed', detail: `the dashboard model is invalid: ${problems.join('; ')}`, found: problems });
  const prom = prometheusOf(input);
  if ('missing' in prom) return result('dashboards', checked, { status: 'not_run', detail: `the model is valid, but its queries could not be run: ${prom.missing}` });
  const found: string[] = [`model valid: schemaVersion ${dashboard.schemaVersion}, ${dashboard.panels.length} panels`];
  const empty: string[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      const answer = await queryPrometheus(prom.url, target.expr, options);
      if (answer.outcome === 'unreachable') return result('dashboards', checked, { status: 'not_run', detail: answer.error ?? 'Prometheus unreachable', found });
      if (answer.outcome === 'ok') found.push(`${panel.title}: data (${answer.values.length} series)`);
      else {
        empty.push(panel.title);
        found.push(`${panel.title}: NO DATA (${answer.error ?? answer.outcome})`);
      }
    }
  }
  if (empty.length) return result('dashboards', checked, { status: 'failed', detail: `${empty.length} panel${empty.length > 1 ? 's show' : ' shows'} no data: ${empty.join(', ')}`, found });
  return result('dashboards', checked, { status: 'passed', detail: `the model is valid and all ${found.length - 1} panel queries return data`, found });
}
