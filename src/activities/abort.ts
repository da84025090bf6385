/**
 * Waiting inside an activity that Temporal may cancel: one abortable sleep and one abort check for
 * every adapter and the activity wrappers, ending with the cancellation's own reason.
 */

/** The error an aborted wait ends with when the signal's reason is not an Error. */
export class WatchAbortedError extends Error {
  constructor(what: string) {
    super(`${what}: cancelled`);
    this.name = 'WatchAbortedError';
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new WatchAbortedError('watch');
}

/** Waits `ms`; rejects with the abort reason as soon as `signal` aborts (at once if it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortReason(signal);
}
