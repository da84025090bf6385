/**
 * Workflow interceptor module for tracing (runs inside the workflow sandbox; deterministic, no I/O).
 * Bundled into every shipwatch workflow bundle (tools/bundle-workflows.ts, WORKFLOW_INTERCEPTOR_MODULES).
 *
 * The Temporal SDK's OpenTelemetry interceptors give the run's span (`RunWorkflow:<type>`, a child
 * of the previous run's context after continue-as-new, so one deployment is one trace) and a span
 * per scheduled activity (`StartActivity:<name>`, whose context travels in the activity's headers
 * to the worker's `RunActivity:<name>` span). This module adds a span per deployment phase
 * (`Phase:<PHASE>`, the rollback is `Phase:ROLLBACK`) between the two: a phase starts when the
 * workflow sets its ShipwatchPhase search attribute (DeploymentContext.enter) and ends at the next
 * phase or when the run ends (DONE, the final report and the review reminder, is the last phase
 * span). Activities scheduled in a phase are its children.
 *
 * Signals are traced (`SignalWorkflow`/`HandleSignal`); queries, update validators and updates
 * are not (see DeploymentOtelInbound); the watch evaluator child runs in a trace of its own (see
 * OWN_TRACE_CHILDREN). Spans are exported through the SDK's `exporter` sink, which the worker must
 * register (setupTracing in ./worker); the sink is not called on replay, and the worker drops a
 * span it has already exported, so every span is exported once.
 *
 * A run evicted in the middle of a task (one that ran past the isolate's execution limit) leaves its
 * continuations queued in the workflow context, which the SDK reuses: they run later, while the run
 * is disposed or while another run is active. Nothing here acts for a run other than its own (see
 * PhaseSpans.live), and the SDK's spans ending outside any run neither read the workflow clock nor
 * call the sink (guardSdkSpansOutsideRuns): before, the first threw "Workflow uninitialized", an
 * unhandled rejection no run owned, which stopped the workflow worker thread and the whole worker.
 */
import * as otel from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { SpanExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/span-exporter';
import { ContinueAsNew, inWorkflowContext, workflowInfo } from '@temporalio/workflow';
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import type {
  ActivityInput,
  QueryInput,
  StartChildWorkflowExecutionInput,
  UpdateInput,
  ConcludeActivationInput,
  ConcludeActivationOutput,
  DisposeInput,
  LocalActivityInput,
  Next,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { searchAttributes } from '../workflows/messages';
import { forgetRunTrace, recordRunTrace } from './workflow';

/** Span names and attributes this module writes; the tests and docs/monitoring.md read the same. */
export const TRACE_NAMES = {
  phasePrefix: 'Phase:',
  rollbackPhase: 'ROLLBACK',
  attr: {
    service: 'shipwatch.service',
    namespace: 'shipwatch.namespace',
    release: 'shipwatch.release',
    phase: 'shipwatch.phase',
    outcome: 'shipwatch.outcome',
    continued: 'shipwatch.continued',
    workflowId: 'temporal.workflow_id',
  },
} as const;

const TRACER = 'shipwatch-deployment';

interface DeploymentInputShape {
  spec?: { service?: unknown; namespace?: unknown; release?: unknown };
}

function deploymentAttributes(arg: unknown): otel.Attributes {
  const spec = (arg as DeploymentInputShape | undefined)?.spec;
  const attrs: otel.Attributes = { [TRACE_NAMES.attr.workflowId]: workflowInfo().workflowId };
  if (typeof spec?.service === 'string') attrs[TRACE_NAMES.attr.service] = spec.service;
  if (typeof spec?.namespace === 'string') attrs[TRACE_NAMES.attr.namespace] = spec.namespace;
  if (typeof spec?.release === 'string') attrs[TRACE_NAMES.attr.release] = spec.release;
  return attrs;
}

function outcomeOf(value: unknown): string | undefined {
  const outcome = (value as { outcome?: unknown } | undefined)?.outcome;
  return typeof outcome === 'string' ? outcome : undefined;
}

/**
 * The SDK's inbound interceptor without spans for queries, update validators and updates.
 * Queries and validators run only live, never on replay, so a span there would draw IDs from the
 * workflow's seeded random source that a replay does not, and every span started after it (a
 * phase open across a worker restart) would get another ID on replay than its children already
 * exported point to; they are read-only besides, and `shipwatch status` polling would fill the
 * backend with one-span traces. Updates: the SDK instruments them only in workflow tasks that
 * recorded its flag for it (the flag has no fallback for older histories), and wrapping the
 * handler moves its completion a few microtasks later; a history recorded without tracing whose
 * last task handled an update (release-approve-after-restart.json) then replays with its commands
 * in another order. An update's effect is traced anyway: a rollback is the ROLLBACK phase span.
 */
class DeploymentOtelInbound extends OpenTelemetryInboundInterceptor {
  override handleQuery(input: QueryInput, next: Next<WorkflowInboundCallsInterceptor, 'handleQuery'>): Promise<unknown> {
    return next(input);
  }

  override validateUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>): void {
    next(input);
  }

  override handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    return next(input);
  }
}

