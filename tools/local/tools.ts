/**
 * Finds (building on first use) the local tools that tests and the demo run: each tool's
 * `tools/build-*.sh` script is idempotent, caches by version and prints the binary's path.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const TOOLS_DIR = join(__dirname, '..');

export type ToolName = 'temporal-cli' | 'temporal-test-server' | 'temporal-server';

const SCRIPTS: Record<ToolName, string> = {
  'temporal-cli': 'build-temporal-cli.sh',
  'temporal-test-server': 'build-temporal-test-server.sh',
  'temporal-server': 'build-temporal-server.sh',
};

const resolved = new Map<ToolName, string>();

/** Returns the tool's executable path, building it into the cache first if needed (progress on stderr). */
export function ensureTool(name: ToolName): string {
  const known = resolved.get(name);
  if (known) return known;
  const out = execFileSync('bash', [join(TOOLS_DIR, SCRIPTS[name])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = out.trim().split('\n').pop()!;
  resolved.set(name, path);
  return path;
}
