/**
 * Workflow interceptor module (runs inside the workflow sandbox): reports a deployment's start and
 * end to the worker's metrics through the `shipwatchMetrics` sink. Deterministic; no I/O.
 * Register with `bundleWorkflowCode({ workflowInterceptorModules: [WORKFLOW_INTERCEPTOR_MODULE] })`
 * or `Worker.create({ interceptors: { workflowModules: [...] } })`.
 */
import { ApplicationFailure, ContinueAsNew, proxySinks, workflowInfo } from '@temporalio/workflow';
import type { Next, SignalInput, WorkflowExecuteInput, WorkflowInboundCallsInterceptor, WorkflowInterceptors } from '@temporalio/workflow';
import { HEARTBEAT_MS, watchReportSignal } from '../workflows/evaluator-messages';
import type { DeploymentRef, ShipwatchSinks } from './sinks';

const { shipwatchMetrics } = proxySinks<ShipwatchSinks>();

interface DeploymentInputShape {
  spec?: { service?: unknown; namespace?: unknown; release?: unknown; watch?: { intervalMs?: unknown } };
  carried?: unknown;
}

/** The deployment described by a workflow's first argument, if it is a DeploymentInput. */
function deploymentOf(arg: unknown): DeploymentRef | undefined {
  const input = arg as DeploymentInputShape | undefined;
  const spec = input?.spec;
  if (!spec || typeof spec.service !== 'string' || typeof spec.namespace !== 'string') return undefined;
  return {
    workflowId: workflowInfo().workflowId,
    service: spec.service,
    namespace: spec.namespace,
    release: typeof spec.release === 'string' ? spec.release : '',
    watchIntervalMs: typeof spec.watch?.intervalMs === 'number' ? spec.watch.intervalMs : 0,
    continued: input?.carried !== undefined,
  };
}

function endOf(result: unknown): { outcome: string; rollbackTrigger?: string } {
  const report = result as { outcome?: unknown; rollback?: { required?: unknown; trigger?: unknown } } | undefined;
  const outcome = typeof report?.outcome === 'string' ? report.outcome : 'UNKNOWN';
  const trigger = report?.rollback?.required === true && typeof report.rollback.trigger === 'string' ? report.rollback.trigger : undefined;
  return trigger ? { outcome, rollbackTrigger: trigger } : { outcome };
}

class DeploymentMetricsInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const ref = deploymentOf(input.args[0]);
    if (!ref) return next(input);
    shipwatchMetrics.running(ref);
    if (!ref.continued) shipwatchMetrics.started(ref);
    let result: unknown;
    try {
      result = await next(input);
    } catch (err) {
      // A hand-over to the next run is not an end: the deployment goes on. A deployment that did not
      // succeed (failed, rolled back, manual action) ends with a typed failure carrying its report.
      if (!(err instanceof ContinueAsNew)) {
        const report = err instanceof ApplicationFailure ? err.details?.[0] : undefined;
        const end = endOf(report);
        shipwatchMetrics.finished({ ...ref, ...(end.outcome === 'UNKNOWN' ? { outcome: 'FAILED' } : end) });
      }
      throw err;
    }
    shipwatchMetrics.finished({ ...ref, ...endOf(result) });
    return result;
  }

  /** A window fed by the watch evaluator checks nothing itself: its last check is the last report it got. */
  async handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    if (input.signalName === watchReportSignal.name) {
      const at = (input.args[0] as { at?: unknown } | undefined)?.at;
      if (typeof at === 'string') shipwatchMetrics.watchReported({ workflowId: workflowInfo().workflowId, at, heardEveryMs: HEARTBEAT_MS });
    }
    return next(input);
  }
}

export const interceptors = (): WorkflowInterceptors => ({ inbound: [new DeploymentMetricsInterceptor()] });
