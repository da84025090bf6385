/**
 * A wait's wake-up call: Kubernetes watches (what `kubectl rollout status` follows) on the objects a
 * poll loop reads, so the loop looks again the moment the API server reports a change instead of
 * after its sleep. A watched collection can also be mirrored: listed, then watched from the list's
 * resourceVersion (as kubectl's and the controllers' informers do), its copy kept current from the
 * watch's own events, so a look reads the copy instead of calling the API server again.
 * Polling stays the loop's fallback: a watch the server refuses (no `watch` permission), ends or
 * drops only leaves the loop polling at its own pace, and the bell says so once (`problem`) for the
 * timeline.
 */
import { Watch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject, V1Deployment, V1ListMeta } from '@kubernetes/client-node';
// The typed clients' own deserializer (not exported at the top level): the watch's objects get the
// same types as a list's (dates as Date), so a mirrored look and a polled one read alike.
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import type { ActivityEvent } from '../../model';
import { sleep } from '../abort';
import type { KubeClients } from './api';
import { apiMessage, kube, labelSelector, nowIso, statusOf } from './api';

/** A collection as a typed list call returns it. */
export interface KubeList {
  metadata?: V1ListMeta;
  items: KubernetesObject[];
}

/** One watched collection: its API path and the query that narrows it (labelSelector, fieldSelector). */
export interface WatchedPath {
  path: string;
  query: Record<string, string>;
  /** What it is, for the problem sentence ("pods"). */
  what: string;
  /**
   * Keep a copy of the collection under `key`: `list` is the typed list of the same path and query,
   * `model` its item type ("V1Pod"). Without `list` (a watch of one object by name) the watch starts
   * with the object as it is, and that first event starts the copy.
   */
  mirror?: { key: string; model: string; list?: () => Promise<KubeList> };
}

/**
 * Orders two resourceVersions of one resource type: since Kubernetes 1.35 (KEP-5504) they are
 * positive integers without leading zeros, so the longer is newer, else the larger. Undefined when
 * either is not of that form (an older or foreign API server): then they are not compared.
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  const valid = /^[1-9][0-9]*$/;
  if (!valid.test(a) || !valid.test(b)) return undefined;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The copy of one mirrored collection, current as of `at`. */
export class Mirror {
  private readonly items = new Map<string, KubernetesObject>();
  /** The newest resourceVersion the copy holds: the list's, then each event's. */
  private at: string | undefined;
  /** A write of ours was answered with this resourceVersion and the copy has not reached it yet. */
  private awaiting: string | undefined;
  private listed = false;
  /** Never trusted again: its watch ended, or a resourceVersion could not be ordered. */
  private broken = false;

  constructor(private readonly model: string) {}

  load(list: KubeList): void {
    for (const item of list.items) this.items.set(idOf(item), item);
    this.listed = true;
    this.raise('at', list.metadata?.resourceVersion);
  }

  /** One watch event (ADDED, MODIFIED, DELETED, BOOKMARK); for a copy without a list, the first one starts it. */
  apply(type: string, raw: KubernetesObject): void {
    this.listed = true;
    if (type === 'ADDED' || type === 'MODIFIED') this.items.set(idOf(raw), ObjectSerializer.deserialize(raw, this.model, '') as KubernetesObject);
    else if (type === 'DELETED') this.items.delete(idOf(raw));
    else if (type !== 'BOOKMARK') return this.stop();
    this.raise('at', raw.metadata?.resourceVersion);
  }

  /** Our write made the collection reach `resourceVersion` (before or after the list): the copy is stale until it gets there. */
  wrote(resourceVersion: string | undefined): void {
    this.raise('awaiting', resourceVersion);
  }

  stop(): void {
    this.broken = true;
  }

  /** The objects as of the newest event, or undefined while the copy is not listed, broken, or behind a write of ours. */
  current(): KubernetesObject[] | undefined {
    return this.listed && !this.broken && this.awaiting === undefined ? [...this.items.values()] : undefined;
  }

  /** Moves `at` or `awaiting` to `rv` when it is later (or nothing is held); a version missing or not ordered stops the copy. */
  private raise(which: 'at' | 'awaiting', rv: string | undefined): void {
    const held = this[which];
    const order = rv === undefined ? undefined : held === undefined ? 1 : compareResourceVersions(rv, held);
    if (order === undefined) return this.stop();
    if (order > 0) this[which] = rv;
    this.settle();
  }

  private settle(): void {
    if (this.at === undefined || this.awaiting === undefined) return;
    const order = compareResourceVersions(this.at, this.awaiting);
    if (order === undefined) this.stop();
    else if (order >= 0) this.awaiting = undefined;
  }
}

function idOf(o: KubernetesObject): string {
  return o.metadata?.uid ?? `${o.metadata?.namespace}/${o.metadata?.name}`;
}

