/** What the availability probe measured while pods changed, and how two measurements add up. */

export interface AvailabilityStats {
  probes: number;
  failures: number;
  /** The first few failures, for the report. */
  failed: { at: string; error: string }[];
  averageMs: number;
  p95Ms: number;
}

/** How many failed probes a measurement keeps for the report. */
export const MAX_FAILED_PROBES = 10;

/**
 * Two measurements as one: probes and failures add up, the average is weighted by probes, the
 * p95 is the worse of the two (an upper bound: the samples are gone), the first failures are kept.
 */
export function mergeAvailability(a: AvailabilityStats | undefined, b: AvailabilityStats | undefined): AvailabilityStats | undefined {
  if (!a || !b) {
    const one = a ?? b;
    return one && { ...one, failed: one.failed.slice(0, MAX_FAILED_PROBES) };
  }
  const probes = a.probes + b.probes;
  return {
    probes,
    failures: a.failures + b.failures,
    failed: [...a.failed, ...b.failed].slice(0, MAX_FAILED_PROBES),
    averageMs: probes === 0 ? 0 : (a.averageMs * a.probes + b.averageMs * b.probes) / probes,
    p95Ms: Math.max(a.p95Ms, b.p95Ms),
  };
}
