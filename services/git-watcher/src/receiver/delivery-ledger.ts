import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Bus } from '@capstan/messaging';

/**
 * Which webhook deliveries were already accepted, shared by every git-watcher replica through a
 * JetStream KV bucket whose entries expire after the replay window. `create` is atomic in the
 * bucket, so of two replicas receiving the same delivery exactly one accepts it.
 */
export class DeliveryLedger {
  private constructor(private readonly kv: KV) {}

  static async open(bus: Bus, prefix: string, windowSeconds: number): Promise<DeliveryLedger> {
    const kv = await new Kvm(bus.js).create(
      `${prefix.toUpperCase().replaceAll('-', '_')}_WEBHOOK_DELIVERIES`,
      {
        history: 1,
        // As many copies as the event streams (NATS_STREAM_REPLICAS).
        replicas: bus.topology.streams.events.replicas,
        ttl: windowSeconds * 1000,
        description: 'git-watcher: webhook deliveries accepted within the replay window',
      },
    );
    return new DeliveryLedger(kv);
  }

  /** True the first time a key is recorded within the window, false for a replay. */
  async firstSeen(key: string): Promise<boolean> {
    try {
      await this.kv.create(key, '');
      return true;
    } catch (e) {
      // An existing key fails the create's expected-sequence check: the delivery was seen.
      const code = e instanceof JetStreamApiError ? e.code : undefined;
      if (code === JetStreamApiCodes.StreamWrongLastSequence) return false;
      throw e;
    }
  }
}
