/**
 * Reads a deploy spec file, validates it and resolves it into the plain-JSON `DeploySpec` the
 * workflow receives. Every problem is reported with the path of the bad field; nothing starts
 * until the whole file is valid.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { resolveMonitoringSettings } from '../monitoring/settings';
import { crossFieldIssues, manifestIssues, targetOf } from './checks';
import { defaultAlertRules, defaultMetricChecks } from './defaults';
import { parseDuration } from './duration';
import { issuesFrom } from './issues';
import type { SpecIssue } from './issues';
import { smokeSuiteSchema, specSchema } from './schema';
import type { ParsedSpec, SmokeStep, SmokeSuite } from './schema';
import type { DeploySpec, ResolvedEntryPoint, ResolvedUptime } from './types';

/** A spec that cannot be used; `issues` names every bad field. */
export class SpecError extends Error {
  readonly issues: SpecIssue[];
  constructor(file: string, issues: SpecIssue[]) {
    super(
      `${file} is not a valid deploy spec:\n` + issues.map((i) => `  - ${i.path || '(file)'}: ${i.message}`).join('\n'),
    );
    this.name = 'SpecError';
    this.issues = issues;
  }
}

export interface SpecOverrides {
  release?: string;
  image?: string;
}

export type { SpecIssue };

