import { Injectable } from '@nestjs/common';
import type { Subscription } from './subscription.js';

/**
 * The subscriptions this replica currently knows, fed by the Kubernetes watch. Fan-out and
 * workers read it; it holds no I/O so both stay simple to reason about.
 */
@Injectable()
export class SubscriptionRegistry {
  private readonly byKey = new Map<string, Subscription>();
  private readonly listeners = new Set<() => void>();

  upsert(s: Subscription): void {
    this.byKey.set(s.key, s);
    for (const l of this.listeners) l();
  }

  remove(key: string): void {
    this.byKey.delete(key);
  }

  get(key: string): Subscription | undefined {
    return this.byKey.get(key);
  }

  all(): Subscription[] {
    return [...this.byKey.values()];
  }

  /** Subscriptions whose deliveries may be sent now (not suspended). */
  active(): Subscription[] {
    return this.all().filter((s) => !s.suspend);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
