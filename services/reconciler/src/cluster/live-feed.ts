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
  /**
   * The last event per object, so a wait that subscribes just after a change still sees it. The
   * objects are the watch cache's own, so remembering them costs a map entry each.
   */
  private readonly last = new Map<string, { type: LiveEvent; object: WatchedObject }>();

  publish(key: string, type: LiveEvent, object: WatchedObject): void {
    if (type === 'delete') this.last.delete(key);
    else this.last.set(key, { type, object });
    for (const listener of this.listeners.get(key) ?? []) listener(key, type, object);
  }

  /** The last upsert seen for the object, if it still exists as far as the watch knows. */
  latest(key: string): WatchedObject | undefined {
    return this.last.get(key)?.object;
  }

  /** Objects no longer followed (their Sync moved on or went away) are forgotten. */
  forget(key: string): void {
    this.last.delete(key);
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
