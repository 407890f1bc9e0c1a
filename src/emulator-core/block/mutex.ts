// A FIFO async lock: one holder at a time, waiters served in arrival order. The QCOW2 driver holds
// it for every request, as QEMU's qcow2 holds s->lock around metadata updates, so a request sees
// and leaves the L1/L2/refcount state whole.
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` with the lock held; the lock is released however fn ends. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
