/**
 * The Grafana dashboard of the service: the seed's four panels (request rate, error rate, p95
 * latency, active sessions), one panel per alert rule with its threshold drawn, and the release
 * events (started, finished, rolled back) as annotations from shipwatch's own metrics.
 */
import type { DeploySpec, ResolvedAlertRule } from '../spec/types';
import { DEPLOYMENT_EVENTS, METRIC } from '../observability/metric-names';
import type { DeploymentEvent } from '../observability/metric-names';
import { alertCondition } from './rules';
import type { MonitoredService } from './monitored-service';

/** Grafana's dashboard JSON model version this generator writes (Grafana 10.x/11.x). */
export const DASHBOARD_SCHEMA_VERSION = 39;

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

export interface PanelQuery {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource: typeof DATASOURCE;
}

export interface DashboardPanel {
  id: number;
  type: 'timeseries' | 'stat' | 'row';
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: typeof DATASOURCE;
  /** Grafana's name for a panel's queries. */
  targets?: PanelQuery[];
  fieldConfig?: unknown;
  options?: unknown;
  collapsed?: boolean;
}

export interface DashboardAnnotation {
  name: string;
  datasource: typeof DATASOURCE | { type: 'grafana'; uid: '-- Grafana --' };
  enable: boolean;
  hide?: boolean;
  iconColor: string;
  expr?: string;
  step?: string;
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
  builtIn?: number;
  type?: string;
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  tags: string[];
  schemaVersion: number;
  version: number;
  editable: boolean;
  time: { from: string; to: string };
  refresh: string;
  timezone: string;
  templating: { list: unknown[] };
  annotations: { list: DashboardAnnotation[] };
  panels: DashboardPanel[];
}

const GRAFANA_UNIT: Record<ResolvedAlertRule['unit'], string> = {
  ratio: 'percentunit',
  seconds: 's',
  count: 'short',
  bytes: 'bytes',
  none: 'short',
};

const EVENT_LOOK: Record<DeploymentEvent, { name: string; color: string }> = {
  started: { name: 'Release started', color: 'blue' },
  finished: { name: 'Release finished', color: 'green' },
  rolled_back: { name: 'Release rolled back', color: 'red' },
};

/** Every PromQL expression of a dashboard (panels and annotations), for validation. */
export function dashboardQueries(dashboard: GrafanaDashboard): string[] {
  const panels = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
  const annotations = dashboard.annotations.list.flatMap((a) => (a.expr ? [a.expr] : []));
  return [...panels, ...annotations];
}

/** One time-series panel: its query, place on the grid, Grafana unit, and an optional threshold line. */
interface TimeseriesPanel {
  id: number;
  title: string;
  expr: string;
  grid: DashboardPanel['gridPos'];
  unit: string;
  legend?: string;
  description?: string;
  threshold?: number;
}

function timeseries({ id, title, expr, grid, unit, ...options }: TimeseriesPanel): DashboardPanel {
  const thresholds =
    options.threshold === undefined
      ? { mode: 'absolute', steps: [{ color: 'green', value: null }] }
      : {
          mode: 'absolute',
          steps: [
            { color: 'green', value: null },
            { color: 'red', value: options.threshold },
          ],
        };
  return {
    id,
    type: 'timeseries',
    title,
    ...(options.description ? { description: options.description } : {}),
    gridPos: grid,
    datasource: DATASOURCE,
    targets: [{ refId: 'A', expr, datasource: DATASOURCE, ...(options.legend ? { legendFormat: options.legend } : {}) }],
    fieldConfig: {
      defaults: {
        unit,
        thresholds,
        custom: { thresholdsStyle: { mode: options.threshold === undefined ? 'off' : 'line+area' } },
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
  };
}

/** Builds the dashboard. Panel ids are unique and stable (same spec, same ids). */
export function grafanaDashboard(spec: DeploySpec, monitored: MonitoredService): GrafanaDashboard {
  const s = monitored.selector;
  const w = monitored.window;
  let nextId = 1;
  const id = (): number => nextId++;
  const panels: DashboardPanel[] = [];

  panels.push({ id: id(), type: 'row', title: 'Service', collapsed: false, gridPos: { x: 0, y: 0, w: 24, h: 1 } });
  panels.push(
    timeseries({ id: id(), title: 'Request Rate', expr: `sum(rate(http_requests_total{${s}}[${w}]))`, grid: { x: 0, y: 1, w: 12, h: 8 }, unit: 'reqps', legend: 'requests/s' }),
    timeseries({
      id: id(),
      title: 'Error Rate',
      expr: `(sum(rate(http_requests_total{${s},status=~"5.."}[${w}])) or vector(0)) / sum(rate(http_requests_total{${s}}[${w}]))`,
      grid: { x: 12, y: 1, w: 12, h: 8 },
      unit: 'percentunit',
      legend: '5xx share',
      description: 'Share of responses with a 5xx status.',
    }),
    timeseries({
      id: id(),
      title: 'Response Time (95th percentile)',
      expr: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${s}}[${w}])))`,
      grid: { x: 0, y: 9, w: 12, h: 8 },
      unit: 's',
      legend: 'p95',
    }),
    timeseries({ id: id(), title: 'Active Users', expr: `sum(active_sessions{${s}})`, grid: { x: 12, y: 9, w: 12, h: 8 }, unit: 'short', legend: 'active sessions' }),
  );

  panels.push({ id: id(), type: 'row', title: 'Alert rules (watch window)', collapsed: false, gridPos: { x: 0, y: 17, w: 24, h: 1 } });
  spec.watch.rules.forEach((rule, index) => {
    const grid = { x: (index % 2) * 12, y: 18 + Math.floor(index / 2) * 8, w: 12, h: 8 };
    panels.push(
      timeseries({
        id: id(),
        title: `${rule.name} (${rule.severity})`,
        expr: rule.expr,
        grid,
        unit: GRAFANA_UNIT[rule.unit],
        legend: rule.name,
        threshold: rule.threshold,
        description: `${rule.summary || rule.name}. Fires when ${alertCondition(rule)} for ${Math.round(rule.forMs / 1000)}s.`,
      }),
    );
  });

  const labels = `service="${spec.service}",namespace="${spec.namespace}"`;
  const annotations: DashboardAnnotation[] = [
    {
      builtIn: 1,
      name: 'Annotations & Alerts',
      datasource: { type: 'grafana', uid: '-- Grafana --' },
      enable: true,
      hide: true,
      iconColor: 'rgba(0, 211, 255, 1)',
      type: 'dashboard',
    },
    ...DEPLOYMENT_EVENTS.map(
      (event): DashboardAnnotation => ({
        name: EVENT_LOOK[event].name,
        datasource: DATASOURCE,
        enable: true,
        iconColor: EVENT_LOOK[event].color,
        // A point wherever the counter moved: one per release event of this service.
        expr: `sum by (release) (increase(${METRIC.deploymentEvents}{${labels},event="${event}"}[2m])) > 0`,
        step: '1m',
        titleFormat: `${EVENT_LOOK[event].name}: {{release}}`,
        tagKeys: 'release',
      }),
    ),
  ];

  return {
    uid: `shipwatch-${spec.namespace}-${spec.service}`.slice(0, 40),
    title: `${spec.service} (${spec.namespace})`,
    tags: ['shipwatch', spec.service, spec.namespace],
    schemaVersion: DASHBOARD_SCHEMA_VERSION,
    version: 1,
    editable: true,
    time: { from: 'now-24h', to: 'now' },
    refresh: '30s',
    timezone: 'browser',
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Prometheus',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
        },
      ],
    },
    annotations: { list: annotations },
    panels,
  };
}
