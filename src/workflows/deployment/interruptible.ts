/** A cancellable piece of workflow that a condition interrupts: how a rollback request stops a running rollout step. */
import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';

/**
 * Runs `fn` in a cancellable scope that is cancelled as soon as `stop()` holds, so a rollback
 * request interrupts a running rollout step (whose activity waits for its cancellation). Returns
 * normally when it was stopped; any other failure propagates.
 */
export async function interruptible(fn: () => Promise<void>, stop: () => boolean): Promise<void> {
  const work = new CancellationScope();
  const watcher = new CancellationScope();
  const watching = watcher
    .run(async () => {
      await condition(stop);
      work.cancel();
    })
    .catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
    });
  try {
    await work.run(fn);
  } catch (err) {
    if (isCancellation(err) && stop()) return;
    throw err;
  } finally {
    watcher.cancel();
    await watching;
  }
}
