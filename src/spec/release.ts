/**
 * The release spec (`kind: Release`): several services released in order as one durable release.
 * Validated with zod like the deploy spec (unknown keys refused, every bad field named by its
 * path); each service is a deploy spec, referenced by file (loaded by the deploy spec's own loader)
 * or inline; the order is a graph checked for unknown names and cycles before anything starts.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from './duration';
import { SpecError, loadSpecFile, resolveSpec } from './load';
import type { SpecIssue, SpecOverrides } from './load';
import { duration } from './schema';
import type { DeploySpec } from './types';
import { checkGraph } from '../workflows/release/plan';
import type { ReleaseServiceSpec, ReleaseSpec } from '../workflows/release/types';

const serviceName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'expected a service name as in its deploy spec (lower-case letters, digits, "-")' });

const releaseServiceSchema = z
  .object({
    /** Path of the service's deploy spec, relative to the release file. */
    spec: z.string().min(1).optional(),
    /** The deploy spec itself, inline (relative paths inside it are relative to the release file). */
    inline: z.record(z.string(), z.unknown()).optional(),
    /** Services rolled out before this one. */
    after: z.array(serviceName).default([]),
    approval: z.enum(['required', 'none']).default('none'),
    /** Overrides of the deploy spec's release and image, as `shipwatch deploy --release/--image`. */
    release: z.string().min(1).max(128).optional(),
    image: z.string().min(1).optional(),
  })
  .strict()
  .refine((s) => (s.spec === undefined) !== (s.inline === undefined), { message: 'give either spec (a deploy spec file) or inline (a deploy spec), not both and not neither' });

export const releaseSpecSchema = z
  .object({
    apiVersion: z.literal('shipwatch.dev/v1').default('shipwatch.dev/v1'),
    kind: z.literal('Release', { message: 'expected kind: Release (a deploy spec has kind: Deployment)' }),
    name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'expected a release name: lower-case letters, digits, "-" and "."' }).max(100),
    services: z.array(releaseServiceSchema).min(1, { message: 'a release needs at least one service' }),
    onFailure: z.enum(['rollback-all', 'halt', 'continue']).default('rollback-all'),
    watch: z
      .object({
        mode: z.enum(['together', 'per-service']).default('together'),
        /** The shared window after the last service (together). */
        duration: duration.default('24h'),
        /** Together: the longest the rest of the train may take after a service entered its watch. */
        trainTimeout: duration.default('6h'),
      })
      .strict()
      .prefault({}),
    statusInterval: duration.default('10s'),
    report: z.object({ dir: z.string().default('./reports') }).strict().prefault({}),
  })
  .strict();

export type ReleaseSpecInput = z.input<typeof releaseSpecSchema>;

/** A release file that cannot be used; `issues` names every bad field. */
export class ReleaseSpecError extends SpecError {
  constructor(file: string, issues: SpecIssue[]) {
    super(file, issues);
    this.message = this.message.replace('is not a valid deploy spec', 'is not a valid release spec');
    this.name = 'ReleaseSpecError';
  }
}

const ms = (text: string): number => parseDuration(text)!;

/** Validates a parsed release document; `baseDir` resolves the referenced deploy spec files. */
export async function resolveReleaseSpec(document: unknown, options: { file?: string; baseDir?: string } = {}): Promise<ReleaseSpec> {
  const file = options.file ?? '<release>';
  const baseDir = options.baseDir ?? process.cwd();
  const parsed = releaseSpecSchema.safeParse(document);
  if (!parsed.success) {
    throw new ReleaseSpecError(file, parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
  }
  const doc = parsed.data;
  const issues: SpecIssue[] = [];
  const services: ReleaseServiceSpec[] = [];
  for (const [index, entry] of doc.services.entries()) {
    const overrides: SpecOverrides = { ...(entry.release ? { release: entry.release } : {}), ...(entry.image ? { image: entry.image } : {}) };
    const where = entry.spec ? `services.${index}.spec(${entry.spec})` : `services.${index}.inline`;
    const spec = await loadServiceSpec(entry, { baseDir, overrides }).catch((err: unknown) => {
      if (!(err instanceof SpecError)) throw err;
      issues.push(...err.issues.map((i) => ({ path: [where, i.path].filter(Boolean).join('.'), message: i.message })));
      return undefined;
    });
    if (spec) services.push({ name: spec.service, after: entry.after, approval: entry.approval, spec });
  }
  if (issues.length) throw new ReleaseSpecError(file, issues);
  for (const issue of checkGraph(services)) {
    issues.push({ path: issue.index === undefined ? 'services' : `services.${issue.index}.${issue.field === 'name' ? 'spec' : 'after'}`, message: issue.message });
  }
  if (issues.length) throw new ReleaseSpecError(file, issues);
  return {
    name: doc.name,
    services,
    onFailure: doc.onFailure,
    watch: { mode: doc.watch.mode, durationMs: ms(doc.watch.duration), trainTimeoutMs: ms(doc.watch.trainTimeout) },
    statusIntervalMs: Math.max(ms(doc.statusInterval), 1_000),
    report: doc.report,
  };
}

async function loadServiceSpec(
  entry: { spec?: string | undefined; inline?: Record<string, unknown> | undefined },
  options: { baseDir: string; overrides: SpecOverrides },
): Promise<DeploySpec> {
  if (entry.spec) return loadSpecFile(resolve(options.baseDir, entry.spec), options.overrides);
  return resolveSpec(entry.inline, { file: '<inline>', baseDir: options.baseDir, overrides: options.overrides });
}

/** Loads and validates a release file; deploy spec paths inside it are relative to the file. */
export async function loadReleaseFile(file: string): Promise<ReleaseSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ReleaseSpecError(file, [{ path: '', message: `cannot read the release spec: ${(err as Error).message}` }]);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new ReleaseSpecError(file, [{ path: '', message: `not valid YAML: ${(err as Error).message.split('\n')[0]}` }]);
  }
  return resolveReleaseSpec(document, { file, baseDir: dirname(resolve(file)) });
}
