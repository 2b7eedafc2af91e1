import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';

/** Renewals in flight at once: enough for hundreds of Leases, not a burst of hundreds. */
const RENEWALS_AT_ONCE = 16;

interface Held {
  lease: V1Lease;
  namespace: string;
  name: string;
  /** When the write that renewed it was sent (not answered): the hold counts from there. */
  renewedAtMs: number;
  /** Until when a tick may still ask for it: a Canary nobody ticks any more is let go. */
  wantedUntilMs: number;
}

/**
 * One Kubernetes Lease per Canary (`canary-<name>` in its namespace) says which replica drives
 * it, so two replicas do not both call webhooks and query Prometheus for the same step. It is an
 * optimisation, not the safety net: a replica paused past its lease could still act, and what
 * stops it from taking a step twice is the rollout stream's expected-last-sequence append. We
 * use a Lease rather than a JetStream KV entry because `kubectl get leases` shows people who
 * drives which Canary.
 *
 * A tick must not wait for the API server to drive a Canary it already holds: each held Lease is
 * renewed in the background once it is half its validity old, so a tick finds it valid and
 * asks nothing. Everything that writes one Lease (a renewal, a tick taking it) runs one at a time
 * per Lease and from the newest copy: a tick racing its own replica's renewal used to lose with
 * a 409, give the Canary up and look again 5 s later (most of the 100-Canary benchmark's late
 * steps, with rounds of 100 renewals falling behind a loaded API server).
 */
export class CanaryLeases {
  private readonly api: CoordinationV1Api;
  private readonly held = new Map<string, Held>();
  /** The write (or read-and-write) running for a Lease; the next one waits for it. */
  private readonly writing = new Map<string, Promise<boolean>>();
  private timer?: NodeJS.Timeout;
  private renewing?: Promise<void>;

