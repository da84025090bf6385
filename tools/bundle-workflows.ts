/**
 * Bundles the workflow code once at build time (`npm run build`) into dist/workflow-bundle.js, so
 * a worker starts without webpack in its process: faster, and a few hundred MB less memory. The
 * bundle holds the observability interceptor modules (metrics and tracing), so the worker that
 * loads it must register their sinks (setupObservability does).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../src/observability';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: console.warn, error: console.error },
  });
  const out = join(__dirname, '..', 'dist', 'workflow-bundle.js');
  writeFileSync(out, code);
  console.log(`workflow bundle: ${out} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
