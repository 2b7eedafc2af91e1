import { Logger } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { KeyedOwnership, type ShardLeases, type ShardListener } from '@capstan/kube';
import { StepHooks, type Step } from '@capstan/platform';
import type { ReconcilerConfig } from '../config.js';

/** Thrown at a write when this replica no longer holds the Sync's shard: the new owner redoes it. */
export class OwnershipLostError extends Error {
  constructor(
    readonly sync: string,
    readonly step: Step,
  ) {
    super(`${sync}: this replica no longer owns the Sync (at ${step}); its new owner reconciles it`);
    this.name = 'OwnershipLostError';
  }
}

/**
 * Which Syncs this reconciler replica reconciles and corrects drift for: the Syncs of the shards
 * it holds (ShardLeases in libs/kube; why Leases and not partitioned consumers: docs/architecture.md).
 * Also the one place reconcile steps pass through: `at(step, sync)` stops a run that lost its
 * Sync before it writes, and fires the chaos tests' step hooks.
 */
export class SyncOwnership {
  private readonly keys: KeyedOwnership;

  constructor(
    kc: KubeConfig,
    config: ReconcilerConfig,
    private readonly hooks: StepHooks = new StepHooks(config),
  ) {
    const logger = new Logger('SyncOwnership');
    this.keys = new KeyedOwnership(kc, 'reconciler', config, {
      log: (m) => logger.log(m),
      warn: (m) => logger.warn(m),
    });
  }

  get leases(): ShardLeases {
    return this.keys.leases;
  }

  owns(namespace: string, name: string): boolean {
    return this.keys.owns(`${namespace}/${name}`);
  }

  shardOf(namespace: string, name: string): number {
    return this.keys.shardOf(`${namespace}/${name}`);
  }

  onGained(listener: ShardListener): void {
    this.keys.onGained(listener);
  }

  onLost(listener: ShardListener): void {
    this.keys.onLost(listener);
  }

  /** Runs a reconcile of a Sync, counted against its shard so a handover waits for it. */
  during<T>(namespace: string, name: string, work: () => Promise<T>): Promise<T> {
    const key = `${namespace}/${name}`;
    return this.keys.during(key, async () => {
      this.hooks.step('reconciler.run-start', key);
      try {
        return await work();
      } finally {
        this.hooks.step('reconciler.run-end', key);
      }
    });
  }

  /** A step of a run: throws OwnershipLostError when the Sync's shard was lost meanwhile. */
  at(step: Step, namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (!this.keys.mayContinue(key)) throw new OwnershipLostError(key, step);
    this.hooks.step(step, key);
  }

  /** Marks a step where stopping would lose nothing (the write is already done). */
  mark(step: Step, namespace: string, name: string): void {
    this.hooks.step(step, `${namespace}/${name}`);
  }
}
