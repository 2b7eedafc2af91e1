import { Kvm, type KV } from '@nats-io/kv';
import type { Bus } from '@capstan/messaging';
import { AttemptRecord } from '../domain/attempts.js';

/**
 * Reconcile attempts in flight, one key per Sync (its uid), in a JetStream KV bucket: written
 * when an attempt starts and when its plan is known, deleted when its decision is out. Durable
 * like the streams (a `kill -9` leaves the key behind, which is the point) and shared by every
 * replica. What a leftover key means is decided in domain/attempts.ts.
 */
export class AttemptLedger {
  private constructor(private readonly kv: KV) {}

  static async open(bus: Bus, prefix: string): Promise<AttemptLedger> {
    const kv = await new Kvm(bus.js).create(
      `${prefix.toUpperCase().replaceAll('-', '_')}_RECONCILE_ATTEMPTS`,
      {
        history: 1,
        // As many copies as the event streams (NATS_STREAM_REPLICAS).
        replicas: bus.topology.streams.events.replicas,
        description: 'reconciler: attempts in flight per Sync (crash quarantine, interrupted applies)',
      },
    );
    return new AttemptLedger(kv);
  }

  async get(syncUid: string): Promise<AttemptRecord | undefined> {
    const entry = await this.kv.get(keyOf(syncUid));
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    const parsed = AttemptRecord.safeParse(entry.json());
    // A record we cannot read is treated as none: it must never keep a Sync from reconciling.
    return parsed.success ? parsed.data : undefined;
  }

  async put(syncUid: string, record: AttemptRecord): Promise<void> {
    await this.kv.put(keyOf(syncUid), JSON.stringify(record));
  }

  async clear(syncUid: string): Promise<void> {
    await this.kv.delete(keyOf(syncUid));
  }
}

/** KV keys allow `[-/_=.a-zA-Z0-9]`; a uid already fits, a `namespace/name` fallback too. */
function keyOf(syncUid: string): string {
  return syncUid.replace(/[^-/_=.a-zA-Z0-9]/g, '_');
}
