/**
 * The memory part (`npm run bench -- --only memory`): what one workflow in the worker's sticky cache
 * costs, by what its bundle holds. Each configuration runs in a process of its own
 * (bench/memory-probe.ts): N parked workflows cached, resident memory before and after, after a GC.
 * The watch windows' worker holds up to SHIPWATCH_MAX_CACHED_WORKFLOWS of them (src/worker.ts).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { ProbeConfig, ProbeResult } from './memory-probe';
import { progress } from './lib';

const CONFIGS: Omit<ProbeConfig, 'workflows'>[] = [
  { name: 'parked workflow alone, no interceptors', shipwatchModules: false, interceptors: 'none', preload: [] },
  { name: '+ the metrics workflow interceptor', shipwatchModules: false, interceptors: 'metrics', preload: [] },
  { name: '+ the metrics and OpenTelemetry tracing interceptors', shipwatchModules: false, interceptors: 'traced', preload: [] },
  { name: '+ every shipwatch workflow module, tracing off (the worker as shipped, dist/workflow-bundle-untraced.js)', shipwatchModules: true, interceptors: 'metrics', preload: [] },
  { name: '+ every shipwatch workflow module, tracing on (dist/workflow-bundle.js)', shipwatchModules: true, interceptors: 'traced', preload: [] },
];

function runProbe(config: ProbeConfig): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--require', 'tsx/cjs', join(__dirname, 'memory-probe.ts'), JSON.stringify(config)], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) return resolve(JSON.parse(line.slice('RESULT '.length)) as ProbeResult);
      reject(new Error(`memory probe "${config.name}" failed: ${err?.message ?? ''} ${stderr.slice(-400)}`));
    });
  });
}

export async function benchMemory(workflows: number): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  for (const c of CONFIGS) {
    progress(`  ${c.name}: ${workflows} workflows cached…`);
    results.push(await runProbe({ ...c, workflows }));
  }
  return results;
}
