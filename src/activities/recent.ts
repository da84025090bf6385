/**
 * A Map as a bounded most-recently-used store (a Map iterates in insertion order): the kept query
 * plans (./metrics.ts, PlanCache) and the kept rules of the watch evaluators (./index.ts).
 */

/** Sets `key` as the map's most recent entry, then forgets the least recent ones past `max` (0 keeps none). */
export function setMostRecent<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
}
