/**
 * The deployment workflow's messages, shared by the workflow, the CLI and the tests: its input,
 * signals, updates, queries, search attributes and the answers they give. Wire names equal the
 * stem (`rollbackUpdate` is "rollback"). Signals exist beside the updates because the Web UI can
 * send signals; the CLI uses the updates, which answer.
 */
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DeploymentReport, DeploymentStatus, TimelineEvent } from '../model';
import type { DeploySpec } from '../spec/types';

/** The status answer and its alert states are the data model's (src/model); named here for the CLI and tests. */
export type { AlertState, DeploymentStatus } from '../model';

export const TASK_QUEUE = 'shipwatch';

/** One active deployment per (namespace, service): the workflow ID is derived from both. */
export function deploymentWorkflowId(namespace: string, service: string): string {
  return `deploy-${namespace}-${service}`;
}

export interface DeploymentInput {
  spec: DeploySpec;
  /** Who started it (CLI user), for the report and notifications. */
  requestedBy: string;
  /** Set by continue-as-new: the state carried across the hand-over. */
  carried?: unknown;
  /**
   * `per-window`: the watch runs its own check every interval, as before the watch evaluator
   * (docs/workflow.md, "Watch evaluator"): the bench's side-by-side comparison, and a fallback.
   * Default: the evaluator.
   */
  watchMode?: 'evaluator' | 'per-window';
}

export interface RollbackRequest {
  reason: string;
  requestedBy?: string;
}

export type RollbackAnswer =
  | { accepted: true; message: string }
  | { accepted: false; message: string };

export interface PromoteRequest {
  requestedBy?: string;
}

export interface ExtendWatchRequest {
  /** How much longer the watch window runs, in milliseconds. */
  byMs: number;
  requestedBy?: string;
}

export interface CommandAnswer {
  accepted: boolean;
  message: string;
}

export const rollbackSignal = defineSignal<[RollbackRequest]>('rollback');
export const promoteSignal = defineSignal<[PromoteRequest]>('promote');

export const rollbackUpdate = defineUpdate<RollbackAnswer, [RollbackRequest]>('rollback');
export const promoteUpdate = defineUpdate<CommandAnswer, [PromoteRequest]>('promote');
export const pauseUpdate = defineUpdate<CommandAnswer, [{ requestedBy?: string }]>('pause');
export const resumeUpdate = defineUpdate<CommandAnswer, [{ requestedBy?: string }]>('resume');
export const extendWatchUpdate = defineUpdate<CommandAnswer, [ExtendWatchRequest]>('extendWatch');

/** The timeline, optionally only events after a sequence number (for `timeline --follow`). */
export const timelineQuery = defineQuery<TimelineEvent[], [{ afterSeq?: number }?]>('timeline');
export const statusQuery = defineQuery<DeploymentStatus>('status');
export const reportQuery = defineQuery<DeploymentReport>('report');

/** Search attributes registered on the server, upserted as the deployment moves, for the Web UI. */
export const searchAttributes = {
  service: defineSearchAttributeKey('ShipwatchService', 'KEYWORD'),
  namespace: defineSearchAttributeKey('ShipwatchNamespace', 'KEYWORD'),
  release: defineSearchAttributeKey('ShipwatchRelease', 'KEYWORD'),
  phase: defineSearchAttributeKey('ShipwatchPhase', 'KEYWORD'),
  outcome: defineSearchAttributeKey('ShipwatchOutcome', 'KEYWORD'),
} as const;
