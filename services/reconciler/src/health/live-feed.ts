import { Injectable } from '@nestjs/common';
import type { WatchedObject } from '@capstan/gitops-core';

export type LiveEvent = 'upsert' | 'delete';
export type LiveListener = (key: string, type: LiveEvent, object: WatchedObject) => void;

/**
 * The watch events of objects Capstan applied, by object key (see objectKey), for whoever waits
 * on particular objects. The drift monitor's per-kind watches feed it, so waiting for health
 * costs no extra watch and no polling, however many Syncs wait at once.
 */
@Injectable()
export class LiveObjectFeed {
  private readonly listeners = new Map<string, Set<LiveListener>>();

  publish(key: string, type: LiveEvent, object: WatchedObject): void {
    for (const listener of this.listeners.get(key) ?? []) listener(key, type, object);
  }

  /** Listens to the objects of `keys` until the returned function is called. */
  subscribe(keys: readonly string[], listener: LiveListener): () => void {
    for (const key of keys) {
      const set = this.listeners.get(key) ?? new Set<LiveListener>();
      set.add(listener);
      this.listeners.set(key, set);
    }
    return () => {
      for (const key of keys) {
        const set = this.listeners.get(key);
        set?.delete(listener);
        if (set?.size === 0) this.listeners.delete(key);
      }
    };
  }
}
