/** Planning batched rule queries: which expressions join one query, the query asked, and whose series are whose. */
import type * as LezerPromql from '@prometheus-io/lezer-promql';
import { distribute, factsOf, parseByShape, parseExpression, planQueries, planQueriesInSlices, PARSED_PER_SLICE } from '../../src/activities/promql-batch';
import type * as PromqlBatch from '../../src/activities/promql-batch';
import type { Facts } from '../../src/activities/promql-batch';
import { defaultAlertRules } from '../../src/spec/defaults';
import { checkPromql } from '../../src/spec/promql';
import { PlanCache } from '../../src/activities/metrics';

const service = (i: number) => defaultAlertRules({ service: `s${i}`, namespace: `ns${i}`, deployment: `d${i}`, selector: `namespace="ns${i}",job="s${i}"`, window: '5m' });

test("the seed's four rules of many services are four queries, each of them valid PromQL", () => {
  const exprs = [1, 2, 3].flatMap((i) => service(i).map((r) => r.expr));
  const plan = planQueries(exprs);
  expect(plan.alone).toEqual([]);
  expect(plan.batches.map((b) => b.members)).toEqual([
    [0, 4, 8],
    [1, 5, 9],
    [2, 6, 10],
    [3, 7, 11],
  ]);
  for (const b of plan.batches) expect(checkPromql(b.query)).toBeUndefined();
  // Each varying matcher becomes "has the label"; the fixed one (status) stays.
  expect(plan.batches[0]!.query).toBe(
    'sum by (namespace, job) (rate(http_requests_total{namespace!="",job!="",status=~"5.."}[5m]) or rate(http_requests_total{namespace!="",job!=""}[5m]) * 0) / sum by (namespace, job) (rate(http_requests_total{namespace!="",job!=""}[5m]))',
  );
  expect(plan.batches[1]!.query).toBe('histogram_quantile(0.95, sum by (le, namespace, job) (rate(http_request_duration_seconds_bucket{namespace!="",job!=""}[5m])))');
  expect(plan.batches[2]!.query).toBe('kube_deployment_status_replicas_available{namespace!="",deployment!=""}');
  // The pod pattern varies as a regex: kept apart by the rule's own `by (pod)`, the namespace added.
  expect(plan.batches[3]!.query).toBe('max by (pod, namespace) (container_memory_usage_bytes{namespace!="",pod!=""} / container_spec_memory_limit_bytes{namespace!="",pod!=""})');
  expect(plan.batches[2]!.conditions[1]).toEqual([
    { label: 'namespace', op: '=', value: 'ns2' },
    { label: 'deployment', op: '=', value: 'd2' },
  ]);
});

test('a shape is asked in the same words whichever services share it (evaluators of two shares of a fleet ask one query)', () => {
  const plan = (ids: number[]) => planQueries(ids.flatMap((i) => service(i).map((r) => r.expr))).batches.map((b) => b.query);
  expect(plan([1, 2, 3])).toEqual(plan([40, 41]));
});

