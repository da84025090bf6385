/**
 * Strict, checked specs (issue 11): every malformed case under test/fixtures/specs/invalid/ is
 * refused with the exact path and message, by the loader and by `shipwatch validate` (exit 2);
 * the valid fixtures and the example still load.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { CommandContext } from '../../src/cli/context';
import { ExitCode, ExitError } from '../../src/cli/errors';
import { createOutput } from '../../src/cli/output';
import { validateCommand } from '../../src/commands/validate';
import { loadSpecFile, SpecError } from '../../src/spec';
import type { SpecIssue } from '../../src/spec';

const FIXTURES = join(__dirname, '..', 'fixtures', 'specs');
const EXAMPLE = join(__dirname, '..', '..', 'examples', 'user-management', 'shipwatch.yaml');
const KUBERNETES_KEYS = 'deployment, container, manifest, stepPods, stepWindow, progressDeadline, maxRestarts, logErrorPatterns';

/** Fixture name → the one issue it must produce. */
const expected: Record<string, SpecIssue> = {
  'unknown-key-far': { path: 'kubernetes.replica', message: `unknown key; the keys here are ${KUBERNETES_KEYS}` },
  'unknown-key-typo': { path: 'kubernetes.stepPod', message: 'unknown key; did you mean stepPods?' },
  'unknown-key-escalation': { path: 'watch.escalation.rollBackAfter', message: 'unknown key; did you mean rollbackAfter?' },
  'unknown-key-rule': { path: 'watch.rules.0.expression', message: 'unknown key; did you mean expr?' },
  'unknown-key-smoke-expect': { path: 'smoke.suite.steps.0.expect.stauts', message: 'unknown key; did you mean status?' },
  'promql-rule-unclosed': {
    path: 'watch.rules.0.expr',
    message: 'invalid PromQL at column 34: unexpected end of the expression (an operand, a closing bracket or quote is missing)',
  },
  'promql-extra-rule-unknown-function': { path: 'watch.extraRules.0.expr', message: 'invalid PromQL at column 11: unknown function "percentile"' },
  'promql-check-bad-matcher': { path: 'metrics.checks.0.query', message: 'invalid PromQL at column 39: unexpected "[5m]))"' },
  'promql-selector-unquoted': {
    path: 'metrics.selector',
    message:
      'the default rule HighErrorRate built from metrics.selector and metrics.window is invalid PromQL at column 34: unexpected "api,status=~"5.."}[5" in sum(rate(http_requests_total{job=api,status=~"5.."}[5m]) or rate(http_requests_total{job=api}[5m]) * 0) / sum(rate(http_requests_total{job=api}[5m]))',
  },
  'prometheus-url-no-scheme': { path: 'metrics.prometheusUrl', message: 'expected the URL to start with http:// or https://, e.g. http://127.0.0.1:9090' },
  'duplicate-rule-names': { path: 'watch.rules.2.name', message: 'duplicate name "HighErrorRate" (also watch.rules.0.name); give each one its own name' },
  'duplicate-extra-rule-default': {
    path: 'watch.extraRules.0.name',
    message: 'duplicate name "PodDown" (also a default rule; set watch.rules to replace the defaults); give each one its own name',
  },
  'duplicate-check-names': { path: 'metrics.checks.1.name', message: 'duplicate name "errors" (also metrics.checks.0.name); give each one its own name' },
  'watch-duration-zero': { path: 'watch.duration', message: 'expected a watch window above zero, e.g. "24h" (got "0s")' },
  'interval-longer-than-window': {
    path: 'watch.interval',
    message: 'the check interval (10m) is longer than the watch window (watch.duration 5m): no check would run; make it shorter',
  },
  'page-after-rollback': {
    path: 'watch.escalation.pageAfter',
    message: 'pageAfter (30m) is later than rollbackAfter (15m): on-call would be paged after the rollback; make pageAfter at most rollbackAfter',
  },
  'blind-after-zero': { path: 'watch.blindAfter', message: 'expected a duration above zero, e.g. "5m" (leave it out to use escalation.pageAfter)' },
  'on-blind-unknown': { path: 'watch.onBlind', message: 'Invalid option: expected one of "page"|"rollback"|"fail"' },
  'missing-baseline-unknown': { path: 'metrics.missingBaseline', message: 'Invalid option: expected one of "fail"|"skip"' },
  'change-required-without-reference': {
    path: 'change.reference',
    message: 'change.required is true, so the approved plan must be named: set change.reference (e.g. REL-2025-11-15)',
  },
  'manifest-other-deployment': {
    path: 'kubernetes.manifest',
    message: 'the manifest\'s Deployment is named "web", not "api" (kubernetes.deployment); make the two names the same',
  },
  'manifest-missing-container': {
    path: 'kubernetes.manifest',
    message: 'Deployment "api" in the manifest has no container "app" (kubernetes.container); its containers: "proxy"',
  },
  'entry-point-host-url': { path: 'entryPoint.host', message: 'expected a host name such as users.example.com (lower case, no scheme, no port)' },
  'entry-point-kind-unknown': { path: 'entryPoint.kind', message: 'Invalid option: expected one of "Ingress"|"HTTPRoute"' },
  'uptime-without-metrics': { path: 'uptime', message: "the probe's results are read from Prometheus: add metrics.prometheusUrl, or remove uptime" },
  'on-call-no-target': {
    path: 'onCall',
    message: "name the rotation's schedule (onCall.schedule: file:PATH or env:NAME) or its paging webhook (onCall.webhook), or both",
  },
  'on-call-two-pagers': {
    path: 'onCall.webhook',
    message: 'pages would go to two places: onCall.webhook and notifications.pager; keep one (onCall.webhook becomes the pager)',
  },
  'on-call-literal-webhook': {
    path: 'onCall.webhook',
    message:
      'expected a secret reference "env:NAME" or "file:/path/to/secret", not a literal value (literal secrets would be stored in workflow history)',
  },
  'manifest-no-deployment': { path: 'kubernetes.manifest', message: 'the manifest has no Deployment; it must define Deployment "api" (kubernetes.deployment)' },
};

