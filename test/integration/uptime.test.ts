/**
 * Uptime monitoring on real components: Debian's prometheus-blackbox-exporter (installed by
 * tools/ensure-apt.sh on a machine without it) with the modules `shipwatch monitoring render`
 * writes, scraped by a real Prometheus with the rendered scrape job. The check passes while the
 * service answers; once the service's endpoint is stopped the probe fails, and so does the check.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createUptimeChecker } from '../../src/activities/uptime';
import { blackboxScrapeJob } from '../../src/monitoring/uptime';
import { resolveSpec } from '../../src/spec';
import type { DeploySpec, ResolvedUptime } from '../../src/spec/types';
import { startBlackboxExporter } from '../../tools/local/blackbox';
import type { LocalBlackboxExporter } from '../../tools/local/blackbox';
import { startPrometheus } from '../../tools/local/prometheus';
import type { LocalPrometheus } from '../../tools/local/prometheus';

jest.setTimeout(600_000);

let service: Server;
let serviceUrl: string;
let exporter: LocalBlackboxExporter;
let prometheus: LocalPrometheus;
let spec: DeploySpec;
let uptime: ResolvedUptime;
const signal = new AbortController().signal;

beforeAll(async () => {
  service = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
    res.end('{"status":"ok","version":"v1.0.0"}');
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const address = service.address();
  serviceUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  spec = await resolveSpec({
    service: 'user-management',
    namespace: 'production',
    release: 'v1.0.0',
    image: 'ghcr.io/org/user-management:v1.0.0',
    kubernetes: { deployment: 'user-management', container: 'app' },
    serviceUrl,
    metrics: { prometheusUrl: 'http://127.0.0.1:9090' },
    uptime: { interval: '1s' },
  });
  uptime = spec.uptime!;
  exporter = await startBlackboxExporter();
  prometheus = await startPrometheus({ rawJobs: [blackboxScrapeJob(spec, uptime, exporter.address)] });
});
afterAll(async () => {
  await prometheus?.stop();
  await exporter?.stop();
  service?.close();
});

const check = (since: string) => createUptimeChecker({ pollMs: 250 }).check({ prometheusUrl: prometheus.url, job: uptime.job, url: uptime.url, since, waitMs: 30_000 }, signal);

test("the rendered scrape job probes the service's health URL through the exporter: success for the release in place", async () => {
  expect(uptime.url).toBe(`${serviceUrl}/health`);
  const result = await check(new Date().toISOString());
  expect(result.status).toBe('passed');
  expect(result.detail).toBe(`the blackbox probe of ${serviceUrl}/health succeeds for the new release`);
  expect(result.found).toMatch(/^probe_success\{job="uptime-user-management",instance="http:\/\/127\.0\.0\.1:\d+\/health"\} = 1 at /);
});

test("the service's endpoint stopped: the probe fails, and the check says so with what the probe saw", async () => {
  await new Promise<void>((resolve) => {
    service.closeAllConnections();
    service.close(() => resolve());
  });
  const result = await check(new Date(Date.now() + 1_000).toISOString());
  expect(result.status).toBe('failed');
  expect(result.detail).toBe(`the blackbox probe of ${serviceUrl}/health fails (HTTP status none: no answer)`);
  expect(result.found).toMatch(/ = 0 at /);
});

test('no probe installed for the URL: failed, naming the missing series; Prometheus unreachable: not run', async () => {
  const missing = await createUptimeChecker({ pollMs: 250 }).check({ prometheusUrl: prometheus.url, job: uptime.job, url: 'https://nowhere.example/health', since: new Date().toISOString(), waitMs: 1_000 }, signal);
  expect(missing).toMatchObject({ status: 'failed', found: 'no probe_success{job="uptime-user-management",instance="https://nowhere.example/health"} series in Prometheus' });
  const unreachable = await createUptimeChecker().check({ prometheusUrl: 'http://127.0.0.1:1', job: uptime.job, url: uptime.url, since: new Date().toISOString(), waitMs: 1_000 }, signal);
  expect(unreachable.status).toBe('not_run');
});
