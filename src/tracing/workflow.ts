/**
 * The deployment's trace as workflow code sees it (runs inside the workflow sandbox: no I/O, no
 * Node built-ins). The tracing interceptor module (./workflow-interceptors) records the trace of
 * each run here when the run starts; the workflow or its report reads it with deploymentTraceId().
 *
 * The ID is deterministic: the sandbox generates span and trace IDs from the workflow's seeded
 * random source, so a replay (another worker, a restart) sees the same ID, and a run started by
 * continue-as-new carries the trace in its headers, so every run of one deployment shares it.
 */
import { inWorkflowContext, workflowInfo } from '@temporalio/workflow';

/** Traces by workflow run ID (the module may be shared between the runs one worker holds). */
const traces = new Map<string, string>();

/** Called by the interceptor module at the start of a run. */
export function recordRunTrace(runId: string, traceId: string): void {
  traces.set(runId, traceId);
}

/** Called by the interceptor module when the run's sandbox is disposed. */
export function forgetRunTrace(runId: string): void {
  traces.delete(runId);
}

/**
 * The W3C trace ID (32 hex digits) of the running deployment, or undefined when the workflow was
 * bundled without the tracing interceptors (tests that bundle bare workflows) or is called outside
 * a workflow. It exists whether or not the worker exports spans: whether a trace backend holds it
 * is the worker's setting (see traceReference in ./settings).
 */
export function deploymentTraceId(): string | undefined {
  if (!inWorkflowContext()) return undefined;
  return traces.get(workflowInfo().runId);
}
