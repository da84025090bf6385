/** The offline PromQL check (Prometheus' Lezer grammar) and the unknown-key suggestions. */
import { defaultAlertRules, defaultMetricChecks } from '../../src/spec/defaults';
import { nearestKey } from '../../src/spec/issues';
import { checkPromql, formatPromqlError } from '../../src/spec/promql';

const target = { service: 'api', namespace: 'staging', deployment: 'api', selector: 'job="api"', window: '5m' };

test('the default rules and checks parse', () => {
  for (const expr of [...defaultAlertRules(target).map((r) => r.expr), ...defaultMetricChecks(target).map((c) => c.query)]) {
    expect(checkPromql(expr)).toBeUndefined();
  }
});

test.each([
  ['sum(rate(x[5m])', { line: 1, column: 16, message: 'unexpected end of the expression (an operand, a closing bracket or quote is missing)' }],
  ['rate(x[5m]) >', { line: 1, column: 14, message: 'unexpected end of the expression (an operand, a closing bracket or quote is missing)' }],
  ['x +* y', { line: 1, column: 4, message: 'unexpected "* y"' }],
  ['nosuchfn(x)', { line: 1, column: 9, message: 'unknown function "nosuchfn"' }],
  ['x{job="a"', { line: 1, column: 10, message: 'unexpected end of the expression (an operand, a closing bracket or quote is missing)' }],
  ['', { line: 1, column: 1, message: 'empty expression' }],
])('%j is refused at its column', (expr, error) => {
  expect(checkPromql(expr)).toEqual(error);
});

test('a multi-line expression is located by line and column', () => {
  const expr = 'sum(rate(a[5m]))\n  / sum(rate(b{job="x"}[5m])) +';
  const error = checkPromql(expr)!;
  expect(error).toMatchObject({ line: 2, column: 32 });
  expect(formatPromqlError(expr, error)).toBe('invalid PromQL at line 2, column 32: unexpected end of the expression (an operand, a closing bracket or quote is missing)');
});

test('nearestKey suggests close spellings and prefixes, nothing for far ones', () => {
  const keys = ['deployment', 'container', 'manifest', 'stepPods', 'stepWindow'];
  expect(nearestKey('stepPod', keys)).toBe('stepPods');
  expect(nearestKey('Container', keys)).toBe('container');
  expect(nearestKey('deploy', keys)).toBe('deployment');
  expect(nearestKey('replica', keys)).toBeUndefined();
});

test('a default rule whose description names a label keeps that label through its aggregation', () => {
  for (const rule of defaultAlertRules(target)) {
    for (const [, label] of rule.description.matchAll(/\$labels\.([A-Za-z_]\w*)/g)) {
      // An aggregation without `by (… label …)` drops the label, and the description would print nothing.
      const aggregates = /^\s*\(?\s*(sum|max|min|avg|count)\b/.test(rule.expr);
      if (aggregates) expect(rule.expr).toMatch(new RegExp(`^\\s*\\(?\\s*\\w+ by \\([^)]*\\b${label}\\b[^)]*\\)`));
    }
  }
  expect(defaultAlertRules(target).find((r) => r.name === 'HighMemoryUsage')!.expr).toMatch(/^max by \(pod\) \(/);
});