test("asked for a share of the fleet ('members'): each varying label selects the union of the members' values, so Prometheus reads that share only", () => {
  const plan = planQueries([1, 2, 3].flatMap((i) => service(i).map((r) => r.expr)), 'members');
  expect(plan.alone).toEqual([]);
  for (const b of plan.batches) expect(checkPromql(b.query)).toBeUndefined();
  expect(plan.batches[0]!.query).toBe(
    'sum by (namespace, job) (rate(http_requests_total{namespace=~"ns1|ns2|ns3",job=~"s1|s2|s3",status=~"5.."}[5m]) or rate(http_requests_total{namespace=~"ns1|ns2|ns3",job=~"s1|s2|s3"}[5m]) * 0) / sum by (namespace, job) (rate(http_requests_total{namespace=~"ns1|ns2|ns3",job=~"s1|s2|s3"}[5m]))',
  );
  expect(plan.batches[2]!.query).toBe('kube_deployment_status_replicas_available{namespace=~"ns1|ns2|ns3",deployment=~"d1|d2|d3"}');
  // The pod patterns, as their union; the namespace added to the grouping as before.
  expect(plan.batches[3]!.query).toMatch(/^max by \(pod, namespace\) \(container_memory_usage_bytes\{namespace=~"ns1\|ns2\|ns3",pod=~"\(\?:d1-.*\)\|\(\?:d2-.*\)\|\(\?:d3-.*\)"\}/);
  // Each member's own series are found by its values, as for the fleet's query.
  expect(plan.batches.map((b) => b.conditions)).toEqual(planQueries([1, 2, 3].flatMap((i) => service(i).map((r) => r.expr)), 'varying').batches.map((b) => b.conditions));
  // A value that regex syntax would read otherwise is escaped; labels the members share stay as written; one member is asked as written.
  const dotted = ['up{namespace="a.b",job="x"}', 'up{namespace="c",job="x"}'];
  expect(planQueries(dotted, 'members').batches[0]!.query).toBe('up{namespace=~"a\\\\.b|c",job="x"}');
  expect(planQueries(dotted.slice(0, 1), 'members')).toEqual({ batches: [], alone: [0] });
});

test("asked for an instant several evaluators share ('selectors'), one service's rules read as the fleet's, whatever its labels", () => {
  const queries = (ids: number[], widen: 'varying' | 'selectors') => planQueries(ids.flatMap((i) => service(i).map((r) => r.expr)), widen).batches.map((b) => b.query);
  const fleet = queries([1, 2, 3], 'selectors');
  expect(fleet).toEqual(queries([1, 2, 3], 'varying'));
  expect(queries([7], 'selectors')).toEqual(fleet);
  // Services that share a namespace (not varying among them) still widen it.
  const oneNamespace = (i: number) => defaultAlertRules({ service: `s${i}`, namespace: 'prod', deployment: `d${i}`, selector: `namespace="prod",job="s${i}"`, window: '5m' });
  expect(planQueries([1, 2].flatMap((i) => oneNamespace(i).map((r) => r.expr)), 'selectors').batches.map((b) => b.query)).toEqual(fleet);
  // A matcher that is not in every selector (status) stays as written; its member's own series are found by its values.
  const single = planQueries(service(7).map((r) => r.expr), 'selectors');
  expect(single.alone).toEqual([]);
  expect(single.batches[0]!.conditions).toEqual([
    [
      { label: 'namespace', op: '=', value: 'ns7' },
      { label: 'job', op: '=', value: 's7' },
    ],
  ]);
  // An expression with nothing to widen is asked as written.
  expect(planQueries(['sum(rate(a[5m]))'], 'selectors')).toEqual({ batches: [], alone: [0] });
});

test('a member whose value also selects series without the label keeps the union of values', () => {
  const plan = planQueries(['sum(a{ns="x"})', 'sum(a{ns=""})']);
  expect(plan.batches[0]!.query).toBe('sum by (ns) (a{ns=~"x|"})');
  const re = planQueries(['max by (pod) (m{pod=~"api-.*"})', 'max by (pod) (m{pod=~"(api)?"})']);
  expect(re.batches[0]!.query).toBe('max by (pod) (m{pod=~"(?:api-.*)|(?:(api)?)"})');
  expect(distribute(plan.batches[0]!, [{ labels: {}, value: 1 }, { labels: { ns: 'x' }, value: 2 }])).toEqual([[2], [1]]);
});

test('one service alone is asked as written', () => {
  const exprs = service(1).map((r) => r.expr);
  expect(planQueries(exprs)).toEqual({ batches: [], alone: [0, 1, 2, 3] });
});

test.each([
  ['vector() makes a series without the grouping labels', (ns: string) => `(sum(rate(x{ns="${ns}"}[5m])) or vector(0))`],
  ['on() matching', (ns: string) => `sum(a{ns="${ns}"}) / on() sum(b{ns="${ns}"})`],
  ['without()', (ns: string) => `sum without (pod) (a{ns="${ns}"})`],
  ['label_replace', (ns: string) => `label_replace(a{ns="${ns}"}, "ns", "x", "", "")`],
  ['a selector without the varying label', (ns: string) => `sum(a{ns="${ns}"}) / sum(b)`],
  ['one member with two values of the label', (ns: string) => `sum(a{ns="${ns}"}) / sum(b{ns="${ns}-other"})`],
  ['a varying pattern summed across its series', (ns: string) => `sum(rate(a{pod=~"${ns}-.*"}[5m]))`],
  ['a varying negative matcher', (ns: string) => `a{ns!="${ns}"}`],
  ['count_values', (ns: string) => `count_values("v", a{ns="${ns}"})`],
  ['invalid PromQL', (ns: string) => `sum(a{ns="${ns}"}`],
])('%s: each asked alone', (_why, expr) => {
  expect(planQueries([expr('a'), expr('b'), expr('c')])).toEqual({ batches: [], alone: [0, 1, 2] });
});

test('a prefix or postfix by, topk and nested aggregations get the labels; literal values are escaped', () => {
  const expr = (ns: string) => `topk(1, sum(rate(a{ns="${ns}"}[1m])) by (code)) > bool max(b{ns="${ns}"})`;
  const plan = planQueries([expr('a.b'), expr('c|d')]);
  expect(plan.batches[0]!.query).toBe('topk by (ns) (1, sum(rate(a{ns!=""}[1m])) by (code, ns)) > bool max by (ns) (b{ns!=""})');
  expect(checkPromql(plan.batches[0]!.query)).toBeUndefined();
  // In a union (a member also selects series without the label), literal values are escaped.
  const union = planQueries([expr('a.b'), expr('c|d'), expr('')]);
  expect(union.batches[0]!.query).toBe('topk by (ns) (1, sum(rate(a{ns=~"a\\\\.b|c\\\\|d|"}[1m])) by (code, ns)) > bool max by (ns) (b{ns=~"a\\\\.b|c\\\\|d|"})');
  expect(checkPromql(union.batches[0]!.query)).toBeUndefined();
});

test('evaluators sharing one answer share it out from one index of its series, each getting exactly its own', () => {
  // Two shards of one instant: the same widened query, the same answer object.
  const answer = [
    { labels: { ns: 'a', job: 'x', status: '500' }, value: 1 },
    { labels: { ns: 'b', job: 'x', status: '500' }, value: 2 },
    { labels: { ns: 'c', job: 'x', status: '502' }, value: 3 },
    { labels: { ns: 'a', job: 'x', status: '503' }, value: 4 },
  ];
  const shard1 = planQueries(['sum by (ns) (m{ns="a",job="x",status=~"5.."})', 'sum by (ns) (m{ns="c",job="x",status=~"5.."})'], 'selectors').batches[0]!;
  const shard2 = planQueries(['sum by (ns) (m{ns="b",job="x",status=~"5.."})', 'sum by (ns) (m{ns="d",job="x",status=~"5.."})'], 'selectors').batches[0]!;
  expect(shard1.query).toBe(shard2.query);
  expect(distribute(shard1, answer)).toEqual([[1, 4], [3]]);
  expect(distribute(shard2, answer)).toEqual([[2], []]);
  // Asked again with the answer unchanged: the same shares, in the answer's order.
  expect(distribute(shard1, answer)).toEqual([[1, 4], [3]]);
});

test('the same expression twice (two directions) is one query whose series belong to both', () => {
  const plan = planQueries(['up{job="a"}', 'up{job="a"}']);
  expect(plan.batches).toEqual([{ query: 'up{job="a"}', members: [0, 1], conditions: [[], []] }]);
  expect(distribute(plan.batches[0]!, [{ labels: { job: 'a' }, value: 1 }])).toEqual([[1], [1]]);
});

test('series are shared out by the members’ own matchers: equality by lookup, patterns anchored', () => {
  const eq = planQueries(['up{ns="a",job="x"}', 'up{ns="b",job="x"}', 'up{ns="",job="x"}']).batches[0]!;
  expect(
    distribute(eq, [
      { labels: { ns: 'a', job: 'x' }, value: 1 },
      { labels: { ns: 'b', job: 'x' }, value: 2 },
      { labels: { ns: 'a', job: 'x', pod: 'p2' }, value: 3 },
      { labels: { job: 'x' }, value: 4 },
      { labels: { ns: 'c', job: 'x' }, value: 5 },
    ]),
  ).toEqual([[1, 3], [2], [4]]);
  const re = planQueries(['max by (pod) (m{pod=~"api-.*"})', 'max by (pod) (m{pod=~"api-v2-.*"})']).batches[0]!;
  expect(
    distribute(re, [
      { labels: { pod: 'api-v2-1' }, value: 1 },
      { labels: { pod: 'api-1' }, value: 2 },
      { labels: { pod: 'xapi-1' }, value: 3 },
    ]),
  ).toEqual([[1, 2], [1]]);
});

describe('parsing by shape: an expression whose text outside its literals was parsed before is not parsed again', () => {
  afterEach(() => jest.restoreAllMocks());

  test("the seed's rules of 200 services are parsed once per rule, and read as the parser reads each", () => {
    const exprs = Array.from({ length: 200 }, (_, i) => service(10_000 + i).map((r) => r.expr)).flat();
    // A module of its own: no text parsed before.
    jest.isolateModules(() => {
      const fresh = jest.requireActual<typeof PromqlBatch>('../../src/activities/promql-batch');
      const lezer = jest.requireActual<typeof LezerPromql>('@prometheus-io/lezer-promql');
      const parse = jest.spyOn(lezer.parser, 'parse');
      const byShape = exprs.map(fresh.parseByShape);
      expect(parse).toHaveBeenCalledTimes(4);
      parse.mockRestore();
      expect(byShape).toEqual(exprs.map(parseExpression));
    });
  });

  // Each group: one text outside the literals, literals of other lengths and kinds; the first is parsed, the others come from it.
  const groups: string[][] = [
    ['up{ns="a",job="x"}', 'up{ns="a-much-longer-namespace",job=""}', 'up{ns="ünïcødé ✓",job="\\"}', 'up{ns="say \\"hi\\"",job="tab\\there"}', 'up{ns="#not a comment",job="}"}', 'up{ns="a raw\ttab",job="x"}'],
    ['max by (pod) (m{pod=~"api-.*",ns="p"} / n{pod=~"api-.*",ns="p"}) > 0.9', 'max by (pod) (m{pod=~"(a|b)+",ns="production-eu-west-1"} / n{pod=~"x",ns=""}) > 0.9'],
    ['sum(a{ns=`raw`}) # a "comment"\n+ sum(b{ns="q"})', 'sum(a{ns=`raw "with" quotes\\`}) # a "comment"\n+ sum(b{ns="longer value"})'],
    // A value JSON cannot read: the parser leaves the matcher out and the expression alone.
    ['up{ns="plain"}', 'up{ns="\\x41"}', "up{ns='single'}"],
    ['label_replace(up{ns="a"}, "dst", "$1", "src", "(.*)")', 'label_replace(up{ns="bb"}, "other", "$2", "s", ".*")'],
    // A literal that does not end.
    ['up{ns="a"} or vector("x', 'up{ns="abc"} or vector("xyz'],
    ['sum without (pod) (up{ns="a"}) + on (ns) up{ns="b"}', 'sum without (pod) (up{ns="ccc"}) + on (ns) up{ns="d"}'],
  ];
  test.each(groups.map((g) => [g[0]!, g]))('%s and its variants', (_, exprs) => {
    for (const [i, expr] of exprs.entries()) expect([i, parseByShape(expr)]).toEqual([i, parseExpression(expr)]);
    // The same again, each read from the first's template (or parsed where it has none).
    for (const [i, expr] of exprs.entries()) expect([i, parseByShape(expr)]).toEqual([i, parseExpression(expr)]);
  });

  test.each(groups.map((g) => [g[0]!, g]))("%s and its variants: a plan's facts of each (shape, values, matchers' layout) are the parser's", (_, exprs) => {
    // What a plan reads of facts, positions left out (a template's are its own expression's).
    const read = ({ shape, values, layout: l }: Facts) => ({ shape, values, alone: l.alone, layout: l.matchers.map(({ label, op, selector }) => ({ label, op, selector })), selectors: l.selectors, by: l.aggregations.map((a) => a.by?.labels) });
    const parsed = (expr: string): Facts => {
      const p = parseExpression(expr);
      return { shape: p.shape, values: p.matchers.map((m) => m.value), layout: p };
    };
    // Twice: the second time every key has its template.
    for (let round = 0; round < 2; round++) for (const [i, expr] of exprs.entries()) expect([i, read(factsOf(expr))]).toEqual([i, read(parsed(expr))]);
  });

  test('a template made from an expression the parser read only in part is not used', () => {
    // The first of this text to be seen holds a value the parser leaves out; a later one with a readable value is read as the parser reads it.
    const first = 'rate(z{ns="\\q"}[5m])';
    const later = 'rate(z{ns="fine"}[5m])';
    expect(parseByShape(first)).toEqual(parseExpression(first));
    expect(parseByShape(first).alone).toBe('a label matcher not handled');
    expect(parseByShape(later)).toEqual(parseExpression(later));
    expect(parseByShape(later).alone).toBeUndefined();
  });
});

describe("plans kept (PlanCache): each asker's last plan, used again while it asks the same rules", () => {
  const exprsOf = (services: number[]) => services.flatMap((i) => service(i).map((r) => r.expr));
  /** The same text in new strings, as each activity's input is decoded anew. */
  const copied = (exprs: string[]) => exprs.map((e) => ` ${e}`.slice(1));

  test('the same expressions in new strings get the plan made before; another widening or changed expressions are planned anew, each as planQueries plans them', () => {
    const cache = new PlanCache(8);
    const exprs = exprsOf([0, 1, 2]);
    const plan = cache.planFor('shard-1', exprs, 'selectors');
    expect(plan).toEqual(planQueries(exprs, 'selectors'));
    expect(cache.planFor('shard-1', copied(exprs), 'selectors')).toBe(plan);
    const varying = cache.planFor('shard-1', exprs, 'varying');
    expect(varying).not.toBe(plan);
    expect(varying).toEqual(planQueries(exprs, 'varying'));
    // One expression changed (a window's rule edited), or one window fewer: planned anew.
    const edited = [...exprs.slice(0, -1), exprs[exprs.length - 1]!.replace('"ns2"', '"ns9"')];
    const planEdited = cache.planFor('shard-1', edited, 'selectors');
    expect(planEdited).toEqual(planQueries(edited, 'selectors'));
    expect(planEdited).not.toEqual(plan);
    expect(cache.planFor('shard-1', exprs.slice(4), 'selectors')).toEqual(planQueries(exprs.slice(4), 'selectors'));
    // One plan per asker: the old ones are not kept.
    expect(cache.size).toBe(1);
    expect(cache.planFor('shard-1', copied(exprs), 'selectors')).not.toBe(plan);
  });

  test('askers keep their own plans; past the bound the least recently asking is dropped; an ask without a key is not kept', () => {
    const cache = new PlanCache(2);
    const [a, b, c] = [exprsOf([0]), exprsOf([1]), exprsOf([2])];
    const planA = cache.planFor('a', a, 'selectors');
    const planB = cache.planFor('b', b, 'selectors');
    expect(cache.planFor('a', copied(a), 'selectors')).toBe(planA);
    cache.planFor('c', c, 'selectors');
    expect(cache.size).toBe(2);
    expect(cache.planFor('a', copied(a), 'selectors')).toBe(planA);
    expect(cache.planFor('b', copied(b), 'selectors')).not.toBe(planB);
    const before = cache.size;
    expect(cache.planFor(undefined, a, 'selectors')).toEqual(planA);
    expect(cache.size).toBe(before);
  });

  test('a plan made in slices is planQueries\'s plan, with a pause after each slice of expressions parsed and each shape batched; kept, it is used again without a pause', async () => {
    // Enough services that the parsing takes several slices; one alone (vector()) among them.
    const exprs = [...exprsOf(Array.from({ length: Math.ceil((PARSED_PER_SLICE * 2 + 1) / 4) }, (_, i) => i)), 'vector(1)'];
    for (const widen of ['members', 'varying', 'selectors'] as const) {
      let pauses = 0;
      const plan = await planQueriesInSlices(exprs, widen, async () => void pauses++);
      expect(plan).toEqual(planQueries(exprs, widen));
      expect(pauses).toBe(Math.ceil(exprs.length / PARSED_PER_SLICE) + 4);
    }
    const cache = new PlanCache(8);
    let pauses = 0;
    const pause = async () => void pauses++;
    const plan = await cache.planInSlices('phase', exprs, 'members', pause);
    expect(plan).toEqual(planQueries(exprs, 'members'));
    const made = pauses;
    expect(await cache.planInSlices('phase', copied(exprs), 'members', pause)).toBe(plan);
    expect(cache.planFor('phase', copied(exprs), 'members')).toBe(plan);
    expect(pauses).toBe(made);
    // One window fewer: planned anew, in slices again.
    expect(await cache.planInSlices('phase', exprs.slice(4), 'members', pause)).toEqual(planQueries(exprs.slice(4), 'members'));
    expect(pauses).toBeGreaterThan(made);
  });

  test('a kept plan shares out a new answer as a fresh plan does', () => {
    const cache = new PlanCache();
    const exprs = exprsOf([0, 1]);
    const kept = cache.planFor('e', exprs, 'selectors');
    cache.planFor('e', copied(exprs), 'selectors');
    const fresh = planQueries(exprs, 'selectors');
    const answer = (v: number) => [0, 1].flatMap((i) => [{ labels: { namespace: `ns${i}`, job: `s${i}`, status: '500', pod: `d${i}-1` }, value: v + i }]);
    for (const v of [1, 7]) kept.batches.forEach((batch, i) => expect(distribute(batch, answer(v))).toEqual(distribute(fresh.batches[i]!, answer(v))));
  });
});