const fixtures = (dir: string): string[] =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .sort();

function silentContext(): CommandContext {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return { out: createOutput({ stdout: sink, stderr: sink }), env: {}, connect: () => Promise.reject(new Error('no server in unit tests')) };
}

test('every invalid fixture has its expected issue, and every expected issue its fixture', () => {
  expect(fixtures('invalid')).toEqual(Object.keys(expected).sort());
});

describe.each(fixtures('invalid'))('invalid/%s.yaml', (name) => {
  const file = join(FIXTURES, 'invalid', `${name}.yaml`);

  test('the loader refuses it with exactly this path and message', async () => {
    const err = await loadSpecFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).issues).toEqual([expected[name]]);
  });

  test('shipwatch validate exits 2 naming the path', async () => {
    const err = await validateCommand({ file }, silentContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExitError);
    expect((err as ExitError).code).toBe(ExitCode.USAGE);
    expect((err as ExitError).message).toContain(`${expected[name]!.path}: ${expected[name]!.message}`);
  });
});

test.each([...fixtures('valid').map((f) => join(FIXTURES, 'valid', `${f}.yaml`)), EXAMPLE])('%s is valid', async (file) => {
  await expect(validateCommand({ file }, silentContext())).resolves.toBe(ExitCode.OK);
});

test('the new settings take their defaults: missing baseline fails, blind after pageAfter, a blind watch pages, no plan required', async () => {
  const spec = await loadSpecFile(join(FIXTURES, 'valid', 'defaults.yaml'));
  expect(spec.metrics?.missingBaseline).toBe('fail');
  expect(spec.watch).toMatchObject({ blindAfterMs: spec.watch.pageAfterMs, onBlind: 'page' });
  expect(spec.change).toBeUndefined();
});

test('the new settings are read when given, and the manifest is inlined', async () => {
  const spec = await loadSpecFile(join(FIXTURES, 'valid', 'new-fields.yaml'));
  expect(spec.metrics?.missingBaseline).toBe('skip');
  expect(spec.watch).toMatchObject({ blindAfterMs: 600_000, onBlind: 'rollback', pageAfterMs: 900_000, rollbackAfterMs: 900_000 });
  expect(spec.change).toEqual({ reference: 'REL-2026-11-30', required: true });
  expect(spec.kubernetes.manifest).toContain('kind: Deployment');
  expect(spec.metrics?.prometheusUrl).toBe('https://prometheus.example.com');
});
