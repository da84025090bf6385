/**
 * The committed JSON Schema of the deploy spec (schema/deploy-spec.schema.json) is current, and it
 * agrees with the loader: every fixture under test/fixtures/schema/ gets the same verdict from
 * the JSON Schema (ajv, as an editor would check it) and from the loader (src/spec/load.ts).
 *   valid/        both accept
 *   invalid/      both reject (structural cases: types, required fields, patterns, enums)
 *   loader-only/  the JSON Schema accepts and the loader rejects: checks that need a file or a
 *                 second field, which JSON Schema cannot see. Listed so the gap is known, not hidden.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parse as parseYaml } from 'yaml';
import { resolveSpec, SpecError } from '../../src/spec';
import { renderSchema, SCHEMA_FILE } from '../../tools/gen-schema';

const FIXTURES = join(__dirname, '..', 'fixtures', 'schema');
const EXAMPLE = join(__dirname, '..', '..', 'examples', 'user-management', 'shipwatch.yaml');

const ajv = new Ajv2020({ strict: true, allErrors: true });
// yaml-language-server checks "uri" itself; ajv needs it named. Same test as zod's url(): it parses.
ajv.addFormat('uri', (text: string) => URL.canParse(text));
const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);

const fixtures = (dir: string): [string, unknown][] =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => [f, parseYaml(readFileSync(join(FIXTURES, dir, f), 'utf8'))]);

async function loaderVerdict(document: unknown): Promise<string> {
  try {
    await resolveSpec(document, { file: 'fixture.yaml', baseDir: FIXTURES });
    return 'accepted';
  } catch (err) {
    if (err instanceof SpecError) return `rejected: ${err.message}`;
    throw err;
  }
}

const schemaVerdict = (document: unknown): string =>
  validate(document) ? 'accepted' : `rejected: ${ajv.errorsText(validate.errors)}`;

test('schema/deploy-spec.schema.json is what `npm run schema` generates from src/spec/schema.ts', () => {
  expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(renderSchema());
});

test('there are fixtures of every kind', () => {
  expect(fixtures('valid').length).toBeGreaterThanOrEqual(3);
  expect(fixtures('invalid').length).toBeGreaterThanOrEqual(15);
  expect(fixtures('loader-only').length).toBeGreaterThanOrEqual(1);
});

describe.each(fixtures('valid'))('valid/%s', (_name, document) => {
  test('the JSON Schema and the loader both accept it', async () => {
    expect(schemaVerdict(document)).toBe('accepted');
    expect(await loaderVerdict(document)).toBe('accepted');
  });
});

describe.each(fixtures('invalid'))('invalid/%s', (_name, document) => {
  test('the JSON Schema and the loader both reject it', async () => {
    expect(schemaVerdict(document)).toMatch(/^rejected: /);
    expect(await loaderVerdict(document)).toMatch(/^rejected: /);
  });
});

describe.each(fixtures('loader-only'))('loader-only/%s', (_name, document) => {
  test('the JSON Schema accepts it (it cannot see files or other fields) and the loader rejects it', async () => {
    expect(schemaVerdict(document)).toBe('accepted');
    expect(await loaderVerdict(document)).toMatch(/^rejected: /);
  });
});

test('the sample spec names the schema for editors and passes it', () => {
  const text = readFileSync(EXAMPLE, 'utf8');
  const line = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
  expect(line?.[1]).toBe('../../schema/deploy-spec.schema.json');
  expect(join(EXAMPLE, '..', line![1]!)).toBe(SCHEMA_FILE);
  expect(schemaVerdict(parseYaml(text))).toBe('accepted');
});
