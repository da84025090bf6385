/** The release train's decisions: the order graph, what may start, what a failure does, the outcome. */
import { checkGraph, findCycles, releaseOutcome, rollbackOrder, startable, toSkip, topologicalOrder } from '../../src/workflows/release/plan';
import type { TrainView } from '../../src/workflows/release/plan';
import type { ServiceStage } from '../../src/workflows/release/types';

const node = (name: string, after: string[] = []) => ({ name, after });

describe('the order graph', () => {
  test('a valid graph starts in dependency order, ties in file order', () => {
    const nodes = [node('audit-log', ['user-management']), node('user-management'), node('billing', ['user-management']), node('web', ['audit-log', 'billing'])];
    expect(checkGraph(nodes)).toEqual([]);
    expect(topologicalOrder(nodes)).toEqual(['user-management', 'audit-log', 'billing', 'web']);
  });

  test('unknown names, self references and duplicates are named', () => {
    const issues = checkGraph([node('a', ['a']), node('b', ['c']), node('b')]);
    expect(issues).toEqual([
      { index: 0, field: 'after', message: '"a" cannot come after itself' },
      { index: 1, field: 'after', message: 'unknown service "c": expected one of "a", "b", "b"' },
      { index: 2, field: 'name', message: '"b" is listed twice: each service appears once in a release' },
    ]);
  });

  test('a cycle is refused and named once, whatever service it is entered from', () => {
    const nodes = [node('a', ['c']), node('b', ['a']), node('c', ['b']), node('d', ['a'])];
    expect(findCycles(nodes)).toEqual([['a', 'c', 'b']]);
    expect(checkGraph(nodes).map((i) => i.message)).toEqual(['the order has a cycle: a → c → b → a (a service cannot wait for itself)']);
    expect(() => topologicalOrder(nodes)).toThrow(/cycle/);
  });
});

function view(stages: Record<string, ServiceStage>, graph: Record<string, string[]>, rest: Partial<TrainView> = {}): TrainView {
  return {
    services: Object.entries(stages).map(([name, stage]) => ({ name, stage, after: graph[name] ?? [] })),
    mode: 'together',
    policy: 'rollback-all',
    failed: false,
    rollingBack: false,
    ...rest,
  };
}

describe('what may start', () => {
  const graph = { um: [], audit: ['um'], billing: ['um'], web: ['audit', 'billing'] };

  test('roots first; independent branches together once their dependency is rolled out', () => {
    expect(startable(view({ um: 'pending', audit: 'pending', billing: 'pending', web: 'pending' }, graph))).toEqual(['um']);
    expect(startable(view({ um: 'deploying', audit: 'pending', billing: 'pending', web: 'pending' }, graph))).toEqual([]);
    expect(startable(view({ um: 'watching', audit: 'pending', billing: 'pending', web: 'pending' }, graph))).toEqual(['audit', 'billing']);
    expect(startable(view({ um: 'watching', audit: 'watching', billing: 'deploying', web: 'pending' }, graph))).toEqual([]);
  });

  test('per service, a dependency must have finished its watch window', () => {
    const v = { um: 'watching', audit: 'pending', billing: 'pending', web: 'pending' } as const;
    expect(startable(view(v, graph, { mode: 'per-service' }))).toEqual([]);
    expect(startable(view({ ...v, um: 'succeeded' }, graph, { mode: 'per-service' }))).toEqual(['audit', 'billing']);
  });

  test('after a failure: rollback-all and halt start nothing more and skip the rest; continue skips only dependents', () => {
    const stages = { um: 'watching', audit: 'failed', billing: 'pending', web: 'pending' } as const;
    for (const policy of ['rollback-all', 'halt'] as const) {
      expect(startable(view(stages, graph, { failed: true, policy }))).toEqual([]);
      expect(toSkip(view(stages, graph, { failed: true, policy })).map((s) => s.name)).toEqual(['billing', 'web']);
    }
    const cont = view(stages, graph, { failed: true, policy: 'continue' });
    expect(startable(cont)).toEqual(['billing']);
    expect(toSkip(cont)).toEqual([{ name: 'web', reason: 'not started: it depends on audit, which did not succeed' }]);
  });

  test('a dependency of a dependency that failed skips too (continue)', () => {
    const v = view({ um: 'rolled-back', audit: 'pending', web: 'pending' }, { audit: ['um'], web: ['audit'] }, { failed: true, policy: 'continue' });
    expect(toSkip(v).map((s) => s.name)).toEqual(['audit', 'web']);
  });

  test('a rollback of the release starts nothing and skips whatever waits, approval included', () => {
    const v = view({ um: 'watching', audit: 'awaiting-approval', billing: 'pending' }, graph, { rollingBack: true });
    expect(startable(v)).toEqual([]);
    expect(toSkip(v).map((s) => s.name)).toEqual(['audit', 'billing']);
  });
});

describe('rollback order and outcome', () => {
  test('open deployments are rolled back latest-started first; ended or never-started ones are not', () => {
    expect(
      rollbackOrder([
        { name: 'um', stage: 'watching', startedSeq: 1 },
        { name: 'audit', stage: 'deploying', startedSeq: 3 },
        { name: 'billing', stage: 'watching', startedSeq: 2 },
        { name: 'old', stage: 'succeeded', startedSeq: 0 },
        { name: 'web', stage: 'pending' },
        { name: 'bad', stage: 'failed', startedSeq: 4 },
      ]),
    ).toEqual(['audit', 'billing', 'um']);
  });

  test('the outcome says what happened to the train', () => {
    const s = (...stages: ServiceStage[]) => stages.map((stage) => ({ stage }));
    expect(releaseOutcome(s('succeeded', 'succeeded'), { policy: 'rollback-all', rolledBack: false })).toBe('SUCCEEDED');
    expect(releaseOutcome(s('rolled-back', 'rolled-back'), { policy: 'rollback-all', rolledBack: true })).toBe('ROLLED_BACK');
    expect(releaseOutcome(s('rolled-back', 'manual-action'), { policy: 'rollback-all', rolledBack: true })).toBe('MANUAL_ACTION_REQUIRED');
    expect(releaseOutcome(s('succeeded', 'rolled-back', 'skipped'), { policy: 'halt', rolledBack: false })).toBe('HALTED');
    expect(releaseOutcome(s('succeeded', 'rolled-back', 'succeeded'), { policy: 'continue', rolledBack: false })).toBe('PARTIAL');
    expect(releaseOutcome(s('failed', 'skipped'), { policy: 'continue', rolledBack: false })).toBe('HALTED');
  });
});
