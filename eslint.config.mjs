// Lint: type-aware rules from typescript-eslint, import cycles, and determinism rules for
// workflow code (no Node built-ins or I/O libraries under src/workflows/).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers',
  'tls', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];
const ioLibraries = ['undici', 'pg', '@kubernetes/client-node', 'pino', 'yaml', 'zod', 'commander', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-artifacts/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { typescript: true, node: true } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'import/no-cycle': 'error',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.flatMap((m) => [
              { name: m, message: 'Workflow code is deterministic: no Node built-ins. Do I/O in an activity.' },
              { name: `node:${m}`, message: 'Workflow code is deterministic: no Node built-ins. Do I/O in an activity.' },
            ]),
            ...['../activities', '../../activities'].map((name) => ({ name, message: 'Workflows import activities with `import type` only.', allowTypeImports: true })),
            ...['../spec', '../../spec'].map((name) => ({ name, message: 'The spec index pulls in the loader (I/O); workflows use spec/types and spec/duration.', allowTypeImports: true })),
            ...ioLibraries.map((m) => ({ name: m, message: 'Workflow code does no I/O: call an activity instead.', allowTypeImports: true })),
          ],
          patterns: [
            // Pure modules of constants and failure types are fine; adapters are not.
            // `../` from src/workflows, `../../` from its subfolders (src/workflows/deployment, release).
            ...['..', '../..'].flatMap((up) => [
              { group: [`${up}/activities/*`, `!${up}/activities/types`, `!${up}/activities/options`, `!${up}/activities/errors`], message: 'Workflows import activities with `import type` only.', allowTypeImports: true },
              { group: [`${up}/spec/load`, `${up}/spec/schema`, `${up}/spec/index`], message: 'The loader does I/O; workflows use spec/types and spec/duration.', allowTypeImports: true },
            ]),
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' }, { name: 'setInterval', message: 'Use sleep() in a loop.' }, { name: 'fetch', message: 'Do I/O in an activity.' }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
