/**
 * The watch evaluators' evaluation activity (src/activities/index.ts, createEvaluationActivities):
 * rules sent with a key are kept per asking workflow and evaluated again from the key alone; a key
 * the worker does not keep (never sent here, replaced, forgotten past the bound, or a worker that
 * keeps none) is answered RulesWanted, never evaluated with other rules; a call with neither rules
 * nor key is refused.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEvaluationActivities } from '../../src/activities';
import type { MetricsPort, RuleEvaluation } from '../../src/activities/types';
import type { AlertQuery } from '../../src/spec/types';

const rule = (name: string, threshold = 1): AlertQuery => ({ name, expr: `rate(errors{service="${name}"}[5m])`, op: '>', threshold });

/** A metrics port that answers each rule with its threshold, and records what it was asked. */
function recordingMetrics() {
  const asked: { rules: string[]; planKey?: string; atMs?: number }[] = [];
  const metrics = {
    evaluateRules: async (input: { prometheusUrl: string; rules: AlertQuery[]; atMs?: number; planKey?: string }): Promise<RuleEvaluation[]> => {
      asked.push({ rules: input.rules.map((r) => r.name), ...(input.planKey ? { planKey: input.planKey } : {}), ...(input.atMs !== undefined ? { atMs: input.atMs } : {}) });
      return input.rules.map((r) => ({ rule: r.name, value: r.threshold, breaching: false, outcome: 'ok' }));
    },
  } as unknown as MetricsPort;
  return { metrics, asked };
}

const asker = (workflowId: string) => new MockActivityEnvironment({ activityType: 'evaluateWatchRules', workflowExecution: { workflowId, runId: 'r1' } });
const URL = 'http://prometheus:9090';

test('rules sent with a key are evaluated, kept, and evaluated again from the key alone, under the asker', async () => {
  const { metrics, asked } = recordingMetrics();
  const { evaluateWatchRules } = createEvaluationActivities(metrics);
  const first = await asker('evaluator-a').run(evaluateWatchRules, { prometheusUrl: URL, rules: [rule('a'), rule('b')], rulesKey: 'run1/1', atMs: 30_000 });
  const again = await asker('evaluator-a').run(evaluateWatchRules, { prometheusUrl: URL, rulesKey: 'run1/1', atMs: 60_000 });
  expect(first).toEqual(again);
  expect(asked).toEqual([
    { rules: ['a', 'b'], planKey: 'evaluator-a', atMs: 30_000 },
    { rules: ['a', 'b'], planKey: 'evaluator-a', atMs: 60_000 },
  ]);
});

test('a key this worker does not keep is answered RulesWanted and nothing is evaluated: never sent, another asker’s, replaced by a newer key', async () => {
  const { metrics, asked } = recordingMetrics();
  const { evaluateWatchRules } = createEvaluationActivities(metrics);
  expect(await asker('evaluator-a').run(evaluateWatchRules, { prometheusUrl: URL, rulesKey: 'run1/1' })).toEqual({ rulesWanted: expect.stringContaining('no rules under the key run1/1 for evaluator-a') });
  await asker('evaluator-a').run(evaluateWatchRules, { prometheusUrl: URL, rules: [rule('a')], rulesKey: 'run1/1' });
  expect(await asker('evaluator-b').run(evaluateWatchRules, { prometheusUrl: URL, rulesKey: 'run1/1' })).toEqual({ rulesWanted: expect.any(String) });
  await asker('evaluator-a').run(evaluateWatchRules, { prometheusUrl: URL, rules: [rule('a'), rule('c')], rulesKey: 'run1/2' });
  expect(await asker('evaluator-a').run(evaluateWatchRules, { prometheusUrl: URL, rulesKey: 'run1/1' })).toEqual({ rulesWanted: expect.stringContaining('(it keeps run1/2)') });
  expect(asked.map((a) => a.rules)).toEqual([['a'], ['a', 'c']]);
});

