/** The synthetic fleet's exposition, whole and in slices (the scale bench scrapes it as many targets). */
import { fleetMetrics, fleetScrapeJob, numberedFleet } from '../../tools/local/fleet-exporter';

const samples = (text: string): string[] => text.split('\n').filter((l) => l && !l.startsWith('#'));

test('the slices of a fleet hold every sample of the whole exposition once, each service with its own values', () => {
  const fleet = numberedFleet(23);
  const whole = samples(fleetMetrics(fleet, 120, true));
  const slices = Array.from({ length: 5 }, (_, slice) => samples(fleetMetrics(fleet, 120, true, { slice, slices: 5 })));
  expect(slices.flat().sort()).toEqual([...whole].sort());
  // Slice 2 of 5: services 2, 7, 12, 17, 22.
  expect([...new Set(slices[2]!.map((l) => /namespace="([^"]+)"/.exec(l)![1]))]).toEqual(['fleet-2', 'fleet-7', 'fleet-12', 'fleet-17', 'fleet-22']);
});

test('the scrape job names each slice as a target of its own', () => {
  const job = fleetScrapeJob('127.0.0.1:9', 3) as { static_configs: { targets: string[]; labels: Record<string, string> }[] };
  expect(job.static_configs.map((c) => c.targets)).toEqual([['127.0.0.1:9'], ['127.0.0.1:9'], ['127.0.0.1:9']]);
  expect(job.static_configs.map((c) => c.labels)).toEqual([0, 1, 2].map((k) => ({ __param_slice: String(k), __param_slices: '3', instance: `fleet-slice-${k}` })));
});
