/**
 * The release train's decisions as plain functions over plain data: checking the order graph,
 * which services may start now, what a failure does under each policy, the rollback order and the
 * release's outcome. The workflow only applies what these return; unit tests call them directly.
 */
import type { FailurePolicy, ReleaseOutcome, ServiceRecord, ServiceStage, WatchMode } from './types';

export interface GraphNode {
  name: string;
  after: string[];
}

export interface GraphIssue {
  /** Index of the service in the list, or undefined for the graph as a whole. */
  index?: number;
  field: 'name' | 'after';
  message: string;
}

/** Every problem with the order: duplicate names, unknown or self references, cycles (named). */
export function checkGraph(nodes: GraphNode[]): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const names = nodes.map((n) => n.name);
  nodes.forEach((node, index) => {
    if (names.indexOf(node.name) !== index) issues.push({ index, field: 'name', message: `"${node.name}" is listed twice: each service appears once in a release` });
    for (const dep of node.after) {
      if (dep === node.name) issues.push({ index, field: 'after', message: `"${node.name}" cannot come after itself` });
      else if (!names.includes(dep)) issues.push({ index, field: 'after', message: `unknown service "${dep}": expected one of ${names.map((n) => `"${n}"`).join(', ')}` });
    }
  });
  for (const cycle of findCycles(nodes)) {
    issues.push({ field: 'after', message: `the order has a cycle: ${[...cycle, cycle[0]].join(' → ')} (a service cannot wait for itself)` });
  }
  return issues;
}

/** Each cycle once, as the list of names around it, starting from its first name in file order. */
export function findCycles(nodes: GraphNode[]): string[][] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, path: string[]) => {
    if (done.has(name)) return;
    const at = path.indexOf(name);
    if (at >= 0) {
      const cycle = path.slice(at);
      const key = [...cycle].sort().join(',');
      if (!seen.has(key) && cycle.length > 1) {
        seen.add(key);
        cycles.push(cycle);
      }
      return;
    }
    for (const dep of byName.get(name)?.after ?? []) if (byName.has(dep) && dep !== name) visit(dep, [...path, name]);
    if (path.length === 0) done.add(name);
  };
  for (const node of nodes) visit(node.name, []);
  return cycles.map(rotateToFirst(nodes.map((n) => n.name)));
}

function rotateToFirst(order: string[]) {
  return (cycle: string[]): string[] => {
    const first = [...cycle].sort((a, b) => order.indexOf(a) - order.indexOf(b))[0]!;
    const at = cycle.indexOf(first);
    return [...cycle.slice(at), ...cycle.slice(0, at)];
  };
}

/** A valid graph in dependency order, ties kept in file order (the order the train starts in). */
export function topologicalOrder(nodes: GraphNode[]): string[] {
  const order: string[] = [];
  const left = [...nodes];
  while (left.length) {
    const next = left.findIndex((n) => n.after.every((d) => order.includes(d)));
    if (next < 0) throw new Error(`the order has a cycle among ${left.map((n) => n.name).join(', ')}`);
    order.push(left.splice(next, 1)[0]!.name);
  }
  return order;
}

const OPEN: ServiceStage[] = ['deploying', 'watching', 'rolling-back'];
const ENDED_BAD: ServiceStage[] = ['failed', 'rolled-back', 'manual-action', 'skipped'];

export function isOpen(stage: ServiceStage): boolean {
  return OPEN.includes(stage);
}

export function isEnded(stage: ServiceStage): boolean {
  return stage === 'succeeded' || ENDED_BAD.includes(stage);
}

/** Whether a dependency lets the services after it start: rolled out (together) or watched through (per service). */
export function dependencyMet(stage: ServiceStage, mode: WatchMode): boolean {
  return mode === 'together' ? stage === 'watching' || stage === 'succeeded' : stage === 'succeeded';
}

export interface TrainView {
  services: Pick<ServiceRecord, 'name' | 'after' | 'stage'>[];
  mode: WatchMode;
  policy: FailurePolicy;
  /** A failure happened (the policy decides what still starts). */
  failed: boolean;
  /** The release is being rolled back: nothing starts any more. */
  rollingBack: boolean;
}

/** Pending services whose dependencies are met and that the policy still lets start. */
export function startable(view: TrainView): string[] {
  if (view.rollingBack) return [];
  if (view.failed && view.policy !== 'continue') return [];
  const stageOf = (name: string) => view.services.find((s) => s.name === name)?.stage;
  return view.services
    .filter((s) => s.stage === 'pending' && s.after.every((d) => dependencyMet(stageOf(d) ?? 'pending', view.mode)))
    .map((s) => s.name);
}

/**
 * Pending services that will never start: after a failure under `halt` (all of them), under
 * `continue` (those that depend, directly or not, on a service that ended badly), during a rollback
 * of the release (all of them). Each with the reason the report gives.
 */
