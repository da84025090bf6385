/**
 * Generates schema/deploy-spec.schema.json, the JSON Schema of the deploy spec, from the zod
 * schema the loader validates with (src/spec/schema.ts). `npm run schema` rewrites the file;
 * `npm run schema -- --check` exits 1 when the committed file is stale (test/unit/json-schema.test.ts
 * checks the same). Editors pick it up from the `# yaml-language-server: $schema=…` line in a spec.
 *
 * The zod schema is exported as its *input* (what a user writes: defaulted fields optional).
 * Checks zod cannot express in JSON Schema are added here: the duration grammar of
 * src/spec/duration.ts as a pattern. Checks that need files or other fields (the loader's second
 * pass: smoke suite files, the manifest, backup mode "pod" needing a pod) stay loader-only.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { duration, specSchema } from '../src/spec/schema';

export const SCHEMA_FILE = join(__dirname, '..', 'schema', 'deploy-spec.schema.json');
export const SCHEMA_ID = 'https://shipwatch.dev/schema/deploy-spec.schema.json';

/** The grammar parseDuration accepts ("0", "30s", "1h30m", "1.5h"), surrounding blanks allowed. */
export const DURATION_PATTERN = '^\\s*(0|(\\d+(\\.\\d+)?(ms|s|m|h|d))+)\\s*$';

type JsonObject = Record<string, unknown>;

/** Removes zod's non-standard `format` values (e.g. "starts_with", already a `pattern`). */
function dropNonStandardFormats(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(dropNonStandardFormats);
  if (!node || typeof node !== 'object') return;
  const o = node as JsonObject;
  if (o.format === 'starts_with' || o.format === 'ends_with' || o.format === 'includes') delete o.format;
  Object.values(o).forEach(dropNonStandardFormats);
}

export function deploySpecJsonSchema(): JsonObject {
  const generated = z.toJSONSchema(specSchema, {
    io: 'input',
    target: 'draft-2020-12',
    override: (ctx) => {
      if (ctx.zodSchema === duration) {
        ctx.jsonSchema.pattern = DURATION_PATTERN;
        ctx.jsonSchema.description = 'A duration such as "30s", "10m", "24h", "7d" or "1h30m".';
      }
    },
  }) as JsonObject;
  dropNonStandardFormats(generated);
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: SCHEMA_ID,
    title: 'shipwatch deploy spec',
    description:
      'One release of one service for `shipwatch deploy -f`. Generated from src/spec/schema.ts by `npm run schema`; do not edit by hand.',
    ...rest,
  };
}

export function renderSchema(): string {
  return `${JSON.stringify(deploySpecJsonSchema(), null, 2)}\n`;
}

function main(): void {
  const text = renderSchema();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {
      // Missing counts as stale.
    }
    if (current !== text) {
      console.error(`${SCHEMA_FILE} is stale: run 'npm run schema' and commit the result.`);
      process.exit(1);
    }
    console.log(`${SCHEMA_FILE} is current.`);
    return;
  }
  writeFileSync(SCHEMA_FILE, text);
  console.log(`wrote ${SCHEMA_FILE}`);
}

if (require.main === module) main();
