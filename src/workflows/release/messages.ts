/**
 * The release workflow's messages, shared by the workflow, the CLI and the tests. A rollback of
 * the release uses the deployment's own `rollback` update and signal (same wire names, same
 * request), so the Web UI's signal and the CLI's update work on a release as on a deployment.
 */
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CommandAnswer } from '../messages';
import type { ReleaseReport } from './report';
import type { ReleaseEvent, ReleaseOutcome, ReleasePhase, ReleaseState, ServiceRecord } from './types';

export { rollbackSignal, rollbackUpdate } from '../messages';
export type { RollbackAnswer, RollbackRequest } from '../messages';

/** One release of a given name at a time: the workflow ID is derived from it. */
export function releaseWorkflowId(name: string): string {
  return `release-${name}`;
}

export interface ApproveRequest {
  /** The service whose gate to open; the only one waiting when omitted. */
  service?: string;
  requestedBy?: string;
}

export interface ReleaseStatus {
  releaseId: string;
  name: string;
  phase: ReleasePhase;
  outcome: ReleaseOutcome;
  startedAt: string;
  services: ServiceRecord[];
  awaitingApproval: string[];
  failure?: ReleaseState['failure'];
  rollbackRequest?: ReleaseState['rollbackRequest'];
  watch?: ReleaseState['watch'];
}

export const approveUpdate = defineUpdate<CommandAnswer, [ApproveRequest]>('approve');
export const approveSignal = defineSignal<[ApproveRequest]>('approve');
export const releaseStatusQuery = defineQuery<ReleaseStatus>('releaseStatus');
/** The release's own events (the CLI merges each service's timeline in). */
export const releaseTimelineQuery = defineQuery<ReleaseEvent[], [{ afterSeq?: number }?]>('releaseTimeline');
export const releaseReportQuery = defineQuery<ReleaseReport>('releaseReport');

/**
 * Search attributes of a release train: set on the release and on each of its deployments, so
 * `ShipwatchTrain = "accounts-1"` in the Web UI lists the release with its services.
 */
export const releaseSearchAttributes = {
  train: defineSearchAttributeKey('ShipwatchTrain', 'KEYWORD'),
  services: defineSearchAttributeKey('ShipwatchTrainServices', 'KEYWORD_LIST'),
} as const;