export class ChangeBell {
  private dirty = false;
  private waiters: (() => void)[] = [];
  private readonly controllers: AbortController[] = [];
  private readonly mirrors = new Map<string, Mirror>();
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
        const { mirror: how } = p;
        const mirror = how && new Mirror(how.model);
        // Kept from the start: a write noted before the list answers is still awaited.
        if (how && mirror) this.mirrors.set(how.key, mirror);
        // The client calls `done` before `watch` resolves when the server refuses the watch.
        const ended = (err: unknown) => {
          mirror?.stop();
          if (this.closed) return;
          const why = err ? ` (${describe(err)})` : '';
          this.note(started ? `the watch of ${p.what} ended${why}; following by polling` : `the watch of ${p.what} could not start${why}; following by polling`);
        };
        const event = (type: string, obj: KubernetesObject) => {
          // An ERROR event (e.g. 410 Gone: the list's resourceVersion is too old) ends the stream.
          if (type === 'ERROR') ended(new Error(`watch ERROR event${typeof (obj as { message?: unknown }).message === 'string' ? `: ${(obj as { message: string }).message}` : ''}`));
          else mirror?.apply(type, obj);
          this.ring();
        };
        try {
          let query = p.query;
          if (how?.list && mirror) {
            const list = await kube(`list ${p.what}`, how.list);
            mirror.load(list);
            // The watch starts where the list ended: no change between them is missed.
            if (list.metadata?.resourceVersion) query = { ...query, resourceVersion: list.metadata.resourceVersion };
          }
          const controller = await watch.watch(p.path, query, event, ended);
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
   * Opens one watch per path (a mirrored one after its list), in the background: the bell can be
   * waited on at once (a wait before the watches run is a sleep; an unmirrored watch's first events,
   * the objects as they are, ring it). Never throws: a bell without watches is a plain sleep.
   */
  static open(kc: KubeConfig, paths: WatchedPath[]): ChangeBell {
    return new ChangeBell(kc, paths);
  }

  /**
   * The mirrored collection `key` as of the watch's latest event, or undefined when it cannot be
   * used now: not listed yet, a watch of the bell ended (the loop polls), or a write of ours it has
   * not seen yet (see `wrote`).
   */
  objects<T extends KubernetesObject>(key: string): T[] | undefined {
    if (!this.live) return undefined;
    return this.mirrors.get(key)?.current() as T[] | undefined;
  }

  /** A write of ours to collection `key` was answered with `written`: its copy is not read until the watch reports that version. Returns `written`. */
  wrote<T extends KubernetesObject>(key: string, written: T): T {
    this.mirrors.get(key)?.wrote(written.metadata?.resourceVersion);
    return written;
  }

  /** True while every watch the bell opened still runs: the loop need not poll fast. */
  get live(): boolean {
    return this.controllers.length > 0 && this.problem === undefined;
  }

  private note(problem: string): void {
    this.problem ??= problem;
  }

  private waking = false;

  /**
   * The API server reported a change: wake the waiting loop, or the next wait at once. The wake
   * comes after the events already received (setImmediate), so a burst (a pod's update, then its
   * ReplicaSet's and Deployment's) costs one look, not one per event.
   */
  ring(): void {
    this.dirty = true;
    if (this.waking) return;
    this.waking = true;
    setImmediate(() => {
      this.waking = false;
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
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
  const status = (err as { statusCode?: number } | undefined)?.statusCode ?? statusOf(err);
  const message = apiMessage(err);
  return status ? `HTTP ${status} ${message}` : message;
}

/** The keys of a rollout bell's mirrored collections. */
export const MIRRORED = { deployment: 'deployment', replicaSets: 'replicasets', pods: 'pods' } as const;

/**
 * The bell of a rollout or undo of `d`: its own object, its ReplicaSets and pods, mirrored, and the
 * namespace's endpoints (the wait after the last step reads them). The Deployment's copy starts
 * from its watch's first event, the others from a list: the permissions the polling look needs
 * (get Deployments, list ReplicaSets and pods) are all it needs, plus watch.
 */
export function rolloutBell(c: KubeClients, d: V1Deployment): ChangeBell {
  const namespace = d.metadata!.namespace!;
  const name = d.metadata!.name!;
  const selector = labelSelector(d.spec?.selector);
  return ChangeBell.open(c.kc, [
    {
      path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
      query: { fieldSelector: `metadata.name=${name}` },
      what: `deployment/${name}`,
      mirror: { key: MIRRORED.deployment, model: 'V1Deployment' },
    },
    {
      path: `/apis/apps/v1/namespaces/${namespace}/replicasets`,
      query: { labelSelector: selector },
      what: 'its replicasets',
      mirror: { key: MIRRORED.replicaSets, model: 'V1ReplicaSet', list: () => c.apps.listNamespacedReplicaSet({ namespace, labelSelector: selector }) },
    },
    {
      path: `/api/v1/namespaces/${namespace}/pods`,
      query: { labelSelector: selector },
      what: 'its pods',
      mirror: { key: MIRRORED.pods, model: 'V1Pod', list: () => c.core.listNamespacedPod({ namespace, labelSelector: selector }) },
    },
    { path: `/api/v1/namespaces/${namespace}/endpoints`, query: {}, what: `the endpoints of namespace ${namespace}` },
  ]);
}

/** The timeline's note when the bell could not follow by watching (never silent: the loop polled). */
export function bellEvents(bell: ChangeBell, key: string): ActivityEvent[] {
  return bell.problem ? [{ at: nowIso(), status: 'info', title: 'Rollout followed by polling, not watching', detail: bell.problem, key: `bell:${key}` }] : [];
}
