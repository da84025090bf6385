/**
 * The messages between deployment windows and the watch evaluator (src/workflows/evaluator.ts):
 * a window registers its rules with the evaluator of its Prometheus, the evaluator reports back
 * when the window's alert state changed (and every `HEARTBEAT_MS` anyway, so a window can tell it
 * is still watched), and a closing window unregisters. Pure definitions, shared with the tests.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RuleEvaluation } from '../activities/types';
import type { ResolvedAlertRule } from '../spec/types';

/** A window that heard nothing (no change, no heartbeat) for this long plus a grace is blind. */
export const HEARTBEAT_MS = 40 * 60_000;

/** What a window asks the evaluator to watch for it. */
export interface WatchRegistration {
  workflowId: string;
  /** The deployment's first run ID: a report names it, so a later deployment under the same workflow ID ignores reports meant for an earlier one. */
  window: string;
  rules: ResolvedAlertRule[];
}

/** One evaluation for one window, as the evaluator sends it. */
export interface WatchReport {
  /** The window (first run ID) it is for. */
  window: string;
  /** The evaluation's scheduled time (evaluator start + k × interval), ISO. */
  at: string;
  /** Evaluations of this window's rules since it registered (this one included). */
  checks: number;
  /** Every rule's evaluation, or why none could run. */
  result: RuleEvaluation[] | { error: string };
  /** The evaluator workflow sending it (so a window can name it when it falls silent). */
  evaluator: string;
}

/** What the evaluator workflow starts with (and carries across continue-as-new). */
export interface EvaluatorInput {
  prometheusUrl: string;
  intervalMs: number;
  /** Registrations that came with the start (the first window's). */
  initial?: WatchRegistration[];
  /** Set by continue-as-new. */
  carried?: unknown;
}

export interface EvaluatorStatus {
  windows: number;
  ruleSets: number;
  distinctQueries: number;
  evaluations: number;
  /** Lateness of the last evaluations (ms after their scheduled time), newest last, at most 100. */
  lateness: number[];
  signalsSent: number;
  runs: number;
}

export const registerWatchSignal = defineSignal<[WatchRegistration]>('registerWatch');
export const unregisterWatchSignal = defineSignal<[{ workflowId: string }]>('unregisterWatch');
/** Sent to a deployment workflow. */
export const watchReportSignal = defineSignal<[WatchReport]>('watchReport');
export const evaluatorStatusQuery = defineQuery<EvaluatorStatus>('evaluatorStatus');

/**
 * The evaluator of one Prometheus at one interval: one ID, so every window of that Prometheus in
 * the namespace finds the same one. It runs on the task queue of the window that started it
 * (signals reach windows on any queue). Not derived from the task queue: a replay runs under a
 * made-up one, and the ID is part of the history (the child's start).
 */
export function evaluatorWorkflowId(args: { prometheusUrl: string; intervalMs: number }): string {
  return `watch-evaluator/${args.intervalMs}ms/${args.prometheusUrl}`;
}