  constructor(
    kc: KubeConfig,
    private readonly holder: string,
    private readonly durationSeconds: number,
    private readonly now: () => Date,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  private get durationMs(): number {
    return this.durationSeconds * 1000;
  }

  /** How long after its renewal this replica acts on a Lease: the rest is a margin for skew and a slow step. */
  private get validMs(): number {
    return this.durationMs - Math.min(3_000, this.durationMs / 3);
  }

  /** A held Lease this old is renewed, leaving time for a retry before it stops being valid. */
  private get renewAfterMs(): number {
    return this.validMs / 2;
  }

  /** Starts the background renewals (the service does; a test may drive `acquire` alone). */
  start(): void {
    this.timer ??= setInterval(
      () => {
        this.renewing ??= this.renewDue().finally(() => (this.renewing = undefined));
      },
      Math.max(200, Math.min(1_000, this.renewAfterMs / 2)),
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
  }

  /**
   * True when this replica holds (or just took) the Canary's lease. `nextTickInMs`: when the
   * caller will ask again, so the lease is kept renewed until then.
   */
  async acquire(namespace: string, canary: string, nextTickInMs = 0): Promise<boolean> {
    const key = `${namespace}/${canary}`;
    const wantedUntilMs = this.now().getTime() + nextTickInMs + 2 * this.durationMs;
    if (this.valid(key, wantedUntilMs)) return true;
    const taken = await this.exclusive(key, () =>
      this.valid(key, wantedUntilMs) ? Promise.resolve(true) : this.take(namespace, canary),
    );
    const mine = this.held.get(key);
    if (taken && mine) mine.wantedUntilMs = Math.max(mine.wantedUntilMs, wantedUntilMs);
    return taken;
  }

  /** Held and renewed recently enough that nobody else can have taken it: no API call. */
  private valid(key: string, wantedUntilMs: number): boolean {
    const mine = this.held.get(key);
    if (!mine || this.now().getTime() - mine.renewedAtMs >= this.validMs) return false;
    mine.wantedUntilMs = Math.max(mine.wantedUntilMs, wantedUntilMs);
    return true;
  }

  /** Runs `fn` after whatever is writing this Lease now. */
  private exclusive(key: string, fn: () => Promise<boolean>): Promise<boolean> {
    const prev = this.writing.get(key) ?? Promise.resolve(true);
    const next = prev.then(fn, fn);
    const tracked = next.catch(() => false);
    this.writing.set(key, tracked);
    void tracked.finally(() => {
      if (this.writing.get(key) === tracked) this.writing.delete(key);
    });
    return next;
  }

  /** Reads the Lease and takes it when it is ours, free or expired. */
  private async take(namespace: string, canary: string): Promise<boolean> {
    const name = `canary-${canary}`;
    const now = this.now();
    const renewTime = microTime(now);
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
      try {
        const created = await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: {
              name,
              namespace,
              labels: { 'app.kubernetes.io/managed-by': 'capstan-canary-analyzer' },
            },
            spec: {
              holderIdentity: this.holder,
              leaseDurationSeconds: this.durationSeconds,
              acquireTime: renewTime,
              renewTime,
            },
          },
        });
        this.remember(namespace, canary, created, now.getTime());
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 409) return false;
        throw err;
      }
    }
    const held = lease.spec?.holderIdentity;
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
    const expired =
      renewed + (lease.spec?.leaseDurationSeconds ?? this.durationSeconds) * 1000 < now.getTime();
    if (held !== this.holder && !expired) {
      this.held.delete(`${namespace}/${canary}`);
      return false;
    }
    return this.write(namespace, canary, lease, held !== this.holder);
  }

  /** Replaces the lease with us as holder; a 409 means someone else wrote it first. */
  private async write(namespace: string, canary: string, lease: V1Lease, taking: boolean): Promise<boolean> {
    const now = this.now();
    const renewTime = microTime(now);
    try {
      const written = await this.api.replaceNamespacedLease({
        name: `canary-${canary}`,
        namespace,
        body: {
          metadata: lease.metadata,
          spec: {
            holderIdentity: this.holder,
            leaseDurationSeconds: this.durationSeconds,
            renewTime,
            acquireTime: taking ? renewTime : lease.spec?.acquireTime,
            leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (taking ? 1 : 0),
          },
        },
      });
      this.remember(namespace, canary, written, now.getTime());
      return true;
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
      // Written by someone else meanwhile. Another failure (the API server away) keeps the hold
      // as it was: valid until its time runs out, renewed again by the next round.
      this.held.delete(`${namespace}/${canary}`);
      return false;
    }
  }

  private remember(namespace: string, name: string, lease: V1Lease, atMs: number): void {
    const key = `${namespace}/${name}`;
    const wantedUntilMs = this.held.get(key)?.wantedUntilMs ?? atMs + 2 * this.durationMs;
    this.held.set(key, { lease, namespace, name, renewedAtMs: atMs, wantedUntilMs });
  }

  /**
   * Renews the held Leases that are due, a few at a time. A renewal that loses a race (409:
   * written meanwhile, by a person or by another replica that found it expired) reads the Lease
   * and keeps it only if it is still ours.
   */
  private async renewDue(): Promise<void> {
    const nowMs = this.now().getTime();
    const due: string[] = [];
    for (const [key, h] of this.held) {
      if (nowMs > h.wantedUntilMs) this.held.delete(key);
      else if (nowMs - h.renewedAtMs >= this.renewAfterMs) due.push(key);
    }
    // The oldest first: they are the nearest to no longer being valid.
    due.sort((a, b) => (this.held.get(a)?.renewedAtMs ?? 0) - (this.held.get(b)?.renewedAtMs ?? 0));
    const worker = async () => {
      for (let key = due.shift(); key !== undefined; key = due.shift()) {
        const k = key;
        await this.exclusive(k, async () => {
          const h = this.held.get(k);
          // Let go meanwhile, or renewed by a tick's take while this waited.
          if (!h || this.now().getTime() - h.renewedAtMs < this.renewAfterMs) return true;
          return (await this.write(h.namespace, h.name, h.lease, false)) || this.take(h.namespace, h.name);
        }).catch(() => false);
      }
    };
    await Promise.all(Array.from({ length: RENEWALS_AT_ONCE }, worker));
  }
}

// MicroTime: the API server wants six fractional digits; the client passes the string through.
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
