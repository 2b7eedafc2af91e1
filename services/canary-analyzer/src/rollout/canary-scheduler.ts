import { KeptWatch } from '@capstan/kube';
import { CANARY_VERSIONS, type CanaryResource, type Cluster } from '../kube/cluster.js';
import type { CanaryDriver } from './canary-driver.js';

/**
 * Watches Canaries of both API groups and keeps one timer per Canary: after every tick the
 * driver says when it wants to look again (the interval, or sooner while waiting for pods).
 */
export class CanaryScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly latest = new Map<string, CanaryResource>();
  private readonly watches: KeptWatch<CanaryResource>[] = [];
  private stopped = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly driver: CanaryDriver,
    private readonly log: { warn(m: string): void },
    /** Namespaces to drive; empty = all. */
    private readonly namespaces: readonly string[] = [],
  ) {}

  async start(): Promise<void> {
    for (const { group, version } of CANARY_VERSIONS) {
      const informer = this.cluster.canaryInformer(group, version);
      informer.on('add', (c) => this.changed(c));
      informer.on('update', (c) => this.changed(c));
      informer.on('delete', (c) => this.deleted(c));
      const watch = new KeptWatch(informer, `${group} canaries`, (m) => this.log.warn(m));
      this.watches.push(watch);
      await watch.start();
    }
  }

  /**
   * Ready once Capstan's own Canaries are listed. Flagger's CRDs may rightly be absent (no
   * Flagger, chart value flaggerCrds off); their watch keeps retrying without holding readiness.
   */
  get synced(): boolean {
    return this.watches.some((w, i) => CANARY_VERSIONS[i]?.group === 'capstan.dev' && w.synced);
  }

  /** Canaries known, by uid: for commands from people. */
  find(namespace: string, name: string): CanaryResource | undefined {
    return [...this.latest.values()].find(
      (c) => c.metadata.namespace === namespace && c.metadata.name === name,
    );
  }

  private changed(c: CanaryResource): void {
    if (this.namespaces.length > 0 && !this.namespaces.includes(c.metadata.namespace)) return;
    const uid = c.metadata.uid;
    // Kept by the informer and here: who wrote which field is nothing the analyzer reads.
    delete (c.metadata as { managedFields?: unknown }).managedFields;
    const before = this.latest.get(uid);
    this.latest.set(uid, c);
    // A status write comes back as an update; only a spec change (generation) or a deletion
    // (revertOnDeletion's finalizer holds the object) warrants an early tick.
    const deleting =
      c.metadata.deletionTimestamp !== undefined && before?.metadata.deletionTimestamp === undefined;
    if (before && before.metadata.generation === c.metadata.generation && !deleting) return;
    this.schedule(uid, 0);
  }

  private deleted(c: CanaryResource): void {
    const uid = c.metadata.uid;
    this.latest.delete(uid);
    const t = this.timers.get(uid);
    if (t) clearTimeout(t);
    this.timers.delete(uid);
    this.driver.forget(uid);
  }

  private schedule(uid: string, delayMs: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(uid);
    if (existing) clearTimeout(existing);
    this.timers.set(
      uid,
      setTimeout(() => void this.run(uid), delayMs),
    );
  }

  private async run(uid: string): Promise<void> {
    this.timers.delete(uid);
    const c = this.latest.get(uid);
    if (!c || this.stopped) return;
    let next = 5_000;
    try {
      next = await this.driver.tick(c);
    } catch (e) {
      this.log.warn(`Canary ${c.metadata.namespace}/${c.metadata.name}: ${String(e)}`);
    }
    if (this.latest.has(uid) && !this.timers.has(uid)) this.schedule(uid, next);
  }

  /** Look at a Canary now (after a command). */
  poke(uid: string): void {
    this.schedule(uid, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.watches) await w.stop();
  }
}
