/** The pre-deploy check's verdict on one evaluation of every alert rule (src/workflows/deployment/precheck.ts). */
import { ruleQueryVerdict } from '../../src/workflows/deployment/precheck';
import { defaultAlertRules } from '../../src/spec/defaults';
import type { RuleEvaluation } from '../../src/activities/types';

const rules = defaultAlertRules({ service: 's', namespace: 'n', deployment: 's', selector: 'job="s"', window: '5m' });
const ok = (rule: string): RuleEvaluation => ({ rule, value: 0, breaching: false, outcome: 'ok' });

test('every rule answered: the check passes', () => {
  expect(ruleQueryVerdict(rules, rules.map((r) => ok(r.name)), 'fail')).toEqual({});
});

test('a query error or an unreachable Prometheus fails, whatever missingBaseline says, naming the rule and its query', () => {
  const evals = rules.map((r, i) => (i === 0 ? { rule: r.name, value: null, breaching: false, outcome: 'error' as const, error: 'bad_data: parse error' } : ok(r.name)));
  const verdict = ruleQueryVerdict(rules, evals, 'skip');
  expect(verdict.fail).toContain(`alert rule query failed: ${rules[0]!.name} (${rules[0]!.expr}): error: bad_data: parse error`);
});

test('no data: fail names the query and both fixes; skip says the rule is unwatched until it has data', () => {
  const evals = rules.slice(1).map((r) => ok(r.name)); // the first rule returned nothing
  expect(ruleQueryVerdict(rules, evals, 'fail').fail).toBe(
    `no data for alert rule ${rules[0]!.name} (query: ${rules[0]!.expr}); fix the query (its selector must match the service's series), or set metrics.missingBaseline: skip to deploy with the rule unwatched until it has data`,
  );
  expect(ruleQueryVerdict(rules, evals, 'skip')).toEqual({ skipped: `no data yet for alert rule ${rules[0]!.name} (metrics.missingBaseline: skip): the watch is blind to it until it has data` });
});
