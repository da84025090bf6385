/**
 * The trace an activity runs in, for activities that show it (the report): the `RunActivity` span
 * the worker's tracing interceptor made active carries the deployment's trace ID. Undefined when
 * tracing is off (no interceptor, no span: nothing was exported, so there is nothing to link to).
 */
import { trace } from '@opentelemetry/api';
import { isTraceId } from './settings';

export function activityTraceId(): string | undefined {
  const id = trace.getActiveSpan()?.spanContext().traceId;
  return isTraceId(id) ? id : undefined;
}
