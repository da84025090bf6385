/**
 * What every phase of a deployment works with, in one object (the role `rolloutContext` plays in
 * argo-rollouts): the spec, the state carried across continue-as-new, the timeline, and the few
 * operations every phase needs: record an event, enter a phase, run an activity, notify, write the
 * report, request a rollback. Phases are plain functions of a context; this class holds no decision.
 */
import { proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/common';
import { NOTIFICATION, REPORT_WRITE } from '../../activities/options';
import type { DeploymentActivities } from '../../activities';
import type { HealthProbe, Notification, NotificationKind } from '../../activities/types';
import { dedupKey, mergeAvailability } from '../../model';
import type { AvailabilityStats, DeploymentRef, DeploymentReport, EventStatus, Phase, TrafficSample } from '../../model';
import type { DeploySpec } from '../../spec/types';
import { initialAlertStates } from '../alert-evaluator';
import type { WatchReport } from '../evaluator-messages';
import { searchAttributes } from '../messages';
import type { DeploymentInput } from '../messages';
import { buildReport } from '../report';
import { trafficSplitText } from '../rollout-plan';
import { initialState, resumeCarried } from '../state';
import type { DeploymentState, RollbackTrigger } from '../state';
import { Timeline } from '../timeline';
import { TimelineMemo } from './timeline-memo';
import { messageOf } from './failures';
import { trafficToRecord } from './traffic';
import type { TrafficSplit } from './traffic';

/** How often the availability probe hits the health endpoint while pods change. */
const PROBE_INTERVAL_MS = 250;

type Acts = DeploymentActivities;
export type ActivityName = keyof Acts;
export type ActivityInput<K extends ActivityName> = Parameters<Acts[K]>[0];
export type ActivityResult<K extends ActivityName> = Awaited<ReturnType<Acts[K]>>;

/** How one activity runs: its kind's options, and a summary that reads like the timeline in the Web UI. */
export interface ActivityCall {
  options: ActivityOptions;
  summary: string;
}

/** A notification as a phase sends it: the context adds the deployment's identity and dedup key. */
export interface OutgoingNotification {
  kind: NotificationKind;
  severity: Notification['severity'];
  title: string;
  text: string;
  /** What the page is about within its kind (an alert rule, "decision:<rule>", "blind"), for the dedup key. */
  about?: string;
}

export class DeploymentContext {
  readonly spec: DeploySpec;
  readonly timeline: Timeline;
  /** The Deployment the release goes to. */
  readonly ref: DeploymentRef;
  readonly probe: HealthProbe;
  /** Bumped by the messages that change what a wait waits for (rollback, promote, resume, extend). */
  wakeUps = 0;
  /**
   * Extensions asked for before the watch window opened. Run-local: the window opens in the run
   * that did the forward path (continue-as-new happens only inside the window).
   */
  extendedBeforeWatchMs = 0;
  /** Reports from the watch evaluator not yet applied (run-local: the window applies them before continuing as new). */
  readonly watchReports: WatchReport[] = [];
  /**
   * Work started and not waited for, so what comes next goes out in the same workflow task (the
   * window's goodbye to its evaluator beside a rollback's first command); `finish` waits for it.
   */
  readonly unfinished: Promise<unknown>[] = [];

  constructor(
    readonly input: DeploymentInput,
    readonly state: DeploymentState,
    /** Keeps the timeline in the workflow's memo; none outside a workflow (the commands' unit tests). */
    private readonly memo?: TimelineMemo,
  ) {
    this.spec = input.spec;
    this.timeline = new Timeline(state.timeline, () => this.memo?.changed());
    this.ref = { namespace: this.spec.namespace, deployment: this.spec.kubernetes.deployment, container: this.spec.kubernetes.container };
    this.probe = { url: `${this.spec.serviceUrl}${this.spec.healthPath}`, intervalMs: PROBE_INTERVAL_MS };
  }

  /** Writes the timeline's events the memo lacks now: before the run ends or continues as new, so no command follows its last. */
  flushTimelineMemo(): void {
    this.memo?.flush();
  }

  /** A new deployment's context, or the next run's, from the state continue-as-new carried. */
  static start(input: DeploymentInput): DeploymentContext {
    if (input.carried !== undefined) {
      const carried = resumeCarried(input.carried);
      return new DeploymentContext(input, carried, new TimelineMemo(carried.timeline));
    }
    const info = workflowInfo();
    const state = initialState({
      deploymentId: info.workflowId,
      firstRunId: info.firstExecutionRunId,
      requestedBy: input.requestedBy,
      startedAt: new Date().toISOString(),
      alerts: initialAlertStates(input.spec.watch.rules),
    });
    return new DeploymentContext(input, state, new TimelineMemo(state.timeline));
  }

  /** This run continues a deployment that an earlier run started (the forward path is done). */
  get resumed(): boolean {
    return this.input.carried !== undefined;
  }

  /** Adds an event to the timeline under the current phase, now. */
  record(status: EventStatus, title: string, detail?: string, key?: string): void {
    this.timeline.add(this.state.phase, { at: new Date().toISOString(), status, title, ...(detail ? { detail } : {}), ...(key ? { key } : {}) });
  }

  /** Moves to a phase, and tells the Web UI (search attribute). */
  enter(phase: Phase): void {
    this.state.phase = phase;
    upsertSearchAttributes([{ key: searchAttributes.phase, value: phase }]);
    this.resume(phase);
  }

  /** In `phase` already (a run continued as new keeps its search attributes): the Web UI's details only, no command. */
  resume(phase: Phase): void {
    this.state.phase = phase;
    // The Web UI's "current details" (not a command): which release, where it is.
    setCurrentDetails(`${this.spec.service} ${this.spec.release}: ${phase}`);
  }

  /** A report from the watch evaluator: queued for the watch window, which wakes. */
  receiveWatchReport(report: WatchReport): void {
    this.watchReports.push(report);
  }

  /** Wakes whatever the workflow waits on, so it re-evaluates. */
  wake(): void {
    this.wakeUps++;
  }

  /** Runs one activity with its kind's options and a summary shown in the Web UI's event list. */
  runActivity<K extends ActivityName>(name: K, input: ActivityInput<K>, how: ActivityCall): Promise<ActivityResult<K>> {
    const proxy = proxyActivities<Acts>(how.options);
    const fn = proxy[name] as unknown as { executeWithOptions(o: ActivityOptions, a: unknown[]): Promise<unknown> };
    return fn.executeWithOptions({ ...how.options, summary: how.summary }, [input]) as Promise<ActivityResult<K>>;
  }

  /**
   * Sends a notification; one that cannot be sent never fails a deployment: it is a warning on the
   * timeline. Its pager dedup key names this deployment run, the kind and what it is `about`
   * (an alert rule, a decision, a blind watch), so no page swallows another.
   */
  async notify(n: OutgoingNotification): Promise<void> {
    const { spec, state } = this;
    const notification: Notification = {
      kind: n.kind,
      service: spec.service,
      namespace: spec.namespace,
      release: spec.release,
      deploymentId: state.deploymentId,
      dedupKey: dedupKey({ deploymentId: state.deploymentId, runId: state.firstRunId, kind: n.kind, ...(n.about ? { about: n.about } : {}) }),
      title: n.title,
      text: n.text,
      severity: n.severity,
    };
    const title = n.title;
    try {
      const deliveries = await this.runActivity('notify', { notification, channels: spec.notifications }, { options: NOTIFICATION, summary: `Notify: ${title}` });
      const failed = deliveries.filter((d) => !d.delivered);
      this.record(failed.length ? 'warning' : 'ok', `Notification sent: ${title}`, failed.map((d) => `${d.channel}: ${d.error ?? 'not delivered'}`).join('; ') || undefined);
    } catch (err) {
      this.record('warning', `Notification failed: ${title}`, messageOf(err));
    }
  }

  /** The deployment report as it stands. */
  report(): DeploymentReport {
    return buildReport(this.state, this.spec);
  }

  /** Writes the report files; a report that cannot be written is a warning and an issue, never a failure. */
  async writeReport(title: string): Promise<void> {
    try {
      this.state.reportFiles = await this.runActivity('writeReport', { report: this.report(), dir: this.spec.report.dir }, { options: REPORT_WRITE, summary: title });
      this.record('ok', title, this.state.reportFiles.markdownPath);
    } catch (err) {
      this.record('warning', `${title} failed`, messageOf(err));
      this.state.issues.push(`report not written: ${messageOf(err)}`);
    }
  }

  /** Asks for the rollback procedure; the first request wins, later ones are no-ops. */
  requestRollback(trigger: RollbackTrigger, reason: string, requestedBy: string): void {
    if (this.state.rollbackRequest) return;
    this.state.rollbackRequest = { trigger, reason, requestedBy, at: new Date().toISOString() };
    this.record('warning', 'Rollback requested', `${reason} (by ${requestedBy})`, 'rollback-requested');
    this.wake();
  }

  /** Adds what the availability probe measured to the deployment's total. */
  addAvailability(stats: AvailabilityStats | undefined): void {
    if (stats) this.state.availability = mergeAvailability(this.state.availability, stats);
  }

  /**
   * Records how traffic moved (each change once, on the timeline and in `traffic`); `now` is the
   * split to record when the activity sampled none.
   */
  recordTraffic(samples: TrafficSample[], now: TrafficSplit): void {
    const { state } = this;
    const list = samples.length ? samples : [{ at: new Date().toISOString(), ...now }];
    for (const s of trafficToRecord(state.traffic[state.traffic.length - 1], list)) {
      state.traffic.push(s);
      this.record('info', `Traffic: ${trafficSplitText(s.newPercent)}`, `${s.newPods} new / ${s.oldPods} old pods`, `traffic:${state.phase}:${s.newPods}:${s.oldPods}`);
    }
    state.rollout.newPercent = list[list.length - 1]!.newPercent;
  }

  /**
   * A Job name deterministic per deployment (a retried activity finds the Job it already created)
   * and unique to it: the run ID's last 12 hex digits, its random part (a time-ordered UUIDv7's
   * first 8 are the same for every run started within ~65 s). The suffix is never cut off.
   */
  jobName(kind: string): string {
    return jobNameFor(this.spec.service, kind, this.state.firstRunId);
  }
}

/** `<service>-<kind>-<last 12 hex digits of the run ID>`, at most 63 characters (the service part shortened). */
export function jobNameFor(service: string, kind: string, runId: string): string {
  const suffix = `-${kind}-${runId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(-12)}`;
  return `${service.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}
