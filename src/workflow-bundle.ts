/** What the worker does to a workflow bundle made ahead before loading it. */
/**
 * A workflow bundle whose inline source map is replaced by an empty one. The SDK parses a bundle's
 * map in every workflow thread (about 25 MiB resident per thread for ours, docs/benchmarks.md) and
 * keeps it for the stack traces of workflow code; without it those traces name the bundle's lines
 * (`file`, the bundle's path), not the TypeScript sources. The SDK requires an inline map, so an
 * empty one stays.
 */
export function withoutSourceMap(code: string, file: string): string {
  const at = code.lastIndexOf('//# sourceMappingURL=data:');
  if (at < 0) return code;
  const empty = Buffer.from(JSON.stringify({ version: 3, file, sources: [], names: [], mappings: '' })).toString('base64');
  return `${code.slice(0, at)}//# sourceMappingURL=data:application/json;base64,${empty}\n`;
}