/**
 * The SDK's spans of an evicted run can end after the run is gone: the sandbox's clock
 * (`performance.now`, which OpenTelemetry reads and the SDK's runtime bases on the workflow's
 * `Date.now`) then keeps its last reading instead of throwing, and the exporter drops the span
 * instead of calling a sink that has no run. Runs when this module is instantiated: the SDK's
 * reusable context instantiates a bundle's modules once per workflow, so it patches that workflow's
 * own clock and exporter class.
 */
function guardSdkSpansOutsideRuns(): void {
  // Imported outside any sandbox (a test reads TRACE_NAMES from this module), it must patch
  // nothing: it once froze the host process's performance.now(), so every latency measured later
  // in that process read 0 ms. Inside, it patches only the SDK's own clock, a plain object.
  if (!inWorkflowContext()) return;
  const clock = (globalThis as { performance?: { now(): number } }).performance;
  if (clock && Object.getPrototypeOf(clock) === Object.prototype) {
    const now = clock.now.bind(clock);
    let last = 0;
    clock.now = (): number => {
      if (inWorkflowContext()) last = now();
      return last;
    };
  }
  type Export = (this: SpanExporter, spans: ReadableSpan[], done: (result: ExportResult) => void) => void;
  const exportSpans = Object.getOwnPropertyDescriptor(SpanExporter.prototype, 'export')?.value as Export;
  SpanExporter.prototype.export = function guardedExport(this: SpanExporter, spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (!inWorkflowContext()) return done({ code: ExportResultCode.FAILED });
    exportSpans.call(this, spans, done);
  };
}
guardSdkSpansOutsideRuns();

/** The phase spans of one workflow run. */
class PhaseSpans {
  private run?: otel.Context;
  private open?: { phase: string; span: otel.Span };
  private disposed = false;
  /** The run whose trace ./workflow holds, forgotten when the sandbox is disposed. */
  runId?: string;

  constructor(private readonly tracer: otel.Tracer) {}

  /**
   * This run is the one executing: not disposed, and the active workflow is this run (an evicted
   * run's leftover continuations may execute while another run is active, or none).
   */
  live(): boolean {
    return !this.disposed && inWorkflowContext() && (this.runId === undefined || workflowInfo().runId === this.runId);
  }

  /** The sandbox of this run is disposed: its leftovers do nothing. */
  dispose(): void {
    this.disposed = true;
  }

  /** The run's span is active: phases become its children. */
  begin(run: otel.Context, attributes: otel.Attributes): void {
    this.run = run;
    otel.trace.getSpan(run)?.setAttributes(attributes);
    this.sync();
  }

  /** Follows the ShipwatchPhase search attribute: ends the open phase span, starts the next. */
  sync(): void {
    if (!this.run || !this.live()) return;
    const phase = workflowInfo().typedSearchAttributes.get(searchAttributes.phase);
    if (phase === this.open?.phase) return;
    this.open?.span.end();
    this.open = undefined;
    if (!phase) return;
    const span = this.tracer.startSpan(`${TRACE_NAMES.phasePrefix}${phase}`, { attributes: { [TRACE_NAMES.attr.phase]: phase } }, this.run);
    this.open = { phase, span };
  }

  /** The context an activity is scheduled in: the open phase's, else the current one. */
  context(): otel.Context {
    this.sync();
    return this.open && this.run ? otel.trace.setSpan(otel.context.active(), this.open.span) : otel.context.active();
  }

