/**
 * Turns zod's issues into the loader's `SpecIssue`s: one dotted path per problem, and for an
 * unknown key the key's own path and the nearest known key ("kubernetes.replica: unknown key; did
 * you mean replicas?"), so a typo is refused instead of silently becoming a default.
 */
import type { z } from 'zod';

export interface SpecIssue {
  /** Dotted path of the bad field, e.g. "watch.rules.0.threshold"; "" for the whole file. */
  path: string;
  message: string;
}

/** Wrappers whose inner schema holds the object's keys. */
const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

interface Def {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  in?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The keys the object schema at `path` (inside `root`) accepts; empty when there is no object there. */
export function knownKeysAt(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = root;
  let rest = [...path];
  for (let guard = 0; node && guard < 100; guard++) {
    const def = defOf(node);
    if (WRAPPERS.has(def.type)) node = def.innerType;
    else if (def.type === 'pipe') node = def.in;
    else if (def.type === 'array' && rest.length && typeof rest[0] === 'number') {
      node = def.element;
      rest = rest.slice(1);
    } else if (def.type === 'object' && def.shape) {
      if (!rest.length) return Object.keys(def.shape);
      node = def.shape[String(rest[0])];
      rest = rest.slice(1);
    } else return [];
  }
  return [];
}

/** Levenshtein distance, case-insensitive (keys are short: a plain table is fine). */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[y.length]!;
}

/** The known key a typo most likely meant: close in spelling, or one a prefix of the other. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key, candidate);
    const close =
      distance <= Math.max(1, Math.floor(Math.max(key.length, candidate.length) / 3)) ||
      (Math.min(key.length, candidate.length) >= 4 &&
        (candidate.toLowerCase().startsWith(key.toLowerCase()) ||
          key.toLowerCase().startsWith(candidate.toLowerCase())));
    if (close && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

export function joinPath(parts: readonly PropertyKey[], prefix = ''): string {
  return [prefix, ...parts.map(String)].filter(Boolean).join('.');
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const near = nearestKey(key, known);
  if (near) return `unknown key; did you mean ${near}?`;
  return known.length ? `unknown key; the keys here are ${known.join(', ')}` : 'unknown key';
}

/** One issue per problem; an unknown key is named by its own path, with the nearest known key. */
export function issuesFrom(error: z.ZodError, root: z.ZodType, prefix = ''): SpecIssue[] {
  return error.issues.flatMap((issue): SpecIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(root, issue.path);
      return issue.keys.map((key) => ({
        path: joinPath([...issue.path, key], prefix),
        message: unknownKeyMessage(key, known),
      }));
    }
    return [{ path: joinPath(issue.path, prefix), message: issue.message }];
  });
}
