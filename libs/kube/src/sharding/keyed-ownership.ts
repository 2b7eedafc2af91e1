import type { KubeConfig } from '@kubernetes/client-node';
import { ShardLeases, type ShardListener } from './shard-leases.js';

/** The replica settings every sharded service reads (ReplicaConfig in libs/platform). */
export interface ReplicaSettings {
  EVENT_PREFIX: string;
  POD_NAME: string;
  POD_NAMESPACE: string;
  SHARDS: number;
  SHARD_LEASE_SECONDS: number;
}

/**
 * A service's share of keys (`namespace/name`) among its replicas, on ShardLeases: whether a key
 * is this replica's to work on, and the work running per shard, which a handover waits for.
 */
export class KeyedOwnership {
  readonly leases: ShardLeases;
  private readonly running = new Map<number, number>();

  constructor(
    kc: KubeConfig,
    service: string,
    settings: ReplicaSettings,
    log: { log(message: string): void; warn(message: string): void },
  ) {
    const leaseMs = settings.SHARD_LEASE_SECONDS * 1000;
    this.leases = new ShardLeases(kc, {
      namespace: settings.POD_NAMESPACE,
      group: `${settings.EVENT_PREFIX}-${service}`,
      identity: settings.POD_NAME,
      shards: settings.SHARDS,
      leaseMs,
      renewMs: Math.round(leaseMs / 6),
      busy: (shard) => (this.running.get(shard) ?? 0) > 0,
      log,
    });
  }

  owns(key: string): boolean {
    return this.leases.owns(key);
  }

  mayContinue(key: string): boolean {
    return this.leases.mayContinue(key);
  }

  shardOf(key: string): number {
    return this.leases.shardOf(key);
  }

  onGained(listener: ShardListener): void {
    this.leases.onGained(listener);
  }

  onLost(listener: ShardListener): void {
    this.leases.onLost(listener);
  }

  /** Keys of `keys` that fall in `shards`. */
  within(shards: readonly number[], keys: Iterable<string>): string[] {
    const set = new Set(shards);
    return [...keys].filter((k) => set.has(this.shardOf(k)));
  }

  /** Runs work for a key, counted against its shard so a handover waits for it. */
  async during<T>(key: string, work: () => Promise<T>): Promise<T> {
    const shard = this.leases.shardOf(key);
    this.running.set(shard, (this.running.get(shard) ?? 0) + 1);
    try {
      return await work();
    } finally {
      const left = (this.running.get(shard) ?? 1) - 1;
      if (left > 0) this.running.set(shard, left);
      else this.running.delete(shard);
    }
  }
}
