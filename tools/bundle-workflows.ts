/**
 * Bundles the workflow code once at build time (`npm run build`) into dist/, so a worker starts
 * without webpack in its process: faster, and a few hundred MB less memory. Two bundles, both with
 * the metrics interceptor module: dist/workflow-bundle.js also holds the tracing one and is what a
 * worker exporting traces loads; dist/workflow-bundle-untraced.js leaves it out and is what a worker
 * with tracing off loads (about 550 KiB less per cached workflow, docs/benchmarks.md). The worker
 * that loads either must register their sinks (setupObservability does).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLES, workflowInterceptorModules } from '../src/observability';

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: console.warn, error: console.error };

async function main(): Promise<void> {
  for (const traced of [true, false]) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      workflowInterceptorModules: workflowInterceptorModules(traced),
      logger: quiet,
    });
    const out = join(__dirname, '..', 'dist', traced ? WORKFLOW_BUNDLES.traced : WORKFLOW_BUNDLES.untraced);
    writeFileSync(out, code);
    console.log(`workflow bundle${traced ? '' : ' (tracing off)'}: ${out} (${Math.round(code.length / 1024)} KiB)`);
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
