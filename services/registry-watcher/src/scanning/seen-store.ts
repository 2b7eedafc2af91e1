import { Kvm, type KV } from '@nats-io/kv';
import type { Bus } from '@capstan/messaging';
import type { SeenTags } from '../domain/seen-tags.js';

/**
 * What the watcher has seen, per image repository, in a JetStream KV bucket. Why KV and not
 * Postgres: the registry-watcher already depends on NATS only, the bucket is replicated and
 * survives restarts like the stream it publishes to, and one key per repository (the whole tag →
 * digest map, ~100 KB at 1,000 tags) is read and written in one round trip.
 */
export class SeenStore {
  private constructor(private readonly kv: KV) {}

  static async open(bus: Bus, prefix: string): Promise<SeenStore> {
    const kvm = new Kvm(bus.js);
    const kv = await kvm.create(`${prefix.toUpperCase().replaceAll('-', '_')}_REGISTRY_SEEN`, {
      history: 1,
      // As many copies as the event streams (NATS_STREAM_REPLICAS).
      replicas: bus.topology.streams.events.replicas,
      description: 'registry-watcher: tags seen per image repository',
    });
    return new SeenStore(kv);
  }

  async get(repository: string): Promise<SeenTags | undefined> {
    const entry = await this.kv.get(keyOf(repository));
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    return entry.json<SeenTags>();
  }

  async put(repository: string, seen: SeenTags): Promise<void> {
    await this.kv.put(keyOf(repository), JSON.stringify(seen));
  }

  /** Adds one tag without a full listing (a notification or an event from another replica). */
  async remember(repository: string, tag: string, digest: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.kv.get(keyOf(repository));
      const current =
        entry && entry.operation === 'PUT' && entry.length > 0 ? entry.json<SeenTags>() : undefined;
      if (current?.tags[tag] === digest) return;
      const next: SeenTags = {
        tags: { ...(current?.tags ?? {}), [tag]: digest },
        baselined: current?.baselined ?? false,
      };
      try {
        if (entry) await this.kv.update(keyOf(repository), JSON.stringify(next), entry.revision);
        else await this.kv.create(keyOf(repository), JSON.stringify(next));
        return;
      } catch {
        // Someone else wrote the key meanwhile: read again and merge.
      }
    }
  }
}

/** KV keys allow `[-/_=.a-zA-Z0-9]`; a registry's `host:port` has a colon. */
function keyOf(repository: string): string {
  return repository.replaceAll(':', '=');
}