async function readYaml(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SpecError(file, [{ path: '', message: `cannot read the ${what}: ${(err as Error).message}` }]);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    const where =
      err instanceof YAMLParseError && err.linePos
        ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})`
        : '';
    throw new SpecError(file, [
      { path: '', message: `not valid YAML${where}: ${(err as Error).message.split('\n')[0]}` },
    ]);
  }
}

const ms = (text: string): number => parseDuration(text)!;

/** Validates an already-parsed document (from YAML or JSON). `baseDir` resolves relative files. */
export async function resolveSpec(
  document: unknown,
  options: { file?: string; baseDir?: string; overrides?: SpecOverrides } = {},
): Promise<DeploySpec> {
  const file = options.file ?? '<spec>';
  const baseDir = options.baseDir ?? process.cwd();
  const merged =
    document && typeof document === 'object' && !Array.isArray(document)
      ? { ...(document as Record<string, unknown>), ...definedOnly(options.overrides ?? {}) }
      : document;
  const parsed = specSchema.safeParse(merged);
  if (!parsed.success) throw new SpecError(file, issuesFrom(parsed.error, specSchema));
  const spec = parsed.data;
  const issues: SpecIssue[] = crossFieldIssues(spec);

  let suite: SmokeSuite | undefined = spec.smoke?.suite;
  if (spec.smoke?.suiteFile) {
    if (suite) issues.push({ path: 'smoke', message: 'give either suiteFile or suite, not both' });
    const suitePath = resolve(baseDir, spec.smoke.suiteFile);
    const doc = await readYaml(suitePath, 'smoke suite').catch((err: SpecError) => {
      issues.push(...err.issues.map((i) => ({ path: 'smoke.suiteFile', message: `${suitePath}: ${i.message}` })));
      return undefined;
    });
    if (doc !== undefined) {
      const parsedSuite = smokeSuiteSchema.safeParse(doc);
      if (parsedSuite.success) suite = parsedSuite.data;
      else issues.push(...issuesFrom(parsedSuite.error, smokeSuiteSchema, `smoke.suiteFile(${spec.smoke.suiteFile})`));
    }
  } else if (spec.smoke && !suite) {
    issues.push({ path: 'smoke', message: 'expected suiteFile (a path to a smoke suite YAML) or an inline suite' });
  }

  let manifest: string | undefined;
  if (spec.kubernetes.manifest) {
    const manifestPath = resolve(baseDir, spec.kubernetes.manifest);
    manifest = await readFile(manifestPath, 'utf8').catch((err: Error) => {
      issues.push({ path: 'kubernetes.manifest', message: `cannot read ${manifestPath}: ${err.message}` });
      return undefined;
    });
    if (manifest !== undefined) issues.push(...manifestIssues(spec, manifest));
  }

  if (spec.database?.backup.mode === 'pod' && !spec.database.backup.pod) {
    issues.push({
      path: 'database.backup.pod',
      message: 'mode "pod" needs the name of the database pod to run pg_dump in',
    });
  }
  if (issues.length) throw new SpecError(file, issues);

  return toDeploySpec(spec, suite, manifest);
}

/** Loads and resolves a spec file; relative paths inside it are relative to the file. */
export async function loadSpecFile(file: string, overrides: SpecOverrides = {}): Promise<DeploySpec> {
  const document = await readYaml(file, 'deploy spec');
  return resolveSpec(document, { file, baseDir: dirname(resolve(file)), overrides });
}

function definedOnly(o: SpecOverrides): SpecOverrides {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function toDeploySpec(spec: ParsedSpec, suite: SmokeSuite | undefined, manifest: string | undefined): DeploySpec {
  const target = targetOf(spec);
  const window = target.window;
  const rules = spec.watch.rules?.map((r) => ({ ...omitFor(r), forMs: ms(r.for) })) ?? [
    ...defaultAlertRules(target),
    ...spec.watch.extraRules.map((r) => ({ ...omitFor(r), forMs: ms(r.for) })),
  ];
  return {
    service: spec.service,
    namespace: spec.namespace,
    release: spec.release,
    image: spec.image,
    ...(spec.change?.reference ? { change: { ...spec.change, reference: spec.change.reference } } : {}),
    kubernetes: {
      deployment: spec.kubernetes.deployment,
      container: spec.kubernetes.container,
      ...(manifest !== undefined ? { manifest } : {}),
      stepPods: spec.kubernetes.stepPods,
      stepWindowMs: spec.kubernetes.stepPods === 0 ? 0 : ms(spec.kubernetes.stepWindow),
      progressDeadlineMs: ms(spec.kubernetes.progressDeadline),
      maxRestarts: spec.kubernetes.maxRestarts,
      logErrorPatterns: spec.kubernetes.logErrorPatterns,
    },
    serviceUrl: spec.serviceUrl.replace(/\/$/, ''),
    healthPath: spec.healthPath,
    ...(spec.database ? { database: spec.database } : {}),
    ...(spec.migrations
      ? {
          migrations: {
            command: spec.migrations.command,
            ...(spec.migrations.rollbackCommand ? { rollbackCommand: spec.migrations.rollbackCommand } : {}),
            timeoutMs: ms(spec.migrations.timeout),
            env: spec.migrations.env,
          },
        }
      : {}),
    ...(spec.smoke && suite
      ? {
          smoke: {
            suite,
            baseUrl: (spec.smoke.baseUrl ?? spec.serviceUrl).replace(/\/$/, ''),
            secrets: spec.smoke.secrets,
          },
        }
      : {}),
    ...(spec.metrics
      ? {
          metrics: {
            prometheusUrl: spec.metrics.prometheusUrl.replace(/\/$/, ''),
            selector: target.selector,
            windowMs: ms(window),
            checks: spec.metrics.checks ?? defaultMetricChecks(target),
            missingBaseline: spec.metrics.missingBaseline,
          },
        }
      : {}),
    watch: {
      durationMs: ms(spec.watch.duration),
      intervalMs: ms(spec.watch.interval),
      autoRollback: spec.watch.autoRollback,
      pageAfterMs: ms(spec.watch.escalation.pageAfter),
      rollbackAfterMs: ms(spec.watch.escalation.rollbackAfter),
      blindAfterMs: ms(spec.watch.blindAfter ?? spec.watch.escalation.pageAfter),
      onBlind: spec.watch.onBlind,
      rules,
      reviewAfterMs: ms(spec.watch.reviewAfter),
    },
    notifications: spec.onCall?.webhook ? { ...spec.notifications, pager: { webhook: spec.onCall.webhook } } : spec.notifications,
    ...(spec.tracing ? { tracing: { endpoint: spec.tracing.endpoint.replace(/\/$/, ''), sampling: spec.tracing.sampling } } : {}),
    ...(spec.uptime ? { uptime: resolveUptime(spec) } : {}),
    ...(spec.entryPoint ? { entryPoint: resolveEntryPoint(spec, suite) } : {}),
    ...(spec.onCall ? { onCall: spec.onCall } : {}),
    monitoring: resolveMonitoringSettings(spec.monitoring, spec.namespace),
    report: spec.report,
  };
}

/** The uptime probe with its defaults: the public host's health URL when there is an entry point. */
function resolveUptime(spec: ParsedSpec): ResolvedUptime {
  const u = spec.uptime!;
  const url = u.url ?? (spec.entryPoint ? `https://${spec.entryPoint.host}${spec.healthPath}` : `${spec.serviceUrl.replace(/\/$/, '')}${spec.healthPath}`);
  return { url, module: u.module, interval: u.interval, intervalMs: ms(u.interval), prober: u.prober, job: `uptime-${spec.service}`, onFailure: u.onFailure };
}

/** The entry point with its defaults, and the health step the check runs through it. */
function resolveEntryPoint(spec: ParsedSpec, suite: SmokeSuite | undefined): ResolvedEntryPoint {
  const e = spec.entryPoint!;
  const fromSuite = suite?.steps.find((s) => s.method === 'GET' && s.path === spec.healthPath);
  const healthStep: SmokeStep = fromSuite ?? { name: 'Health endpoint', method: 'GET', path: spec.healthPath, headers: {}, expect: { status: 200, json: {} }, capture: {} };
  return {
    kind: e.kind,
    name: e.name,
    namespace: e.namespace ?? spec.namespace,
    host: e.host,
    path: e.path,
    service: e.service ?? spec.service,
    ...(e.port !== undefined ? { port: e.port } : {}),
    url: (e.url ?? `https://${e.host}`).replace(/\/$/, ''),
    ...(e.releaseField ? { releaseField: e.releaseField } : {}),
    healthStep,
  };
}

function omitFor<T extends { for: string }>(rule: T): Omit<T, 'for'> {
  const { for: _for, ...rest } = rule;
  return rest;
}
