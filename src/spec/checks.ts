/**
 * The loader's second pass: checks across fields that a schema of single fields cannot express.
 * Every PromQL expression parses, rule and check names are unique, the watch timings make sense,
 * an approved plan is named when required, and a manifest deploys the Deployment and container
 * the spec names. Each problem is a `SpecIssue` with the path a person has to edit.
 */
import { parseAllDocuments } from 'yaml';
import { defaultAlertRules, defaultMetricChecks } from './defaults';
import type { Target } from './defaults';
import { parseDuration } from './duration';
import type { SpecIssue } from './issues';
import { checkPromql, formatPromqlError } from './promql';
import type { ParsedSpec } from './schema';

const ms = (text: string): number => parseDuration(text)!;

/** The target the default rules and checks are built for (selector and window from the spec). */
export function targetOf(spec: ParsedSpec): Target {
  return {
    service: spec.service,
    namespace: spec.namespace,
    deployment: spec.kubernetes.deployment,
    selector: spec.metrics?.selector ?? `job="${spec.service}"`,
    window: spec.metrics?.window ?? '5m',
  };
}

function promql(expr: string, path: string): SpecIssue[] {
  const error = checkPromql(expr);
  return error ? [{ path, message: formatPromqlError(expr, error) }] : [];
}

/** Every expression parses: the spec's own rules and checks at their path, the defaults blamed on what built them. */
export function promqlIssues(spec: ParsedSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const { rules, extraRules } = spec.watch;
  rules?.forEach((r, i) => issues.push(...promql(r.expr, `watch.rules.${i}.expr`)));
  if (!rules) extraRules.forEach((r, i) => issues.push(...promql(r.expr, `watch.extraRules.${i}.expr`)));
  spec.metrics?.checks?.forEach((c, i) => issues.push(...promql(c.query, `metrics.checks.${i}.query`)));
  const target = targetOf(spec);
  const defaults = [
    ...(rules ? [] : defaultAlertRules(target).map((r) => ({ what: `default rule ${r.name}`, expr: r.expr }))),
    ...(spec.metrics && !spec.metrics.checks
      ? defaultMetricChecks(target).map((c) => ({ what: `default check "${c.name}"`, expr: c.query }))
      : []),
  ];
  const blame = spec.metrics?.selector !== undefined ? 'metrics.selector' : 'metrics.window';
  for (const d of defaults) {
    const error = checkPromql(d.expr);
    if (error) {
      issues.push({
        path: blame,
        message: `the ${d.what} built from metrics.selector and metrics.window is ${formatPromqlError(d.expr, error)} in ${d.expr}`,
      });
      break; // One is enough: they are all built the same way.
    }
  }
  return issues;
}

function duplicates(names: { name: string; path: string }[], already: Map<string, string> = new Map()): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const { name, path } of names) {
    const first = already.get(name);
    if (first !== undefined)
      issues.push({ path, message: `duplicate name "${name}" (also ${first}); give each one its own name` });
    else already.set(name, path);
  }
  return issues;
}

export function nameIssues(spec: ParsedSpec): SpecIssue[] {
  const { rules, extraRules } = spec.watch;
  const ruleIssues = rules
    ? duplicates(rules.map((r, i) => ({ name: r.name, path: `watch.rules.${i}.name` })))
    : duplicates(
        extraRules.map((r, i) => ({ name: r.name, path: `watch.extraRules.${i}.name` })),
        new Map(
          defaultAlertRules(targetOf(spec)).map((r) => [
            r.name,
            'a default rule; set watch.rules to replace the defaults',
          ]),
        ),
      );
  const checks = spec.metrics?.checks ?? [];
  return [...ruleIssues, ...duplicates(checks.map((c, i) => ({ name: c.name, path: `metrics.checks.${i}.name` })))];
}

export function timingIssues(spec: ParsedSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const w = spec.watch;
  const window = ms(w.duration);
  const interval = ms(w.interval);
  const { pageAfter, rollbackAfter } = w.escalation;
  if (window <= 0)
    issues.push({
      path: 'watch.duration',
      message: `expected a watch window above zero, e.g. "24h" (got "${w.duration}")`,
    });
  if (interval <= 0) issues.push({ path: 'watch.interval', message: 'expected an interval above zero, e.g. "30s"' });
  else if (window > 0 && interval > window) {
    issues.push({
      path: 'watch.interval',
      message: `the check interval (${w.interval}) is longer than the watch window (watch.duration ${w.duration}): no check would run; make it shorter`,
    });
  }
  if (ms(pageAfter) > ms(rollbackAfter)) {
    issues.push({
      path: 'watch.escalation.pageAfter',
      message: `pageAfter (${pageAfter}) is later than rollbackAfter (${rollbackAfter}): on-call would be paged after the rollback; make pageAfter at most rollbackAfter`,
    });
  }
  if (w.blindAfter !== undefined && ms(w.blindAfter) <= 0) {
    issues.push({
      path: 'watch.blindAfter',
      message: 'expected a duration above zero, e.g. "5m" (leave it out to use escalation.pageAfter)',
    });
  }
  return issues;
}

