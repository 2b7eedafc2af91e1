import { Slots } from './slots.js';

/** What follows a Canary's decision: the cluster made to match, the telling, the status. */
export interface FollowWork {
  /** Routes and replicas for the newest state (a newer one replaces an older one not yet run). */
  converge?: () => Promise<void>;
  /** Telling about one recorded step (kept in order, never dropped). */
  tell?: () => Promise<void>;
  /** The status projection of the newest state (replaces an older one not yet run). */
  status?: () => Promise<void>;
}

interface Pending {
  converge?: () => Promise<void>;
  tells: (() => Promise<void>)[];
  status?: () => Promise<void>;
}

/**
 * Runs, per Canary and in order, what follows its decisions, apart from the decisions
 * themselves. A step is due an interval after the last one, whatever the API server's latency:
 * when a route apply or a status patch takes seconds (a loaded API server), the next decision
 * must not wait behind it. The cluster-facing work is latest-wins (the newest state is what the
 * cluster must show), the telling is a queue (every step is told, in order). A failure is
 * reported and the work kept for the next attempt, which the next tick's work triggers.
 */
export class StepFollowers {
  private readonly pending = new Map<string, Pending>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly onError: (uid: string, e: unknown) => Promise<void>,
    /**
     * Shared by every Canary's cluster-facing work (see Slots); apart, so routing (a rollback's
     * traffic going back to the primary) never waits behind a queue of status writes.
     */
    private readonly slots: { converge: Slots; status: Slots } = {
      converge: new Slots(Number.POSITIVE_INFINITY),
      status: new Slots(Number.POSITIVE_INFINITY),
    },
  ) {}

  follow(uid: string, work: FollowWork): void {
    const p = this.pending.get(uid) ?? { tells: [] };
    if (work.converge) p.converge = work.converge;
    if (work.tell) p.tells.push(work.tell);
    if (work.status) p.status = work.status;
    this.pending.set(uid, p);
    if (!this.running.has(uid)) this.running.set(uid, this.drain(uid));
  }

  /** Resolves once everything queued for the Canary so far has run (or failed). */
  async settled(uid: string): Promise<void> {
    for (let r = this.running.get(uid); r; r = this.running.get(uid)) await r;
  }

  forget(uid: string): void {
    this.pending.delete(uid);
  }

  private async drain(uid: string): Promise<void> {
    try {
      for (let p = this.pending.get(uid); p; p = this.pending.get(uid)) {
        this.pending.delete(uid);
        try {
          const converge = p.converge;
          if (converge) await this.slots.converge.run(converge);
          p.converge = undefined;
          while (p.tells.length > 0) {
            await p.tells[0]?.();
            p.tells.shift();
          }
          const status = p.status;
          if (status) await this.slots.status.run(status);
        } catch (e) {
          // Keep what did not run (ahead of anything queued meanwhile) for the next attempt.
          const later = this.pending.get(uid);
          this.pending.set(uid, {
            ...((later?.converge ?? p.converge) ? { converge: later?.converge ?? p.converge } : {}),
            tells: [...p.tells, ...(later?.tells ?? [])],
            ...((later?.status ?? p.status) ? { status: later?.status ?? p.status } : {}),
          });
          await this.onError(uid, e).catch(() => undefined);
          return;
        }
      }
    } finally {
      this.running.delete(uid);
    }
  }
}
