/** Writes the deployment report (Markdown and JSON) into the spec's report directory. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { renderJson, renderMarkdown } from '../report/render';
import type { DeploymentReport } from '../model';
import type { ReportPort } from './types';

/** `user-management-v1.0.0-20251115T1000Z`: one file pair per deployment attempt, sortable by time. */
export function reportBaseName(report: DeploymentReport): string {
  const when = report.startedAt.replace(/[-:]/g, '').slice(0, 13) + 'Z';
  return `${report.service}-${report.release}-${when}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function createReportWriter(): ReportPort {
  return {
    async write(report, dir) {
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