export function changeIssues(spec: ParsedSpec): SpecIssue[] {
  if (spec.change?.required && !spec.change.reference) {
    return [
      {
        path: 'change.reference',
        message:
          'change.required is true, so the approved plan must be named: set change.reference (e.g. REL-2025-11-15)',
      },
    ];
  }
  return [];
}

interface ManifestDeployment {
  name?: unknown;
  containers: string[];
}

function deploymentsIn(text: string): ManifestDeployment[] | SpecIssue {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return { path: 'kubernetes.manifest', message: 'the manifest is empty' };
  const found: ManifestDeployment[] = [];
  for (const doc of documents) {
    if (doc.errors.length) {
      const error = doc.errors[0]!;
      const where = error.linePos ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})` : '';
      return {
        path: 'kubernetes.manifest',
        message: `the manifest is not valid YAML${where}: ${error.message.split('\n')[0]}`,
      };
    }
    const o = doc.toJSON() as {
      kind?: unknown;
      metadata?: { name?: unknown };
      spec?: { template?: { spec?: { containers?: { name?: unknown }[] } } };
    } | null;
    if (o?.kind !== 'Deployment') continue;
    const containers = o.spec?.template?.spec?.containers;
    found.push({
      name: o.metadata?.name,
      containers: Array.isArray(containers) ? containers.map((c) => String(c?.name)) : [],
    });
  }
  return found;
}

/** The manifest deploys `kubernetes.deployment` with a container named `kubernetes.container`. */
export function manifestIssues(spec: ParsedSpec, text: string): SpecIssue[] {
  const { deployment, container } = spec.kubernetes;
  const found = deploymentsIn(text);
  if (!Array.isArray(found)) return [found];
  if (!found.length)
    return [
      {
        path: 'kubernetes.manifest',
        message: `the manifest has no Deployment; it must define Deployment "${deployment}" (kubernetes.deployment)`,
      },
    ];
  const match = found.find((d) => d.name === deployment);
  if (!match) {
    const names = found.map((d) => `"${String(d.name)}"`).join(', ');
    return [
      {
        path: 'kubernetes.manifest',
        message: `the manifest's Deployment is named ${names}, not "${deployment}" (kubernetes.deployment); make the two names the same`,
      },
    ];
  }
  if (!match.containers.includes(container)) {
    const names = match.containers.length ? match.containers.map((c) => `"${c}"`).join(', ') : 'none';
    return [
      {
        path: 'kubernetes.manifest',
        message: `Deployment "${deployment}" in the manifest has no container "${container}" (kubernetes.container); its containers: ${names}`,
      },
    ];
  }
  return [];
}

/** All second-pass checks that need only the parsed spec. */
/** An on-call rotation names where to learn who is on call or where pages go, and pages go to one place. */
export function onCallIssues(spec: ParsedSpec): SpecIssue[] {
  const onCall = spec.onCall;
  if (!onCall) return [];
  if (!onCall.schedule && !onCall.webhook) {
    return [{ path: 'onCall', message: 'name the rotation\'s schedule (onCall.schedule: file:PATH or env:NAME) or its paging webhook (onCall.webhook), or both' }];
  }
  if (onCall.webhook && spec.notifications.pager) {
    return [{ path: 'onCall.webhook', message: 'pages would go to two places: onCall.webhook and notifications.pager; keep one (onCall.webhook becomes the pager)' }];
  }
  return [];
}

/** The uptime probe's results are read from Prometheus: the spec must name one. */
export function uptimeIssues(spec: ParsedSpec): SpecIssue[] {
  if (!spec.uptime || spec.metrics) return [];
  return [{ path: 'uptime', message: "the probe's results are read from Prometheus: add metrics.prometheusUrl, or remove uptime" }];
}

export function crossFieldIssues(spec: ParsedSpec): SpecIssue[] {
  return [...timingIssues(spec), ...nameIssues(spec), ...changeIssues(spec), ...promqlIssues(spec), ...onCallIssues(spec), ...uptimeIssues(spec)];
}
