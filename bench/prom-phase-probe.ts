/**
 * Probe (not a bench part): what Prometheus takes for the fleet's widened rule queries, asked for
 * the whole fleet at once against asked in G phases (each phase's services as a union of their
 * values), at N services. Usage: npx tsx bench/prom-phase-probe.ts N G rounds
 */
import { request } from 'undici';
import { startFleetExporter, fleetScrapeJob } from '../tools/local/fleet-exporter';
import { startPrometheus } from '../tools/local/prometheus';
import { benchSpec } from './fake-stack';
import { windowNamespaces } from './scale-evaluator';
import { planQueries } from '../src/activities/promql-batch';
import { sleep } from './lib';

const [n = 10000, g = 4, rounds = 3] = process.argv.slice(2).map(Number);

async function ask(url: string, query: string, atS: number): Promise<Record<string, unknown>> {
  const t = performance.now();
  const res = await request(new URL('/api/v1/query', url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query, time: String(atS), stats: 'all' }).toString(),
  });
  const text = await res.body.text();
  const ms = performance.now() - t;
  const a = JSON.parse(text) as { status: string; error?: string; data: { result: unknown[]; stats?: { timings: Record<string, number>; samples: { totalQueryableSamples: number } } } };
  if (a.status !== 'success') return { error: a.error?.slice(0, 200) };
  const tm = a.data.stats?.timings ?? {};
  return { ms: Math.round(ms), kb: Math.round(text.length / 1024), series: a.data.result.length, eval: Math.round((tm.evalTotalTime ?? 0) * 1000), prep: Math.round((tm.queryPreparationTime ?? 0) * 1000), samples: a.data.stats?.samples.totalQueryableSamples };
}

async function main(): Promise<void> {
  const namespaces = windowNamespaces('s0-', n);
  const services = namespaces.map((namespace) => ({ namespace, name: 'user-management' }));
  const exporter = await startFleetExporter(services, { healthy: true });
  const prometheus = await startPrometheus({ scrapeInterval: '30s', rawJobs: [fleetScrapeJob(exporter.address, Math.ceil(n / 50))] });
  try {
    const exprsOf = async (ns: string) => (await benchSpec(ns, { duration: '24h', interval: '30s' }, prometheus.url)).watch.rules.map((r) => r.expr);
    const perService = await Promise.all(namespaces.map(exprsOf));
    const fleet = planQueries(perService.flat(), 'selectors').batches.map((b) => b.query);
    const fleetUnion = planQueries(perService.flat(), 'members').batches.map((b) => b.query);
    const phases = Array.from({ length: g }, (_, p) => planQueries(perService.filter((_, i) => i % g === p).flat(), 'members').batches.map((b) => b.query));
    console.log('fleet queries', fleet.map((q) => q.slice(0, 160)));
    console.log('phase 0 query lengths', phases[0]!.map((q) => q.length), phases[0]![0]!.slice(0, 300));
    console.log('waiting 330 s for data…');
    await sleep(330_000);
    for (let r = 0; r < rounds; r++) {
      const atS = Date.now() / 1000;
      let t = performance.now();
      const together = await Promise.all(fleet.map((q) => ask(prometheus.url, q, atS)));
      console.log(`round ${r} fleet together ${Math.round(performance.now() - t)} ms`, JSON.stringify(together));
      await sleep(3000);
      t = performance.now();
      const union = await Promise.all(fleetUnion.map((q) => ask(prometheus.url, q, atS)));
      console.log(`round ${r} fleet as a union together ${Math.round(performance.now() - t)} ms`, JSON.stringify(union));
      await sleep(3000);
      for (let p = 0; p < g; p++) {
        t = performance.now();
        const each = await Promise.all(phases[p]!.map((q) => ask(prometheus.url, q, atS)));
        console.log(`round ${r} phase ${p} together ${Math.round(performance.now() - t)} ms`, JSON.stringify(each));
        await sleep(3000);
      }
    }
  } finally {
    await prometheus.stop();
    await exporter.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
