interface KeyState<T> {
  running: boolean;
  pending: { item: T; done: () => void; failed: (e: unknown) => void }[];
}

/**
 * Runs work per key one batch at a time: items submitted while a run is going are coalesced into
 * the next run (one automation run, one commit, for a burst of pushes). `submit` resolves when the
 * run that covered the item has finished.
 */
export class CoalescingQueue<T> {
  private readonly keys = new Map<string, KeyState<T>>();

  constructor(private readonly run: (key: string, items: T[]) => Promise<void>) {}

  submit(key: string, item: T): Promise<void> {
    const state = this.keys.get(key) ?? { running: false, pending: [] };
    this.keys.set(key, state);
    const promise = new Promise<void>((done, failed) => state.pending.push({ item, done, failed }));
    if (!state.running) void this.drain(key, state);
    return promise;
  }

  private async drain(key: string, state: KeyState<T>): Promise<void> {
    state.running = true;
    while (state.pending.length > 0) {
      const batch = state.pending.splice(0);
      try {
        await this.run(
          key,
          batch.map((b) => b.item),
        );
        batch.forEach((b) => b.done());
      } catch (e) {
        batch.forEach((b) => b.failed(e));
      }
    }
    state.running = false;
    this.keys.delete(key);
  }
}
