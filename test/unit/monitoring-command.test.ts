/** `renderMonitoring` writes every monitoring file for a spec file, honouring the spec's own metrics selector. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { renderMonitoring } from '../../src/commands/monitoring';
import type { PrometheusRulesFile } from '../../src/monitoring';
import { SpecError } from '../../src/spec';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shipwatch-render-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const specYaml = `
service: user-management
namespace: staging
release: v1.2.0
image: ghcr.io/org/user-management:v1.2.0
kubernetes: { deployment: user-management, container: app }
serviceUrl: http://127.0.0.1:8080
metrics:
  prometheusUrl: http://127.0.0.1:9090
  selector: 'app="user-management",env="staging"'
  window: 2m
watch:
  interval: 15s
`;

test('writes the seven monitoring files into the output directory', async () => {
  const specFile = join(dir, 'deploy.yaml');
  await writeFile(specFile, specYaml);
  const out = join(dir, 'out');
  const result = await renderMonitoring({ specFile, outDir: out });
  expect(result.files.map((f) => basename(f))).toEqual([
    'servicemonitor.yaml',
    'prometheusrule.yaml',
    'prometheus-alerts.yml',
    'grafana-dashboard.json',
    'filebeat.yml',
    'error-tracking.yaml',
    'runbook.md',
  ]);
  const rules = parse(await readFile(join(out, 'prometheus-alerts.yml'), 'utf8')) as PrometheusRulesFile;
  expect(rules.groups[0]!.interval).toBe('15s');
  expect(rules.groups[0]!.rules[0]!.expr).toContain('http_requests_total{app="user-management",env="staging",status=~"5.."}[2m]');
  const dashboard = JSON.parse(await readFile(join(out, 'grafana-dashboard.json'), 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  expect(dashboard.panels.find((p) => p.title === 'Request Rate')!.targets![0]!.expr).toBe(
    'sum(rate(http_requests_total{app="user-management",env="staging"}[2m]))',
  );
  const monitor = parse(await readFile(join(out, 'servicemonitor.yaml'), 'utf8')) as { spec: { endpoints: { interval: string }[] } };
  expect(monitor.spec.endpoints[0]!.interval).toBe('15s');
  expect(await readFile(join(out, 'runbook.md'), 'utf8')).toContain('shipwatch status deploy-staging-user-management');
});

test('a bad spec is a SpecError and writes nothing', async () => {
  const specFile = join(dir, 'bad.yaml');
  await writeFile(specFile, specYaml.replace('interval: 15s', 'interval: soon'));
  const out = join(dir, 'bad-out');
  await expect(renderMonitoring({ specFile, outDir: out })).rejects.toThrow(SpecError);
  await expect(readFile(join(out, 'runbook.md'), 'utf8')).rejects.toThrow(/ENOENT/);
});
