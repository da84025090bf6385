/**
 * shipwatch's own metrics in a prom-client registry: deployments by state and outcome, rollbacks
 * by trigger, release events for dashboard annotations, activity executions and failures by
 * activity type, and the watch windows' last completed check.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRIC } from './metric-names';
import type { DeploymentEvent } from './metric-names';
import type { DeploymentEnd, DeploymentRef } from './sinks';

export class ShipwatchMetrics {
  readonly registry: Registry;
  /** Deployments this worker knows to be running, by workflow ID. */
  private readonly active: Record<string, DeploymentRef> = {};
  /** Workflow IDs whose watch window has completed at least one check. */
  private readonly watching: Record<string, true> = {};
  private readonly started: Counter;
  private readonly finished: Counter;
  private readonly rollbacks: Counter;
  private readonly events: Counter;
  private readonly activityExecutions: Counter;
  private readonly activityFailures: Counter;
  private readonly activityDuration: Histogram;
  private readonly watchLastCheck: Gauge;
  private readonly watchInterval: Gauge;
  private workerRunning: () => boolean = () => false;
  /**
   * Runs already counted as started or finished. A sink is called once per workflow task attempt, so
   * a task that is retried (a timed-out or evicted task on a loaded worker) calls it again: counted once.
   */
  private readonly counted = new RecentKeys(10_000);

  constructor(options: { registry?: Registry; processMetrics?: boolean } = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'shipwatch_' });
    const deploymentLabels = ['service', 'namespace'];
    this.started = new Counter({ name: METRIC.deploymentsStarted, help: 'Deployments started.', labelNames: deploymentLabels, registers });
    this.finished = new Counter({
      name: METRIC.deploymentsFinished,
      help: 'Deployments that ended, by outcome.',
      labelNames: [...deploymentLabels, 'outcome'],
      registers,
    });
    // collect() runs with the gauge as `this`; these arrows read this class's state.
    const counts = (): { rolling: number; watching: number } => {
      const ids = Object.keys(this.active);
      const watching = ids.filter((id) => this.watching[id]).length;
      return { rolling: ids.length - watching, watching };
    };
    const running = (): boolean => this.workerRunning();
    new Gauge({
      name: METRIC.deployments,
      help: 'Deployments in progress on this worker, by state (rolling_out: before the watch window; watching: in it).',
      labelNames: ['state'],
      registers,
      collect() {
        const { rolling, watching } = counts();
        this.set({ state: 'rolling_out' }, rolling);
        this.set({ state: 'watching' }, watching);
      },
    });
    this.rollbacks = new Counter({
      name: METRIC.rollbacks,
      help: 'Rollbacks, by what triggered them (signal, alert, rollout-failed, smoke-failed, …).',
      labelNames: [...deploymentLabels, 'trigger'],
      registers,
    });
    this.events = new Counter({
      name: METRIC.deploymentEvents,
      help: 'Release events (started, finished, rolled_back), for dashboard annotations.',
      labelNames: [...deploymentLabels, 'release', 'event'],
      registers,
    });
    this.activityExecutions = new Counter({
      name: METRIC.activityExecutions,
      help: 'Activity executions (attempts), by activity type.',
      labelNames: ['activity_type'],
      registers,
    });
    this.activityFailures = new Counter({
      name: METRIC.activityFailures,
      help: 'Activity attempts that failed, by activity type and error name.',
      labelNames: ['activity_type', 'error'],
      registers,
    });
    this.activityDuration = new Histogram({
      name: METRIC.activityDuration,
      help: 'Activity attempt durations, by activity type.',
      labelNames: ['activity_type'],
      buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 900],
      registers,
    });
    const watchLabels = ['workflow_id', 'service', 'namespace'];
    this.watchLastCheck = new Gauge({
      name: METRIC.watchLastCheck,
      help: 'Unix time of the last completed watch check of a deployment in its watch window.',
      labelNames: watchLabels,
      registers,
    });
    this.watchInterval = new Gauge({
      name: METRIC.watchInterval,
      help: 'Check interval of a deployment in its watch window.',
      labelNames: watchLabels,
      registers,
    });
    new Gauge({
      name: METRIC.workerRunning,
      help: '1 while the worker polls its task queue.',
      registers,
      collect() {
        this.set(running() ? 1 : 0);
      },
    });
  }

  private labels(ref: Pick<DeploymentRef, 'service' | 'namespace'>): { service: string; namespace: string } {
    return { service: ref.service, namespace: ref.namespace };
  }

  deploymentRunning(ref: DeploymentRef): void {
    this.active[ref.workflowId] = ref;
  }

  deploymentStarted(ref: DeploymentRef, runId?: string): void {
    this.active[ref.workflowId] = ref;
    if (runId !== undefined && !this.counted.add(`started/${runId}`)) return;
    this.started.inc(this.labels(ref));
    this.event(ref, 'started');
  }

  deploymentFinished(end: DeploymentEnd, runId?: string): void {
    delete this.active[end.workflowId];
    delete this.watching[end.workflowId];
    if (runId !== undefined && !this.counted.add(`finished/${runId}`)) return;
    this.finished.inc({ ...this.labels(end), outcome: end.outcome });
    if (end.rollbackTrigger) this.rollbacks.inc({ ...this.labels(end), trigger: end.rollbackTrigger });
    const watchLabels = { workflow_id: end.workflowId, ...this.labels(end) };
    // A finished deployment has no watch window left to be stuck.
    this.watchLastCheck.remove(watchLabels);
    this.watchInterval.remove(watchLabels);
  }

  /** A release event of a known deployment (rollout finished, rolled back), from the activity interceptor. */
  deploymentEvent(workflowId: string, event: DeploymentEvent): void {
    const ref = this.active[workflowId];
    if (ref) this.event(ref, event);
  }

  /** A completed check of a window (`everyMs`: how often it is due; default the spec's interval). */
  watchCheckCompleted(workflowId: string, at = Date.now(), everyMs?: number): void {
    const ref = this.active[workflowId];
    if (!ref) return;
    this.watching[workflowId] = true;
    const labels = { workflow_id: workflowId, ...this.labels(ref) };
    this.watchLastCheck.set(labels, at / 1000);
    this.watchInterval.set(labels, (everyMs ?? ref.watchIntervalMs) / 1000);
  }

  activityAttempt(activityType: string, seconds: number, error?: string): void {
    this.activityExecutions.inc({ activity_type: activityType });
    this.activityDuration.observe({ activity_type: activityType }, seconds);
    if (error !== undefined) this.activityFailures.inc({ activity_type: activityType, error });
  }

  /** Where `shipwatch_worker_running` reads the worker's state at each scrape. */
  workerRunningFrom(isRunning: () => boolean): void {
    this.workerRunning = isRunning;
  }

  private event(ref: DeploymentRef, event: DeploymentEvent): void {
    this.events.inc({ ...this.labels(ref), release: ref.release, event });
  }
}

/** A bounded set of keys: the oldest is forgotten when it is full. */
class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly limit: number) {}

  /** Adds the key; false when it was already there. */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.limit) {
      const oldest = this.keys.values().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
    return true;
  }
}
