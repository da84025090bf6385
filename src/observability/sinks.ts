/**
 * What the deployment workflow's interceptor reports to the worker through a Temporal sink: plain
 * data only (sinks cross the workflow sandbox). Shared by both sides; no Node or I/O imports.
 */
import type { Sinks } from '@temporalio/workflow';

export interface DeploymentRef {
  workflowId: string;
  service: string;
  namespace: string;
  release: string;
  /** The watch window's check interval, for the "watch stuck" alert. */
  watchIntervalMs: number;
  /** True for a run started by continue-as-new (the same deployment, handed over). */
  continued: boolean;
}

export interface DeploymentEnd extends DeploymentRef {
  /** DeploymentReport.outcome, or FAILED when the workflow threw. */
  outcome: string;
  /** DeploymentReport.rollback.trigger when a rollback ran. */
  rollbackTrigger?: string;
}

export interface ShipwatchSinks extends Sinks {
  shipwatchMetrics: {
    /** The deployment runs (also called on replay, so a restarted worker knows its deployments). */
    running(ref: DeploymentRef): void;
    /** A new deployment started (not on replay, not on continue-as-new). */
    started(ref: DeploymentRef): void;
    finished(end: DeploymentEnd): void;
    /**
     * A watch window heard from the watch evaluator (a report: a change, or its heartbeat at least
     * every `heardEveryMs`): the window's last check is the report's evaluation time.
     */
    watchReported(report: { workflowId: string; at: string; heardEveryMs: number }): void;
  };
}
