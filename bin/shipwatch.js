#!/usr/bin/env node
// The installed `shipwatch` command: runs the compiled CLI (npm run build), or the TypeScript
// source through tsx in a checkout that has not been built.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const compiled = join(__dirname, '..', 'dist', 'src', 'client.js');
if (existsSync(compiled)) {
  require(compiled)
    .main(process.argv)
    .then((code) => {
      process.exitCode = code;
    });
} else {
  const { spawnSync } = require('node:child_process');
  const tsx = join(require.resolve('tsx/package.json'), '..', 'dist', 'cli.mjs');
  const result = spawnSync(process.execPath, [tsx, join(__dirname, '..', 'src', 'client.ts'), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exitCode = result.status ?? 1;
}
