/**
 * A wait's wake-up call: Kubernetes watches (what `kubectl rollout status` follows) on the objects a
 * poll loop reads, so the loop looks again the moment the API server reports a change instead of
 * after its sleep. Polling stays the loop's source of truth and its fallback: a watch the server
 * refuses (no `watch` permission), ends or drops only leaves the loop polling at its own pace, and
 * the bell says so once (`problem`) for the timeline.
 */
import { Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import type { ActivityEvent } from '../../model';
import { sleep } from '../abort';
import { labelSelector, nowIso } from './api';

/** One watched collection: its API path and the query that narrows it (labelSelector, fieldSelector). */
export interface WatchedPath {
  path: string;
  query: Record<string, string>;
  /** What it is, for the problem sentence ("pods"). */
  what: string;
}

export class ChangeBell {
  private dirty = false;
  private waiters: (() => void)[] = [];
  private readonly controllers: AbortController[] = [];
  private closed = false;
  /** Why a watch did not run or ended early, once (the loop polled meanwhile). */
  problem: string | undefined;

  /** Settles once every watch has an answer from the server (started, or refused: then `problem` says why). */
  readonly ready: Promise<void>;

  private constructor(kc: KubeConfig, paths: WatchedPath[]) {
    const watch = new Watch(kc);
    this.ready = Promise.all(
      paths.map(async (p) => {
        let started = false;
        // The client calls `done` before `watch` resolves when the server refuses the watch.
        const ended = (err: unknown) => {
          if (this.closed) return;
          const why = err ? ` (${describe(err)})` : '';
          this.note(started ? `the watch of ${p.what} ended${why}; following by polling` : `the watch of ${p.what} could not start${why}; following by polling`);
        };
        try {
          const controller = await watch.watch(p.path, p.query, () => this.ring(), ended);
          started = true;
          if (this.closed) controller.abort();
          else this.controllers.push(controller);
        } catch (err) {
          ended(err);
        }
      }),
    ).then(() => undefined);
  }

  /**
   * Opens one watch per path, in the background: the bell can be waited on at once (a wait before
   * the watches run is a sleep; their first events, the objects as they are, ring it). Never
   * throws: a bell without watches is a plain sleep.
   */
  static open(kc: KubeConfig, paths: WatchedPath[]): ChangeBell {
    return new ChangeBell(kc, paths);
  }

  /** True while every watch the bell opened still runs: the loop need not poll fast. */
  get live(): boolean {
    return this.controllers.length > 0 && this.problem === undefined;
  }

  private note(problem: string): void {
    this.problem ??= problem;
  }

  /** The API server reported a change: wake the waiting loop, or the next wait at once. */
  ring(): void {
    this.dirty = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Call before reading the objects: a change after this point wakes the next wait. */
  heard(): void {
    this.dirty = false;
  }

  /**
   * Sleeps `ms`, or less if a change is reported (or was, since `heard`): says which. Rejects on abort.
   */
  async wait(ms: number, signal?: AbortSignal): Promise<'changed' | 'slept'> {
    if (this.dirty) return 'changed';
    const rung = new AbortController();
    const wake = () => rung.abort();
    this.waiters.push(wake);
    try {
      await sleep(ms, signal ? AbortSignal.any([signal, rung.signal]) : rung.signal);
      return 'slept';
    } catch (err) {
      if (signal?.aborted || !rung.signal.aborted) throw err;
      return 'changed';
    } finally {
      this.waiters = this.waiters.filter((w) => w !== wake);
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.controllers) c.abort();
    this.controllers.length = 0;
    this.ring();
  }
}

function describe(err: unknown): string {
  const status = (err as { statusCode?: number } | undefined)?.statusCode;
  const message = err instanceof Error ? err.message : String(err);
  return status ? `HTTP ${status} ${message}` : message;
}

/**
 * The bell of a rollout or undo of `d`: its own object, its ReplicaSets and pods, and the
 * namespace's endpoints (the wait after the last step reads them).
 */
export function rolloutBell(kc: KubeConfig, d: V1Deployment): ChangeBell {
  const namespace = d.metadata!.namespace!;
  const selector = labelSelector(d.spec?.selector);
  return ChangeBell.open(kc, [
    { path: `/apis/apps/v1/namespaces/${namespace}/deployments`, query: { fieldSelector: `metadata.name=${d.metadata!.name!}` }, what: `deployment/${d.metadata!.name!}` },
    { path: `/apis/apps/v1/namespaces/${namespace}/replicasets`, query: { labelSelector: selector }, what: 'its replicasets' },
    { path: `/api/v1/namespaces/${namespace}/pods`, query: { labelSelector: selector }, what: 'its pods' },
    { path: `/api/v1/namespaces/${namespace}/endpoints`, query: {}, what: `the endpoints of namespace ${namespace}` },
  ]);
}

/** The timeline's note when the bell could not follow by watching (never silent: the loop polled). */
export function bellEvents(bell: ChangeBell, key: string): ActivityEvent[] {
  return bell.problem ? [{ at: nowIso(), status: 'info', title: 'Rollout followed by polling, not watching', detail: bell.problem, key: `bell:${key}` }] : [];
}
