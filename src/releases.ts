/**
 * Starting a release train from a client (the CLI, tests, the demo), and the two activities the
 * release workflow needs: the phase of a service's deployment (a query, which workflow code cannot
 * make) and writing the release report. The workflow ID is `release-<name>`, started with
 * conflict policy FAIL: one running release of a given name.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { reportBaseName } from './activities/report';
import type { DeploymentOutcome, DeploymentReport, Phase } from './model';
import { TASK_QUEUE, searchAttributes, statusQuery } from './workflows/messages';
import { releaseSearchAttributes, releaseWorkflowId } from './workflows/release/messages';
import { renderReleaseMarkdown } from './workflows/release/render';
import type { ReleaseReport } from './workflows/release/report';
import type { ReleaseInput, ReleaseSpec } from './workflows/release/types';
import type { releaseWorkflow } from './workflows/release';

export type ReleaseHandle = WorkflowHandleWithFirstExecutionRunId<typeof releaseWorkflow>;

export class ReleaseAlreadyActiveError extends Error {
  constructor(
    message: string,
    readonly workflowId: string,
  ) {
    super(message);
    this.name = 'ReleaseAlreadyActiveError';
  }
}

export interface StartReleaseOptions {
  requestedBy: string;
  taskQueue?: string;
}

export async function startRelease(client: Client, spec: ReleaseSpec, options: StartReleaseOptions): Promise<ReleaseHandle> {
  const workflowId = releaseWorkflowId(spec.name);
  try {
    return await client.workflow.start<typeof releaseWorkflow>('releaseWorkflow', {
      workflowId,
      taskQueue: options.taskQueue ?? TASK_QUEUE,
      args: [{ spec, requestedBy: options.requestedBy } satisfies ReleaseInput],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Release ${spec.name}: ${spec.services.map((s) => `${s.name} ${s.spec.release}`).join(', ')}`,
      staticDetails: [
        `**${spec.name}**: ${spec.services.map((s) => `${s.name}${s.after.length ? ` (after ${s.after.join(', ')})` : ''}`).join(' · ')}`,
        `on failure: ${spec.onFailure}; watch windows: ${spec.watch.mode}; requested by ${options.requestedBy}`,
      ].join('\n\n'),
      typedSearchAttributes: new TypedSearchAttributes([
        { key: releaseSearchAttributes.train, value: spec.name },
        { key: releaseSearchAttributes.services, value: spec.services.map((s) => s.name) },
        { key: searchAttributes.phase, value: 'DEPLOYING' },
        { key: searchAttributes.outcome, value: 'IN_PROGRESS' },
      ]),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    throw new ReleaseAlreadyActiveError(
      `Release ${spec.name} is already running (workflow ${workflowId}). Follow it with \`shipwatch release status ${spec.name}\`, or roll it back with \`shipwatch release rollback ${spec.name} --reason "…"\`.`,
      workflowId,
    );
  }
}

export type PhaseAnswer = { phase: Phase; outcome: DeploymentOutcome } | { unknown: string };

export interface WrittenReleaseReport {
  release: { markdownPath: string; jsonPath: string };
  /** Each service's own report files, where the deployment wrote them (absent when not found). */
  services: Record<string, { markdownPath: string; jsonPath: string }>;
}

export function createReleaseActivities() {
  return {
    /** The phase and outcome of a deployment, from its status query (through the worker's client). */
    async deploymentPhase(input: { workflowId: string }): Promise<PhaseAnswer> {
      const status = await Context.current().client.workflow.getHandle(input.workflowId).query(statusQuery);
      return { phase: status.phase, outcome: status.outcome };
    },

    /** Writes the release report (Markdown + JSON) beside the services' reports, linking them. */
    async writeReleaseReport(input: { report: ReleaseReport; dir: string; services: { name: string; dir: string }[] }): Promise<WrittenReleaseReport> {
      const services: WrittenReleaseReport['services'] = {};
      for (const s of input.report.services) {
        const dir = input.services.find((x) => x.name === s.name)?.dir;
        const startedAt = input.report.timeline.find((e) => e.source === s.name)?.at;
        if (!dir || !startedAt) continue;
        const base = join(resolve(dir), reportBaseName({ service: s.name, release: s.release, startedAt } as DeploymentReport));
        if (await exists(`${base}.md`)) {
          services[s.name] = { markdownPath: `${base}.md`, jsonPath: `${base}.json` };
          s.report = { ...s.report, ...services[s.name] };
        }
      }
      const target = resolve(input.dir);
      await mkdir(target, { recursive: true });
      const base = join(target, `release-${input.report.name}-${input.report.startedAt.replace(/[-:]/g, '').slice(0, 13)}Z`);
      const release = { markdownPath: `${base}.md`, jsonPath: `${base}.json` };
      for (const [path, text] of [
        [release.markdownPath, renderReleaseMarkdown(input.report)],
        [release.jsonPath, `${JSON.stringify(input.report, null, 2)}\n`],
      ] as const) {
        await writeFile(`${path}.tmp`, text);
        await rename(`${path}.tmp`, path);
      }
      return { release, services };
    },
  };
}

export type ReleaseActivities = ReturnType<typeof createReleaseActivities>;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