  /** The run ends: the open phase ends with it (marked when the deployment goes on in the next run). */
  end(result: { outcome?: string; continued?: boolean }): void {
    if (!this.live()) return;
    this.sync();
    if (result.continued) this.open?.span.setAttribute(TRACE_NAMES.attr.continued, true);
    this.open?.span.end();
    this.open = undefined;
    const run = this.run && otel.trace.getSpan(this.run);
    if (result.outcome) run?.setAttribute(TRACE_NAMES.attr.outcome, result.outcome);
    if (result.continued) run?.setAttribute(TRACE_NAMES.attr.continued, true);
  }
}

/** Inside the SDK's RunWorkflow span: records the trace, opens the phase spans. */
class DeploymentTraceInbound implements WorkflowInboundCallsInterceptor {
  constructor(private readonly phases: PhaseSpans) {}

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const run = otel.context.active();
    const traceId = otel.trace.getSpan(run)?.spanContext().traceId;
    this.phases.runId = workflowInfo().runId;
    if (traceId) recordRunTrace(this.phases.runId, traceId);
    this.phases.begin(run, deploymentAttributes(input.args[0]));
    try {
      const result = await next(input);
      this.phases.end({ outcome: outcomeOf(result) });
      return result;
    } catch (err) {
      if (err instanceof ContinueAsNew) this.phases.end({ continued: true });
      else {
        const details = (err as { details?: unknown[] } | undefined)?.details;
        this.phases.end({ outcome: outcomeOf(Array.isArray(details) ? details[0] : undefined) ?? 'FAILED' });
      }
      throw err;
    }
  }
}

/** Before the SDK's outbound interceptor: activities are scheduled in their phase's context. */
class PhaseContextOutbound implements WorkflowOutboundCallsInterceptor {
  constructor(private readonly phases: PhaseSpans) {}

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    return otel.context.with(this.phases.context(), () => next(input));
  }

  scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>): Promise<unknown> {
    return otel.context.with(this.phases.context(), () => next(input));
  }
}

/**
 * Child workflows that serve many deployments start a trace of their own: the watch evaluator
 * (one per Prometheus, started by whichever deployment needs it first) evaluates every open watch
 * window, so its checks do not belong to the trace of the deployment that happened to start it.
 * The start itself (`StartChildWorkflow:…`) stays in the deployment's trace, and so do the
 * signals between the two (their context travels in the signal headers).
 */
export const OWN_TRACE_CHILDREN: ReadonlySet<string> = new Set(['watchEvaluatorWorkflow']);

/** After the SDK's outbound interceptor: takes the trace context off such a child's start. */
class SharedChildOwnTrace implements WorkflowOutboundCallsInterceptor {
  startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ): Promise<[Promise<string>, Promise<unknown>]> {
    if (!OWN_TRACE_CHILDREN.has(input.workflowType)) return next(input);
    const { [TRACE_HEADER]: _context, ...headers } = input.headers;
    return next({ ...input, headers });
  }
}

/** At the end of every activation: a phase entered without an activity (DONE, a wait) is seen too. */
class PhaseInternals implements WorkflowInternalsInterceptor {
  constructor(private readonly phases: PhaseSpans) {}

  concludeActivation(input: ConcludeActivationInput, next: Next<WorkflowInternalsInterceptor, 'concludeActivation'>): ConcludeActivationOutput {
    this.phases.sync();
    return next(input);
  }

  dispose(input: DisposeInput, next: Next<WorkflowInternalsInterceptor, 'dispose'>): void {
    this.phases.dispose();
    if (this.phases.runId) forgetRunTrace(this.phases.runId);
    return next(input);
  }
}

export const interceptors = (): WorkflowInterceptors => {
  // The SDK's interceptor registers the sandbox's tracer provider (spans go to the `exporter` sink).
  const otelInbound = new DeploymentOtelInbound();
  const phases = new PhaseSpans(otel.trace.getTracer(TRACER));
  return {
    // The first inbound interceptor is the outermost: the SDK's RunWorkflow span is active inside ours.
    inbound: [otelInbound, new DeploymentTraceInbound(phases)],
    // Ours first: it sets the phase's context, in which the SDK's StartActivity span starts; the
    // last one sees the headers the SDK's interceptor wrote.
    outbound: [new PhaseContextOutbound(phases), new OpenTelemetryOutboundInterceptor(), new SharedChildOwnTrace()],
    internals: [new PhaseInternals(phases), new OpenTelemetryInternalsInterceptor()],
  };
};
