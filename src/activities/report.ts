/**
 * Writes the deployment report (Markdown and JSON) into the spec's report directory, with the
 * deployment's trace: the writer runs inside the deployment's trace (the worker's tracing
 * interceptor), so the trace ID is the active span's, and the link is SHIPWATCH_TRACE_URL's.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { renderJson, renderMarkdown } from '../report/render';
import type { DeploymentReport } from '../model';
import type { TraceRecord } from '../model/report';
import { activityTraceId } from '../tracing/activity';
import { describeTracing, traceReference, tracingSettings, TRACING_ENV } from '../tracing/settings';
import type { ReportPort } from './types';

/** The trace of the activity writing the report, with its link; or why there is none. */
export function currentTrace(env: NodeJS.ProcessEnv = process.env, traceId: string | undefined = activityTraceId()): TraceRecord {
  let settings;
  try {
    settings = tracingSettings(env);
  } catch (err) {
    return { off: (err as Error).message };
  }
  if (!settings.enabled) return { off: describeTracing(settings) };
  const reference = traceReference(traceId, settings);
  if (!reference) return { off: 'tracing is on but this report was written outside the deployment\'s trace (no tracing interceptor on the worker)' };
  return { ...reference, ...(reference.url ? {} : { off: `no link: set ${TRACING_ENV.traceUrl} (a URL with {traceId}) to link the trace backend` }) };
}

/** `user-management-v1.0.0-20251115T1000Z`: one file pair per deployment attempt, sortable by time. */
export function reportBaseName(report: DeploymentReport): string {
  const when = report.startedAt.replace(/[-:]/g, '').slice(0, 13) + 'Z';
  return `${report.service}-${report.release}-${when}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function createReportWriter(options: { trace?: () => TraceRecord } = {}): ReportPort {
  const trace = options.trace ?? (() => currentTrace());
  return {
    async write(written, dir) {
      const report: DeploymentReport = written.trace ? written : { ...written, trace: trace() };
      const target = resolve(dir);
      await mkdir(target, { recursive: true });
      const base = join(target, reportBaseName(report));
      const markdownPath = `${base}.md`;
      const jsonPath = `${base}.json`;
      // Write-then-rename: a reader (or a retried activity) never sees half a report.
      for (const [path, text] of [
        [markdownPath, renderMarkdown(report)],
        [jsonPath, renderJson(report)],
      ] as const) {
        await writeFile(`${path}.tmp`, text);
        await rename(`${path}.tmp`, path);
      }
      return { markdownPath, jsonPath };
    },
  };
}
