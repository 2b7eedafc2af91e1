/** Handed to a running task: lets it give its concurrency slot back while it only waits. */
export interface Slot {
  /**
   * Runs `wait` without holding a slot, then takes one again before returning. The task's key
   * stays busy meanwhile, so the same key still never runs twice at once.
   */
  aside<T>(wait: () => Promise<T>): Promise<T>;
}

/**
 * Runs tasks with bounded concurrency while never running two tasks of the same key at once,
 * in arrival order per key. A reconcile of one Sync must not interleave with another of itself.
 * The bound is for work (render, apply); a task that waits on the cluster (health) steps aside,
 * so a thousand Syncs waiting for their Deployments do not stall the ones still to apply.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly concurrency: number) {}

  run<T>(key: string, task: (slot: Slot) => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.withSlot(task));
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  private async withSlot<T>(task: (slot: Slot) => Promise<T>): Promise<T> {
    await this.acquire();
    const slot: Slot = {
      aside: async (wait) => {
        this.releaseSlot();
        try {
          return await wait();
        } finally {
          await this.acquire();
        }
      },
    };
    try {
      return await task(slot);
    } finally {
      this.releaseSlot();
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return;
    }
    // The releasing task hands its slot over directly, so `active` never overshoots.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