test('the least recent askers beyond the bound are forgotten; a worker keeping none wants the rules every time', async () => {
  const { metrics } = recordingMetrics();
  const { evaluateWatchRules } = createEvaluationActivities(metrics, { rulesKept: 2 });
  for (const id of ['e1', 'e2', 'e3']) await asker(id).run(evaluateWatchRules, { prometheusUrl: URL, rules: [rule(id)], rulesKey: `${id}/1` });
  expect(await asker('e1').run(evaluateWatchRules, { prometheusUrl: URL, rulesKey: 'e1/1' })).toHaveProperty('rulesWanted');
  expect(Array.isArray(await asker('e3').run(evaluateWatchRules, { prometheusUrl: URL, rulesKey: 'e3/1' }))).toBe(true);
  expect(Array.isArray(await asker('e2').run(evaluateWatchRules, { prometheusUrl: URL, rulesKey: 'e2/1' }))).toBe(true);

  const none = createEvaluationActivities(recordingMetrics().metrics, { rulesKept: 0 });
  expect(Array.isArray(await asker('e1').run(none.evaluateWatchRules, { prometheusUrl: URL, rules: [rule('a')], rulesKey: 'e1/1' }))).toBe(true);
  expect(await asker('e1').run(none.evaluateWatchRules, { prometheusUrl: URL, rulesKey: 'e1/1' })).toHaveProperty('rulesWanted');
});

test('neither rules nor a key: refused, not retried, the field named', async () => {
  const { metrics, asked } = recordingMetrics();
  const { evaluateWatchRules } = createEvaluationActivities(metrics);
  await expect(asker('evaluator-a').run(evaluateWatchRules, { prometheusUrl: URL })).rejects.toMatchObject({ type: 'BadEvaluationInput', nonRetryable: true, message: expect.stringContaining('rulesKey') });
  expect(asked).toEqual([]);
});

test('evaluateAlertRules (a window checking on its own, evaluators before the key) evaluates what it is sent, under its asker', async () => {
  const { metrics, asked } = recordingMetrics();
  const { evaluateAlertRules } = createEvaluationActivities(metrics);
  const answers = await asker('deploy-x').run(evaluateAlertRules, { prometheusUrl: URL, rules: [rule('a')] });
  expect(answers).toEqual([{ rule: 'a', value: 1, breaching: false, outcome: 'ok' }]);
  expect(asked).toEqual([{ rules: ['a'], planKey: 'deploy-x' }]);
});

describe('evaluateWatchRulesAtSlot (patch evaluator-evaluation-waits): scheduled an interval ahead, it waits in the worker for its slot', () => {
  test('it evaluates at its slot, not before, at that instant', async () => {
    const { metrics, asked } = recordingMetrics();
    const { evaluateWatchRulesAtSlot } = createEvaluationActivities(metrics);
    const atMs = Date.now() + 300;
    await asker('evaluator-a').run(evaluateWatchRulesAtSlot, { prometheusUrl: URL, rules: [rule('a')], rulesKey: 'run1/1', atMs });
    expect(Date.now()).toBeGreaterThanOrEqual(atMs);
    expect(asked).toEqual([{ rules: ['a'], planKey: 'evaluator-a', atMs }]);
  });

  test('a key it does not keep is answered RulesWanted at once, not after the wait (the evaluator sends the rules and still meets the slot)', async () => {
    const { metrics, asked } = recordingMetrics();
    const { evaluateWatchRulesAtSlot } = createEvaluationActivities(metrics);
    // An hour away: were it to wait first, the test would time out.
    const answer = await asker('evaluator-a').run(evaluateWatchRulesAtSlot, { prometheusUrl: URL, rulesKey: 'run1/1', atMs: Date.now() + 3_600_000 });
    expect(answer).toEqual({ rulesWanted: expect.stringContaining('run1/1') });
    expect(asked).toEqual([]);
  });

  test('cancelled while it waits (a worker shutting down): it stops waiting, fails as cancelled, asks nothing', async () => {
    const { metrics, asked } = recordingMetrics();
    const { evaluateWatchRulesAtSlot } = createEvaluationActivities(metrics);
    const env = asker('evaluator-a');
    const run = env.run(evaluateWatchRulesAtSlot, { prometheusUrl: URL, rules: [rule('a')], rulesKey: 'run1/1', atMs: Date.now() + 3_600_000 });
    setTimeout(() => env.cancel('WORKER_SHUTDOWN'), 50);
    await expect(run).rejects.toMatchObject({ name: 'CancelledFailure' });
    expect(asked).toEqual([]);
  });

  test("a worker set not to wait (waitForSlot false, the time-skipping tests) answers at once, for the slot's instant", async () => {
    const { metrics, asked } = recordingMetrics();
    const { evaluateWatchRulesAtSlot } = createEvaluationActivities(metrics, { waitForSlot: false });
    const atMs = Date.now() + 3_600_000;
    await asker('evaluator-a').run(evaluateWatchRulesAtSlot, { prometheusUrl: URL, rules: [rule('a')], rulesKey: 'run1/1', atMs });
    expect(asked).toEqual([{ rules: ['a'], planKey: 'evaluator-a', atMs }]);
  });
});
