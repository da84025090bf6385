/**
 * Batched rule evaluation against a real Prometheus: the seed's four rules for a fleet of services,
 * asked in one query per rule shape, give every service exactly what its own queries give, and
 * Prometheus counts the queries it was sent.
 */
import { startPrometheus, type LocalPrometheus } from '../helpers/prometheus';
import { queriesAnswered } from '../../tools/local/prometheus';
import { numberedFleet, startFleetExporter, type FleetExporter } from '../../tools/local/fleet-exporter';
import { createPrometheusMetrics, queryPrometheus } from '../../src/activities/metrics';
import { defaultAlertRules } from '../../src/spec/defaults';
import type { ResolvedAlertRule } from '../../src/spec/types';
import type { RuleEvaluation } from '../../src/activities/types';

jest.setTimeout(120_000);

const SERVICES = 12;
let exporter: FleetExporter;
let prom: LocalPrometheus;

beforeAll(async () => {
  exporter = await startFleetExporter(numberedFleet(SERVICES));
  prom = await startPrometheus({ scrapeInterval: '1s', rawJobs: [{ job_name: 'fleet', honor_labels: true, static_configs: [{ targets: [exporter.address] }] }] });
  // Two scrapes inside every 10 s window before anything is asked.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await queryPrometheus(prom.url, 'count_over_time(kube_deployment_status_replicas_available{namespace="fleet-0"}[10s])');
    if (r.outcome === 'ok' && r.values[0]! >= 8) break;
    if (Date.now() > deadline) throw new Error(`the fleet was not scraped in 60 s: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 500));
  }
});
afterAll(async () => {
  await prom?.stop();
  await exporter?.stop();
});

const rulesOf = (i: number): ResolvedAlertRule[] => defaultAlertRules(exporter.target(i, '10s'));

/** Each rule asked alone (one rule per call: the adapter sends it as written), as a window of its own would. */
async function alone(rules: ResolvedAlertRule[], at: Date): Promise<RuleEvaluation[]> {
  const metrics = createPrometheusMetrics({ evaluationTime: () => at });
  return (await Promise.all(rules.map((r) => metrics.evaluateRules({ prometheusUrl: prom.url, rules: [r] })))).flat();
}

const queriesSent = (): Promise<number> => queriesAnswered(prom.url);

test('every service gets what its own queries give, from one query per rule shape', async () => {
  const rules = Array.from({ length: SERVICES }, (_, i) => rulesOf(i)).flat();
  // A second of the past, so both ways read the same samples.
  const at = new Date(Date.now() - 1000);
  const before = await queriesSent();
  const batched = await createPrometheusMetrics({ evaluationTime: () => at }).evaluateRules({ prometheusUrl: prom.url, rules });
  expect((await queriesSent()) - before).toBe(4);

  const expected = await alone(rules, at);
  expect(batched).toHaveLength(rules.length);
  batched.forEach((b, i) => {
    const e = expected[i]!;
    expect({ rule: b.rule, outcome: b.outcome, breaching: b.breaching }).toEqual({ rule: e.rule, outcome: e.outcome, breaching: e.breaching });
    if (e.value === null) expect(b.value).toBeNull();
    else expect(b.value).toBeCloseTo(e.value, 9);
  });

  // The fleet is not uniform, so the comparison is not of twelve copies of one answer.
  const values = (name: string): (number | null)[] => batched.filter((b) => b.rule === name).map((b) => b.value);
  expect(new Set(values('HighErrorRate')).size).toBeGreaterThan(3);
  expect(values('HighErrorRate')).toContain(0); // services with no 5xx series: 0, not no-data
  expect(new Set(values('PodDown')).size).toBe(4);
  expect(new Set(values('HighMemoryUsage')).size).toBeGreaterThan(3);
  expect(values('HighMemoryUsage').every((v) => v !== null && v < 0.99)).toBe(true); // the other pod in each namespace stays out
  expect(batched.some((b) => b.breaching)).toBe(true);
  expect(batched.some((b) => b.outcome === 'ok' && !b.breaching)).toBe(true);
});

test('a service with nothing scraped is no data in the batch, as alone; one service alone sends its four queries', async () => {
  const ghost = defaultAlertRules({ service: 'ghost', namespace: 'nowhere', deployment: 'ghost', selector: 'namespace="nowhere",job="ghost"', window: '10s' });
  const rules = [...rulesOf(1), ...ghost, ...rulesOf(2)];
  const at = new Date(Date.now() - 1000);
  const batched = await createPrometheusMetrics({ evaluationTime: () => at }).evaluateRules({ prometheusUrl: prom.url, rules });
  const expected = await alone(rules, at);
  expect(batched.map((b) => b.outcome)).toEqual(expected.map((e) => e.outcome));
  expect(batched.slice(4, 8).map((b) => b.outcome)).toEqual(['no-data', 'no-data', 'no-data', 'no-data']);

  const before = await queriesSent();
  await createPrometheusMetrics().evaluateRules({ prometheusUrl: prom.url, rules: rulesOf(3) });
  expect((await queriesSent()) - before).toBe(4);
});

test('gathered: evaluations of shares of the fleet at one instant send each shape once, selecting the services asked for; an ask after the gathering sends its own', async () => {
  const metrics = createPrometheusMetrics({ gatherMs: 200 });
  const atMs = Date.now() - 1000;
  const shares = [[0], [3, 4, 5], [7, 11]].map((services) => services.flatMap(rulesOf));
  const before = await queriesSent();
  const answers = await Promise.all(shares.map((rules, i) => metrics.evaluateRules({ prometheusUrl: prom.url, rules, atMs, planKey: `shard-${i}` })));
  expect((await queriesSent()) - before).toBe(4);
  const expected = await alone(shares.flat(), new Date(atMs));
  expect(answers.map((a) => a.length)).toEqual(shares.map((r) => r.length));
  answers.flat().forEach((b, i) => {
    const e = expected[i]!;
    expect({ rule: b.rule, outcome: b.outcome, breaching: b.breaching }).toEqual({ rule: e.rule, outcome: e.outcome, breaching: e.breaching });
    if (e.value === null) expect(b.value).toBeNull();
    else expect(b.value).toBeCloseTo(e.value, 9);
  });
  // After the gathering closed: the same instant asked anew, by itself.
  const from = await queriesSent();
  expect(await metrics.evaluateRules({ prometheusUrl: prom.url, rules: structuredClone(shares[1]!), atMs, planKey: 'shard-1' })).toEqual(answers[1]);
  expect((await queriesSent()) - from).toBe(4);
});

test('not gathered (gatherMs 0): evaluations of two shares of the fleet at one instant send each shape once (the watch evaluators’ shards), the fleet widened and the answer shared', async () => {
  const metrics = createPrometheusMetrics({ gatherMs: 0 });
  const atMs = Date.now() - 1000;
  // One share holds a single service: it asks the same queries as the other.
  const shareA = [0].flatMap(rulesOf);
  const shareB = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].flatMap(rulesOf);
  const before = await queriesSent();
  const [a, b] = await Promise.all([metrics.evaluateRules({ prometheusUrl: prom.url, rules: shareA, atMs, planKey: 'shard-a' }), metrics.evaluateRules({ prometheusUrl: prom.url, rules: shareB, atMs, planKey: 'shard-b' })]);
  // Asked again later for the same instant (by the same asker: its plan kept): answered from the same answers.
  const again = await metrics.evaluateRules({ prometheusUrl: prom.url, rules: structuredClone(shareB), atMs, planKey: 'shard-b' });
  expect((await queriesSent()) - before).toBe(4);
  const at = new Date(atMs);
  const expected = await alone([...shareA, ...shareB], at);
  expect([...a, ...b].map((e) => [e.rule, e.outcome, e.breaching])).toEqual(expected.map((e) => [e.rule, e.outcome, e.breaching]));
  expect(again).toEqual(b);
  // Another instant is asked anew.
  await metrics.evaluateRules({ prometheusUrl: prom.url, rules: shareA, atMs: atMs + 500 });
  expect((await queriesSent()) - before).toBe(4 + 4 + 4 * 12);
});

test('not gathered: an answer is shared for shareAnswersMs only: an evaluator later than that asks its instant anew', async () => {
  // The adapter's own clock, moved by hand: no wait, and the first two asks are in the window however slow the machine.
  let clock = Date.now();
  const metrics = createPrometheusMetrics({ shareAnswersMs: 15_000, now: () => new Date(clock), gatherMs: 0 });
  const atMs = Date.now() - 2000;
  const before = await queriesSent();
  const first = await metrics.evaluateRules({ prometheusUrl: prom.url, rules: rulesOf(0), atMs });
  clock += 15_000;
  await metrics.evaluateRules({ prometheusUrl: prom.url, rules: rulesOf(1), atMs });
  expect((await queriesSent()) - before).toBe(4);
  clock += 1;
  const late = await metrics.evaluateRules({ prometheusUrl: prom.url, rules: rulesOf(0), atMs });
  expect((await queriesSent()) - before).toBe(8);
  expect(late).toEqual(first);
});

test('a batched query Prometheus refuses is asked rule by rule, so the error stays with the rule that has it', async () => {
  // Same shape, so one batch; one member's regex is invalid for Prometheus (RE2 has no lookahead),
  // so the patterns stay in the batched query (their union), which Prometheus refuses.
  const rule = (ns: string): ResolvedAlertRule => ({ ...rulesOf(0)[2]!, name: `PodDown-${ns}`, expr: `kube_deployment_status_replicas_available{namespace=~"${ns}",deployment=~"svc-.*"}` });
  const rules = [rule('fleet-1'), rule('fleet-(?!2)')];
  const evals = await createPrometheusMetrics().evaluateRules({ prometheusUrl: prom.url, rules });
  expect(evals[0]).toMatchObject({ outcome: 'ok', value: 1 });
  expect(evals[1]).toMatchObject({ outcome: 'error' });
  expect(evals[1]!.error).toMatch(/query failed/);
});
