/**
 * Resolves secret references (`env:NAME`, `file:PATH`) inside activities, so secret values never
 * enter workflow history and error messages name the reference, never the value.
 */
import { readFile } from 'node:fs/promises';
import { SecretUnavailableError } from './errors';

/**
 * A secret reference that cannot be resolved: names the reference and how to provide it. Its
 * failure type (SecretUnavailableError) is non-retryable: retrying will not make it appear.
 */
export class SecretNotFoundError extends SecretUnavailableError {
  constructor(
    readonly ref: string,
    message: string,
  ) {
    super(message, { details: { ref } });
    this.name = 'SecretNotFoundError';
  }
}

/**
 * A secret reference: `env:NAME` (an environment variable of the worker) or `file:PATH` (a file the
 * worker can read). The one definition: the spec schema validates with it, activities resolve by it.
 */
export const SECRET_REF_PATTERN = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

/** True for a value written as a secret reference (`env:NAME` or `file:PATH`). */
export function isSecretRef(value: string): boolean {
  return SECRET_REF_PATTERN.test(value);
}

/** Resolves one reference; throws SecretNotFoundError (never echoing a value) when it is missing. */
export async function resolveSecret(ref: string): Promise<string> {
  const colon = ref.indexOf(':');
  const scheme = colon < 0 ? '' : ref.slice(0, colon);
  const rest = colon < 0 ? '' : ref.slice(colon + 1);
  if (scheme === 'env') {
    const value = process.env[rest];
    if (rest === '' || value === undefined || value === '') {
      throw new SecretNotFoundError(
        ref,
        `secret ${ref} is not set: export ${rest || 'NAME'}=… in the environment of the worker`,
      );
    }
    return value;
  }
  if (scheme === 'file') {
    let text: string;
    try {
      text = await readFile(rest, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new SecretNotFoundError(
        ref,
        `secret ${ref} cannot be read (${code}): write the secret to ${rest} on the worker's machine`,
      );
    }
    const value = text.trim();
    if (value === '') {
      throw new SecretNotFoundError(ref, `secret ${ref} is empty: write the secret to ${rest}`);
    }
    return value;
  }
  // Never echo an unrecognised reference: it may be a literal secret pasted by mistake.
  throw new SecretNotFoundError(
    scheme === '' ? '(unrecognised)' : `${scheme}:…`,
    'a secret reference is not understood: use env:NAME or file:PATH (the value is not shown)',
  );
}

/** Resolves a map of references (e.g. a smoke suite's secrets) to their values. */
export async function resolveSecrets(refs: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, ref] of Object.entries(refs)) out[name] = await resolveSecret(ref);
  return out;
}
