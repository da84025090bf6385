/**
 * The messages between deployment windows and the watch evaluator (src/workflows/evaluator.ts):
 * a window registers its rules with the evaluator of its Prometheus, the evaluator reports back
 * when the window's alert state changed (and every `HEARTBEAT_MS` anyway, so a window can tell it
 * is still watched), and a closing window unregisters. Pure definitions, shared with the tests.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RuleEvaluation } from '../activities/types';
import type { AlertQuery, ResolvedAlertRule } from '../spec/types';

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

/**
 * What the watch evaluator asks its evaluation activity (patch evaluator-rules-by-key): the rules
 * with a key once, then the key alone while they stay the same, so a slot's input is a few bytes,
 * not every rule of the shard's windows (225 KB at 10,000 windows, written to the history and
 * decoded by the worker every slot). A worker that does not keep them under that key (another
 * worker process, one restarted since) answers `RulesWanted` and is asked again with them.
 */
export interface EvaluationInput {
  prometheusUrl: string;
  /** Left out when `rulesKey` names rules the asker sent before. */
  rules?: AlertQuery[];
  /** The asker's name for these rules: with them, the worker keeps them under it; alone, it evaluates what it kept. */
  rulesKey?: string;
  /** The instant to evaluate at (ms since the epoch); now when left out. */
  atMs?: number;
}

/** The evaluation activity's answer when it was sent a key whose rules it does not keep: send them. Not a failure. */
export interface RulesWanted {
  rulesWanted: string;
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
  /** Lateness of the last evaluations (ms after their scheduled time; since patch evaluator-evaluation-waits, when their answers reached the evaluator), newest last, at most 100. */
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
 * The evaluators of one Prometheus at one interval share its windows out by the hash of the
 * window's workflow ID, so no evaluator carries more than a share of the fleet in its state, its
 * continue-as-new input and its evaluation activity's input (one evaluator for 10,000 windows went
 * past what one workflow task can do in the SDK's 5 s, and past Temporal's 2 MB payload limit).
 * They evaluate on one grid of instants, a sixth of them in each phase of the interval
 * (./evaluator-plan.ts, EVALUATION_PHASES), and the metrics adapter asks Prometheus once per rule
 * shape for the shards of one instant (src/activities/metrics.ts), so the queries sent do not grow
 * with the number of shards. Shards are started on demand: a few windows start a few evaluators.
 */
export const EVALUATOR_SHARDS = 32;

/** FNV-1a of a string (stable across releases: a window's shard is part of its history). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Which of the EVALUATOR_SHARDS evaluators watches the window of `workflowId`: FNV-1a mixed by
 * MurmurHash3's finaliser (FNV's low bits alone leave half the shards empty for IDs that differ
 * in a number).
 */
export function evaluatorShard(workflowId: string): number {
  return mixedHash(workflowId) % EVALUATOR_SHARDS;
}

/** FNV-1a mixed by MurmurHash3's finaliser: every bit depends on the whole text. */
export function mixedHash(text: string): number {
  let h = fnv1a(text);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** The shard an evaluator's workflow ID names (evaluatorWorkflowId), or undefined for the evaluator from before shards. */
export function shardOfEvaluator(evaluatorId: string): number | undefined {
  const m = /\/shard-(\d+)$/.exec(evaluatorId);
  return m ? Number(m[1]) : undefined;
}

/**
 * The evaluator of one Prometheus at one interval, and one shard: one ID, so every window of that
 * Prometheus in the shard finds the same one. It runs on the task queue of the window that started
 * it (signals reach windows on any queue). Not derived from the task queue: a replay runs under a
 * made-up one, and the ID is part of the history (the child's start). Without a shard: the single
 * evaluator of windows opened before shards (their histories name it).
 */
export function evaluatorWorkflowId(args: { prometheusUrl: string; intervalMs: number; shard?: number }): string {
  const base = `watch-evaluator/${args.intervalMs}ms/${args.prometheusUrl}`;
  return args.shard === undefined ? base : `${base}/shard-${args.shard}`;
}

/** The evaluator a window of `workflowId` registers with (windows opened since shards). */
export function windowEvaluatorId(args: { prometheusUrl: string; intervalMs: number; workflowId: string }): string {
  return evaluatorWorkflowId({ prometheusUrl: args.prometheusUrl, intervalMs: args.intervalMs, shard: evaluatorShard(args.workflowId) });
}

/** Every evaluator of one Prometheus at one interval (the shards, then the evaluator from before them). */
export function allEvaluatorIds(args: { prometheusUrl: string; intervalMs: number }): string[] {
  return [...Array.from({ length: EVALUATOR_SHARDS }, (_, shard) => evaluatorWorkflowId({ ...args, shard })), evaluatorWorkflowId(args)];
}