export function toSkip(view: TrainView): { name: string; reason: string }[] {
  const waiting = view.services.filter((s) => s.stage === 'pending' || s.stage === 'awaiting-approval');
  if (view.rollingBack) return waiting.map((s) => ({ name: s.name, reason: 'not started: the release was rolled back' }));
  if (!view.failed) return [];
  if (view.policy !== 'continue') return waiting.map((s) => ({ name: s.name, reason: `not started: the train stopped after a failure (onFailure: ${view.policy})` }));
  const bad = new Set(view.services.filter((s) => ENDED_BAD.includes(s.stage)).map((s) => s.name));
  const byName = new Map(view.services.map((s) => [s.name, s]));
  const blockedBy = (name: string, trail: string[] = []): string | undefined => {
    for (const dep of byName.get(name)?.after ?? []) {
      if (bad.has(dep)) return dep;
      if (trail.includes(dep)) continue;
      const deeper = blockedBy(dep, [...trail, name]);
      if (deeper) return deeper;
    }
    return undefined;
  };
  return waiting.flatMap((s) => {
    const dep = blockedBy(s.name);
    return dep ? [{ name: s.name, reason: `not started: it depends on ${dep}, which did not succeed` }] : [];
  });
}

/** The deployments a rollback of the release undoes: those still open, latest started first. */
export function rollbackOrder(services: Pick<ServiceRecord, 'name' | 'stage' | 'startedSeq'>[]): string[] {
  return services
    .filter((s) => s.startedSeq !== undefined && (s.stage === 'deploying' || s.stage === 'watching'))
    .sort((a, b) => b.startedSeq! - a.startedSeq!)
    .map((s) => s.name);
}

/** Whether a failure of one service makes the whole release roll back. */
export function failureRollsBackAll(policy: FailurePolicy): boolean {
  return policy === 'rollback-all';
}

/** How the release ended, once every service has ended. */
export function releaseOutcome(
  services: Pick<ServiceRecord, 'stage' | 'rollbackRequested'>[],
  how: { policy: FailurePolicy; rolledBack: boolean },
): ReleaseOutcome {
  if (services.some((s) => s.stage === 'manual-action')) return 'MANUAL_ACTION_REQUIRED';
  if (services.every((s) => s.stage === 'succeeded')) return 'SUCCEEDED';
  if (how.rolledBack) return 'ROLLED_BACK';
  if (how.policy === 'continue' && services.some((s) => s.stage === 'succeeded')) return 'PARTIAL';
  return 'HALTED';
}

export interface ApprovalView {
  services: (Pick<ServiceRecord, 'name' | 'stage' | 'approvedBy' | 'after'> & { approval: 'required' | 'none' })[];
  /** False once the release ended or is being rolled back. */
  goingForward: boolean;
}

/**
 * Which service an `approve` opens, or why it is refused. A gate counts from the start of the
 * release, not only once the service waits at it: an approval-required service that has not
 * started and is not approved yet can be approved while its dependencies still roll out, and it
 * then starts without waiting. Judging only by "waiting now" refused an approval a status query
 * had just shown waiting: after a worker restart, a query replays events the next workflow task
 * has not applied yet, and in that task the update is validated before those events are applied.
 */
export function approvalTarget(view: ApprovalView, req: { service?: string | undefined }): { service: string; waiting: boolean } | { refusal: string } {
  if (!view.goingForward) return { refusal: 'the release is no longer going forward' };
  const open = (s: ApprovalView['services'][number]) => s.approval === 'required' && !s.approvedBy && (s.stage === 'awaiting-approval' || s.stage === 'pending');
  const waiting = view.services.filter((s) => s.stage === 'awaiting-approval').map((s) => s.name);
  if (req.service) {
    const target = view.services.find((s) => s.name === req.service);
    if (!target) return { refusal: `${req.service} is not in this release (services: ${view.services.map((s) => s.name).join(', ')})` };
    if (!open(target)) {
      const why = target.approval !== 'required' ? 'it has no approval gate' : target.approvedBy ? `already approved by ${target.approvedBy}` : `it is already ${target.stage}`;
      return { refusal: `${req.service} is not waiting for approval: ${why}${waiting.length ? ` (waiting: ${waiting.join(', ')})` : ''}` };
    }
    return { service: target.name, waiting: target.stage === 'awaiting-approval' };
  }
  const candidates = waiting.length ? waiting : view.services.filter(open).map((s) => s.name);
  if (!candidates.length) return { refusal: 'no service is waiting for approval' };
  if (candidates.length > 1) return { refusal: `several services are waiting (${candidates.join(', ')}): name one with --service` };
  return { service: candidates[0]!, waiting: waiting.length > 0 };
}
