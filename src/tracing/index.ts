/**
 * Deployment tracing with OpenTelemetry (see docs/monitoring.md, "Distributed tracing"): settings
 * from the OTEL_* environment, the worker's exporter and activity interceptors, and the workflow
 * interceptor module that the workflow bundle includes. Workflow code imports ./workflow directly
 * (deploymentTraceId); this index pulls in Node-only exporters.
 */
export { TRACE_ID_PLACEHOLDER, TRACING_ENV, TracingSettingError, describeTracing, isTraceId, traceReference, tracingSettings } from './settings';
export type { TracingSettings } from './settings';
export { setupTracing } from './worker';
export { activityTraceId } from './activity';
export type { Tracing, TracingLog } from './worker';

/** Path of the tracing workflow interceptor module, for `bundleWorkflowCode({ workflowInterceptorModules })`. */
export const TRACING_WORKFLOW_INTERCEPTOR_MODULE = require.resolve('./workflow-interceptors');
