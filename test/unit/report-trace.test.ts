/**
 * The report's trace line (issue 16): the report writer adds the deployment's trace ID and its
 * link to the trace backend (SHIPWATCH_TRACE_URL), or says why there is none; the renderer shows it
 * under the status.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReportWriter, currentTrace } from '../../src/activities/report';
import type { DeploymentReport } from '../../src/model';
import { traceText } from '../../src/report/render';

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

test('tracing on with a link: the ID and the URL with the ID in it', () => {
  expect(currentTrace({ ...on, SHIPWATCH_TRACE_URL: 'http://127.0.0.1:16686/trace/{traceId}' }, ID)).toEqual({ traceId: ID, url: `http://127.0.0.1:16686/trace/${ID}` });
  expect(traceText({ traceId: ID, url: `http://127.0.0.1:16686/trace/${ID}` })).toBe(`${ID} — http://127.0.0.1:16686/trace/${ID}`);
});

test('tracing on without a link: the ID, and how to get a link', () => {
  const trace = currentTrace(on, ID);
  expect(trace).toEqual({ traceId: ID, off: 'no link: set SHIPWATCH_TRACE_URL (a URL with {traceId}) to link the trace backend' });
  expect(traceText(trace)).toBe(`${ID} (no link: set SHIPWATCH_TRACE_URL (a URL with {traceId}) to link the trace backend)`);
});

test('tracing off, outside the trace, or misconfigured: no ID, and why', () => {
  expect(traceText(currentTrace({}, ID))).toBe('not recorded (tracing off (OTEL_EXPORTER_OTLP_ENDPOINT is not set; set OTEL_EXPORTER_OTLP_ENDPOINT to export deployment traces over OTLP))');
  expect(currentTrace(on, undefined).off).toMatch(/outside the deployment's trace/);
  expect(currentTrace({ ...on, SHIPWATCH_TRACE_URL: 'http://x/trace' }, ID).off).toMatch(/^SHIPWATCH_TRACE_URL must contain \{traceId\}/);
});

test("the writer adds the trace it finds to a report that has none, and keeps a report's own", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shipwatch-trace-'));
  try {
    const report = JSON.parse(readFileSync(join(__dirname, '../golden/report/success.json'), 'utf8')) as DeploymentReport;
    const { trace: _kept, ...bare } = report;
    const writer = createReportWriter({ trace: () => ({ traceId: ID, url: `http://jaeger/trace/${ID}` }) });
    const paths = await writer.write(bare, dir);
    expect(readFileSync(paths.markdownPath, 'utf8')).toContain(`**Trace**: ${ID} — http://jaeger/trace/${ID}`);
    expect((JSON.parse(readFileSync(paths.jsonPath, 'utf8')) as DeploymentReport).trace).toEqual({ traceId: ID, url: `http://jaeger/trace/${ID}` });
    await writer.write(report, dir);
    expect(readFileSync(paths.markdownPath, 'utf8')).toContain(`**Trace**: ${report.trace!.traceId} — ${report.trace!.url}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
