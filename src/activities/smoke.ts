/**
 * Runs a declarative smoke suite (src/spec/schema.ts `smokeSuiteSchema`) against a base URL with
 * undici: each step's request, its expectations on status, JSON fields and latency, and values it
 * captures (a login's JWT) for later steps. Results read like the seed's "Smoke Test Results" list.
 */
import { randomBytes } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import type { SmokeStep, SmokeSuite } from '../spec/schema';
import { resolveSecret as defaultResolveSecret } from './secrets';
import type { SmokeResult, SmokeStepResult } from '../model';
import type { ProgressContext, SmokeInput, SmokePort } from './types';

export interface SmokeRunnerDeps {
  dispatcher?: Dispatcher;
  resolveSecret?: (ref: string) => Promise<string>;
  /** The `${run}` builtin: unique per run so the suite can run again against the same database. */
  runId?: () => string;
  /** Per-step timeout. */
  stepTimeoutMs?: number;
}

/** A `${name}` the suite uses that nothing defined (a capture of a failed step, a missing secret). */
export class UndefinedVariableError extends Error {
  constructor(readonly variable: string) {
    super(`\${${variable}} is not defined (captured by an earlier step that failed, or missing from smoke.secrets)`);
    this.name = 'UndefinedVariableError';
  }
}

/** Replaces ${var} and ${secret:NAME} in every string of a JSON value. */
export function interpolate(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z0-9_:.-]+)\}/g, (_m, name: string) => {
      const v = vars[name];
      if (v === undefined) throw new UndefinedVariableError(name);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars)]));
  }
  return value;
}

/** Reads a dotted path ("a.b.0.c") from a JSON value. */
export function jsonPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

function same(a: unknown, b: unknown): boolean {
  return typeof a === 'object' || typeof b === 'object' ? JSON.stringify(a) === JSON.stringify(b) : a === b;
}

const show = (value: unknown): string => (value === undefined ? 'missing' : JSON.stringify(value));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (ms: number): number => Math.round(ms);

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

export function createSmokeRunner(deps: SmokeRunnerDeps = {}): SmokePort {
  const resolve = deps.resolveSecret ?? defaultResolveSecret;
  const runId = deps.runId ?? (() => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`);
  const stepTimeoutMs = deps.stepTimeoutMs ?? 10_000;

  async function runStep(step: SmokeStep, baseUrl: string, vars: Record<string, string>, signal: AbortSignal): Promise<SmokeStepResult> {
    let path: string;
    let headers: Record<string, string>;
    let body: unknown;
    let expectJson: Record<string, unknown>;
    try {
      path = interpolate(step.path, vars) as string;
      headers = interpolate(step.headers, vars) as Record<string, string>;
      body = step.body === undefined ? undefined : interpolate(step.body, vars);
      expectJson = interpolate(step.expect.json, vars) as Record<string, unknown>;
    } catch (err) {
      if (!(err instanceof UndefinedVariableError)) throw err;
      return { name: step.name, ok: false, latencyMs: 0, detail: `SKIPPED: ${err.message}`, expected: `\${${err.variable}} defined`, actual: 'undefined' };
    }
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const started = performance.now();
    let status: number;
    let text: string;
    try {
      const res = await request(new URL(path, baseUrl), {
        method: step.method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(stepTimeoutMs)]),
        ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      if (signal.aborted) throw err;
      const latencyMs = round(performance.now() - started);
      const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${stepTimeoutMs}ms` : (err as Error).message;
      return { name: step.name, ok: false, latencyMs, detail: `FAILED: ${step.method} ${path}: ${reason}`, expected: 'a response', actual: reason };
    }
    const latencyMs = round(performance.now() - started);
    const fail = (expected: string, actual: string): SmokeStepResult => ({
      name: step.name,
      ok: false,
      status,
      latencyMs,
      detail: `FAILED: expected ${expected}, got ${actual}`,
      expected,
      actual,
    });

    const statuses = Array.isArray(step.expect.status) ? step.expect.status : [step.expect.status];
    if (!statuses.includes(status)) {
      return fail(`status ${statuses.join(' or ')}`, `${status}${text ? ` (${snippet(text)})` : ''}`);
    }
    let json: unknown;
    const needsJson = Object.keys(expectJson).length > 0 || Object.keys(step.capture).length > 0;
    if (needsJson) {
      try {
        json = JSON.parse(text);
      } catch {
        return fail('a JSON body', snippet(text) || 'an empty body');
      }
    }
    for (const [path, expected] of Object.entries(expectJson)) {
      const actual = jsonPath(json, path);
      if (expected === '*' ? !isPresent(actual) : !same(actual, expected)) {
        return fail(`${path} = ${expected === '*' ? 'a value' : show(expected)}`, `${path} = ${show(actual)}`);
      }
    }
    for (const [name, path] of Object.entries(step.capture)) {
      const value = jsonPath(json, path);
      if (!isPresent(value)) return fail(`${path} to capture as \${${name}}`, `${path} = ${show(value)}`);
      vars[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    if (step.expect.maxLatencyMs !== undefined && latencyMs > step.expect.maxLatencyMs) {
      return fail(`latency <= ${step.expect.maxLatencyMs}ms`, `${latencyMs}ms`);
    }
    return { name: step.name, ok: true, status, latencyMs, detail: step.successText ?? 'SUCCESS' };
  }

  return {
    async run(input: SmokeInput, ctx: ProgressContext): Promise<SmokeResult> {
      const suite: SmokeSuite = input.suite;
      const vars: Record<string, string> = { run: runId() };
      for (const [name, ref] of Object.entries(input.secrets)) vars[`secret:${name}`] = await resolve(ref);
      const steps: SmokeStepResult[] = [];
      for (const [index, step] of suite.steps.entries()) {
        ctx.signal.throwIfAborted();
        steps.push(await runStep(step, input.baseUrl, vars, ctx.signal));
        ctx.heartbeat({ step: index + 1, of: suite.steps.length });
      }
      const measured = steps.filter((s) => !s.detail.startsWith('SKIPPED')).map((s) => s.latencyMs);
      const averageMs = measured.length === 0 ? 0 : round(measured.reduce((a, b) => a + b, 0) / measured.length);
      const p95Ms = percentile(measured, 95);
      const limit = suite.maxAverageLatencyMs;
      const withinLimit = limit === undefined || averageMs <= limit;
      steps.push({
        name: 'Response times',
        ok: withinLimit,
        latencyMs: averageMs,
        detail: limit === undefined ? `avg ${averageMs}ms, p95 ${p95Ms}ms` : withinLimit ? `Within acceptable range (avg ${averageMs}ms)` : `FAILED: expected avg <= ${limit}ms, got avg ${averageMs}ms`,
        ...(withinLimit ? {} : { expected: `avg <= ${limit}ms`, actual: `avg ${averageMs}ms` }),
      });
      return { suite: suite.name, release: input.release, passed: steps.every((s) => s.ok), steps, averageMs, p95Ms };
    },
  };
}
